"""Read a county's export file into a frame of text columns, losing nothing.

Every cell comes back as text (or null): typing is the rules' job, so a bad cell is kept as
written and can be quarantined with the raw row. Each frame carries `__line`, the 1-based
line (CSV) or row (XLSX) number a clerk sees when opening the file.

Encodings: DuckDB and polars' lazy reader are UTF-8 only, so CSV bytes are decoded here:
UTF-8 (± BOM), GB18030 (± its BOM; GBK is a subset), and the mixed case seen in the wild, a
UTF-8 BOM followed by a GBK body. The text is re-encoded as UTF-8 for polars' fast parser.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import polars as pl

LINE = "__line"
UTF8_BOM = b"\xef\xbb\xbf"
GB18030_BOM = b"\x84\x31\x95\x33"
DELIMITERS = ",\t;|"
TITLE_SCAN_ROWS = 15
HEAD_BYTES = 200_000  # decoded in Python to find the delimiter and header row
SNIFF_LINE_CHARS = 65_536  # each sample line is cut here before sniffing (csv's field limit is 128 K)
MAX_COLUMNS = 1_000        # a wider header is not a county export (and a sniffing/memory hazard)
MAX_XLSX_ROWS = 500_000    # larger exports come as CSV: a workbook row costs far more memory
MAX_XLSX_CELLS = 20_000_000  # rows × columns as padded (e.g. 500 000 × 40)
MAX_XLSX_UNCOMPRESSED = 512 * 2**20  # the zip's declared sizes, summed, checked before opening
EXTRA = "__extra_fields"   # the column that catches fields beyond the header (see read_csv_text)


class FileNotLoadable(ValueError):
    """The file as a whole cannot be read (exit code 2); nothing is loaded."""


@dataclass
class RawTable:
    frame: pl.DataFrame            # text columns named by the file's headers, plus __line
    encoding: str = "utf-8"
    delimiter: str | None = None
    sheet: str | None = None
    header_line: int = 1
    notes: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)   # the header row as written, in column order
    too_many_fields: list[int] = field(default_factory=list)  # lines with more fields than the header


def decode(data: bytes) -> tuple[str, str]:
    """Bytes → (text, encoding name) for UTF-8/GBK/GB18030 with or without a BOM."""
    if data.startswith(GB18030_BOM):
        return data[4:].decode("gb18030"), "gb18030-bom"
    bom = data.startswith(UTF8_BOM)
    body = data[3:] if bom else data
    try:
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("gb18030"), "utf-8-bom+gbk" if bom else "gb18030"
    except UnicodeDecodeError as e:
        raise FileNotLoadable(f"not UTF-8, GBK or GB18030 text (byte {e.start}: "
                              f"{body[e.start:e.start + 4]!r})") from e


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample lines most consistently (comma on a tie)."""
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=d) if row]
        except csv.Error:  # e.g. an unbalanced quote in a cut line: this delimiter tells nothing
            continue
        if not counts:
            continue
        widest = max(counts)
        score = (sum(1 for c in counts if c == widest) if widest > 1 else 0, widest)
        if score > best_score:
            best, best_score = d, score
    return best


def header_row(rows: list[list[str]], known: set[str] | None = None) -> int:
    """Index of the header among the first rows: title rows above it have fewer filled cells.

    With known header names (from the profiles) the row naming most of them wins; otherwise
    the first row with as many filled cells as the rows usually have.
    """
    from etl.profiles import normalise_header

    def filled(r):
        return sum(1 for c in r if c not in (None, ""))

    sample = rows[:TITLE_SCAN_ROWS]
    if not sample:
        return 0
    if known:
        hits = [sum(1 for c in r if c and normalise_header(str(c)) in known) for r in sample]
        if max(hits) >= 2:
            return hits.index(max(hits))
    # the first row as wide as the rows usually are (the most common width, the wider on a tie):
    # title rows are narrower, and one row with a stray extra field must not pass for the header
    widths = [filled(r) for r in sample]
    counts = {w: widths.count(w) for w in widths if w}
    if not counts:
        return 0
    usual = max(counts, key=lambda w: (counts[w], w))
    return next(i for i, w in enumerate(widths) if w >= usual)


def read_csv_text(text: str, known: set[str] | None = None, utf8: bytes | None = None
                  ) -> tuple[pl.DataFrame, str, int, list[str], list[int]]:
    """Parse decoded CSV text; `utf8`, when given, is the same text as UTF-8 bytes (no copy).

    Returns (frame, delimiter, header line, header names as written, lines with more fields
    than the header). Only a bounded sample (TITLE_SCAN_ROWS + 5 lines, each cut at
    SNIFF_LINE_CHARS) is sniffed, so a 10 MB line or a 100 000-column header cannot exhaust it.
    """
    head = text[:HEAD_BYTES]
    if len(text) > HEAD_BYTES and "\n" not in head and "\r" not in head:
        raise FileNotLoadable(f"no line break in the first {HEAD_BYTES // 1000} KB: not a table export "
                              "(one line longer than that cannot be a header)")
    lines = head.splitlines()[:TITLE_SCAN_ROWS + 5]
    if not any(line.strip() for line in lines):
        raise FileNotLoadable("empty file")
    delim = sniff_delimiter([line[:SNIFF_LINE_CHARS] for line in lines])
    try:
        sample = list(csv.reader([line[:SNIFF_LINE_CHARS] for line in lines], delimiter=delim))
    except csv.Error as e:
        raise FileNotLoadable(f"cannot split the first lines into columns: {e}") from e
    skip = header_row(sample, known)
    if len(lines[skip]) > SNIFF_LINE_CHARS:
        raise FileNotLoadable(f"header (line {skip + 1}) is longer than {SNIFF_LINE_CHARS // 1024} K "
                              "characters: not a table export")
    headers = [c.strip() for c in sample[skip]]
    if len(headers) > MAX_COLUMNS:
        raise FileNotLoadable(f"header (line {skip + 1}) has {len(headers)} columns; at most {MAX_COLUMNS}")
    buf = utf8 if utf8 is not None else text.encode("utf-8")
    ragged: list[int] = []
    first_data_line = skip + 2  # 1-based line of the first data row (no embedded newlines assumed)
    try:
        frame = _polars_csv(buf, delim, skip, truncate=False)
    except pl.exceptions.ComputeError as e:
        if "more fields" not in str(e):
            raise
        # a row with more fields than the header (an unquoted comma in a text): polars would
        # drop its tail silently, so the header gets one more column that catches the spill
        frame = _polars_csv(_with_extra_header(bytes(buf), skip, delim), delim, skip, truncate=True)
        spilled = frame.with_row_index("__i").filter(pl.col(EXTRA).is_not_null())["__i"]
        ragged = [int(i) + first_data_line for i in spilled]
        frame = frame.drop(EXTRA)
    frame = _unique_headers(frame)
    frame = frame.with_row_index(LINE, offset=first_data_line).with_columns(pl.col(LINE).cast(pl.Int64))
    return frame, delim, skip + 1, headers, ragged


def _polars_csv(buf, delim: str, skip: int, truncate: bool) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(buf), separator=delim, skip_rows=skip, infer_schema=False,
                       truncate_ragged_lines=truncate, quote_char='"', raise_if_empty=False)


def _with_extra_header(buf: bytes, skip: int, delim: str) -> bytes:
    """The file with one more header column, EXTRA, at the end of the header line."""
    start = 0
    for _ in range(skip):
        start = buf.index(b"\n", start) + 1
    end = buf.find(b"\n", start)
    end = len(buf) if end < 0 else end
    if end > start and buf[end - 1:end] == b"\r":
        end -= 1
    return buf[:end] + delim.encode() + EXTRA.encode() + buf[end:]


def _cell_text(v) -> str | None:
    """Spreadsheet cell → text; dates as ISO text, whole floats without '.0'."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (date, time)):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, bool):
        return "是" if v else "否"
    s = str(v)
    return s if s.strip() else None


def read_xlsx(path: Path, sheet: str | None = None, known: set[str] | None = None) -> RawTable:
    """First sheet (or `sheet` by name or 1-based number); merged cells are filled from
    their top-left value, title rows above the header are skipped.

    Streamed (openpyxl read-only): a workbook is a zip, so a few KB can declare a sheet of
    16 384 columns × 1 048 576 rows. The zip's declared sizes, the sheet's dimension and every
    row read are checked against MAX_XLSX_UNCOMPRESSED, MAX_COLUMNS and MAX_XLSX_ROWS."""
    import openpyxl

    _check_zip(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zip/xml errors: not a workbook we can read
        raise FileNotLoadable(f"cannot open workbook: {e}") from e
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        elif str(sheet).isdigit() and 1 <= int(sheet) <= len(wb.worksheets):
            ws = wb.worksheets[int(sheet) - 1]
        else:
            raise FileNotLoadable(f"no sheet {sheet!r}; sheets: {', '.join(wb.sheetnames)}")
        _check_size(ws.max_row, ws.max_column, "the sheet's dimension declares")
        merged = _merged_ranges(wb, ws)
        try:
            rows = _sheet_rows(wb, ws)
        except FileNotLoadable:
            raise
        except Exception as e:  # damaged sheet XML
            raise FileNotLoadable(f"cannot read sheet {ws.title!r}: {e}") from e
        title = ws.title
    finally:
        wb.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise FileNotLoadable("empty sheet")
    width = max(len(r) for r in rows)
    # clamped to the cells read (a merge may claim the whole sheet), and all of it bounded: two
    # cells far apart span rows × columns that padding and filling would have to create
    merged = [(r0, c0, min(r1, len(rows)), min(c1, width)) for r0, c0, r1, c1 in merged
              if r0 <= len(rows) and c0 <= width]
    spans = len(rows) * width + sum((r1 - r0 + 1) * (c1 - c0 + 1) for r0, c0, r1, c1 in merged)
    if spans > MAX_XLSX_CELLS:
        raise FileNotLoadable(f"the sheet spans {len(rows)} rows × {width} columns (merged ranges included: "
                              f"{spans} cells); at most {MAX_XLSX_CELLS}: delete stray cells or save it as CSV")
    rows = [r + [None] * (width - len(r)) for r in rows]
    for r0, c0, r1, c1 in merged:
        top_left = rows[r0 - 1][c0 - 1]
        for r in range(r0 - 1, r1):
            for c in range(c0 - 1, c1):
                rows[r][c] = top_left
    h = header_row(rows, known)
    header = rows[h]
    width = max((i + 1 for i, c in enumerate(header) if c), default=0)
    headers = [str(c).strip() if c else f"column_{i + 1}" for i, c in enumerate(header[:width])]
    names = _dedupe(headers)
    data = [r[:width] for r in rows[h + 1:]]
    frame = pl.DataFrame(data, schema={n: pl.Utf8 for n in names}, orient="row")
    frame = frame.with_columns(pl.int_range(h + 2, h + 2 + frame.height, dtype=pl.Int64).alias(LINE))
    notes = [f"{len(merged)} merged ranges filled"] if merged else []
    return RawTable(frame, "xlsx", None, title, h + 1, notes, headers)


def _sheet_rows(wb, ws) -> list[list]:
    """The sheet's rows as lists of text, from openpyxl's streaming parser: it yields only the
    rows and cells present, so a far cell is caught by its own row and column number before
    anything is padded (openpyxl's own iter_rows yields every missing row up to it)."""
    from openpyxl.worksheet._reader import WorkSheetParser

    rows: list[list] = []
    with wb._archive.open(ws._worksheet_path) as src:
        parser = WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for idx, cells in parser.parse():
            present = [c for c in cells if c["value"] is not None]
            if not present:
                continue
            far = max(c["column"] for c in present)
            _check_size(idx, far, f"a cell in row {idx} makes the sheet at least")
            row = [None] * far
            for c in present:
                row[c["column"] - 1] = _cell_text(c["value"])
            rows.extend([] for _ in range(idx - 1 - len(rows)))  # rows the file leaves out
            rows.append(row)
    return rows


def _check_size(rows: int | None, cols: int | None, what: str) -> None:
    if cols and cols > MAX_COLUMNS:
        raise FileNotLoadable(f"{what} {cols} columns; at most {MAX_COLUMNS} (is a stray cell far to the "
                              "right? delete the empty columns and save again)")
    if rows and rows > MAX_XLSX_ROWS:
        raise FileNotLoadable(f"{what} {rows} rows; at most {MAX_XLSX_ROWS} in a workbook: save it as CSV")


def _check_zip(path: Path) -> None:
    """Refuse a workbook whose members declare more than MAX_XLSX_UNCOMPRESSED bytes in all
    (a zip bomb) before any XML is parsed; zipfile stops reading a member at its declared size."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            declared = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise FileNotLoadable(f"cannot open workbook: {e}") from e
    if declared > MAX_XLSX_UNCOMPRESSED:
        raise FileNotLoadable(f"workbook unpacks to {declared / 2**20:.0f} MB; at most "
                              f"{MAX_XLSX_UNCOMPRESSED // 2**20} MB: save it as CSV")


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _merged_ranges(wb, ws) -> list[tuple[int, int, int, int]]:
    """(min_row, min_col, max_row, max_col) of each merged range: read-only sheets do not parse
    them, so the sheet's XML is scanned in blocks for <mergeCell ref="A1:C3"/>."""
    from openpyxl.utils import column_index_from_string as col

    found, tail = [], b""
    try:
        with wb._archive.open(ws._worksheet_path) as src:
            for block in iter(lambda: src.read(1 << 20), b""):
                chunk = tail + block
                for m in _MERGE.finditer(chunk):
                    c0, r0, c1, r1 = m.group(1, 2, 3, 4)
                    found.append((int(r0), col(c0.decode()), int(r1 or r0), col((c1 or c0).decode())))
                tail = chunk[-200:]  # a tag cut by the block boundary is whole in the next chunk
                last = max((m.end() for m in _MERGE.finditer(tail)), default=0)
                tail = tail[last:]
    except (AttributeError, KeyError, ValueError):  # another openpyxl: no merged cells filled
        return []
    return sorted(set(found))


def read_parquet(path: Path) -> RawTable:
    try:
        df = pl.read_parquet(path)
    except Exception as e:
        raise FileNotLoadable(f"cannot read parquet: {e}") from e
    df = df.with_columns(_as_text(c, dt) for c, dt in df.schema.items())
    return RawTable(df.with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64)),
                    "parquet", None, None, 0)


def _as_text(c: str, dt) -> pl.Expr:
    if dt == pl.Datetime or isinstance(dt, pl.Datetime):
        return pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.f").alias(c)
    return pl.col(c).cast(pl.Utf8).alias(c)


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n}_{k + 1}")
    return out


def _unique_headers(frame: pl.DataFrame) -> pl.DataFrame:
    """Headers without surrounding spaces (kept as read if trimming would make two equal)."""
    return frame.rename(dict(zip(frame.columns, [c.strip() for c in frame.columns]))) \
        if len({c.strip() for c in frame.columns}) == frame.width else frame


def read_file(path: str | Path, sheet: str | None = None, known: set[str] | None = None) -> RawTable:
    """Read CSV/TXT/TSV, XLSX or Parquet into text columns + __line (see module doc)."""
    path = Path(path)
    if not path.exists():
        raise FileNotLoadable(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, sheet, known)
    if suffix == ".parquet":
        return read_parquet(path)
    if suffix == ".xls":
        raise FileNotLoadable("old .xls workbooks are not supported: save as .xlsx or CSV")
    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04":  # a workbook with the wrong extension
        return read_xlsx(path, sheet, known)
    if b"\x00" in data[:4096]:
        raise FileNotLoadable("binary file (UTF-16 or not text): save as CSV UTF-8")
    nul = data.find(b"\x00")  # no text encoding read here has a NUL byte: a damaged file
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise FileNotLoadable(f"NUL byte at line {line} (byte {nul}): the file is "
                              "damaged or not text; nothing was loaded")
    fast = _read_utf8(data, known)
    if fast is not None:
        return fast
    text, enc = decode(data)
    utf8 = None
    if enc.startswith("utf-8") and "gbk" not in enc:  # polars can take the bytes as they are
        utf8 = memoryview(data)[3:] if enc == "utf-8-sig" else data
    frame, delim, header_line, headers, ragged = read_csv_text(text, known, utf8)
    return RawTable(frame, enc, delim, None, header_line, headers=headers, too_many_fields=ragged)


def _read_utf8(data: bytes, known: set[str] | None) -> RawTable | None:
    """UTF-8 text parsed straight from its bytes, without decoding the whole file in Python
    (seconds for a 500 MB file): the head (header, title rows) is decoded strictly here and
    polars' parser rejects any invalid UTF-8 in the data. None: not UTF-8 (or a head without
    a line break), so the caller decodes it the slow way (GBK/GB18030, mixed)."""
    if data.startswith(GB18030_BOM):
        return None
    bom = data.startswith(UTF8_BOM)
    body = memoryview(data)[3:] if bom else memoryview(data)
    head = bytes(body[:HEAD_BYTES])
    if len(body) > HEAD_BYTES:
        cut = head.rfind(b"\n")
        if cut < 0:
            if b"\r" not in head:
                raise FileNotLoadable(f"no line break in the first {HEAD_BYTES // 1000} KB: not a table "
                                      "export (one line longer than that cannot be a header)")
            return None
        head = head[:cut + 1]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        frame, delim, header_line, headers, ragged = read_csv_text(text, known, body)
    except pl.exceptions.ComputeError as e:
        if "utf-8" in str(e).lower() or "utf8" in str(e).lower():
            return None
        raise
    return RawTable(frame, "utf-8-sig" if bom else "utf-8", delim, None, header_line, headers=headers,
                    too_many_fields=ragged)
