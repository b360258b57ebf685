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
        counts = [len(row) for row in csv.reader(lines, delimiter=d) if row]
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
    the first row with the most filled cells.
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
    widest = max(filled(r) for r in sample)
    return next(i for i, r in enumerate(sample) if filled(r) == widest)


def read_csv_text(text: str, known: set[str] | None = None, utf8: bytes | None = None
                  ) -> tuple[pl.DataFrame, str, int]:
    """Parse decoded CSV text; `utf8`, when given, is the same text as UTF-8 bytes (no copy)."""
    lines = text[:200_000].splitlines()[:TITLE_SCAN_ROWS + 5]
    if not any(line.strip() for line in lines):
        raise FileNotLoadable("empty file")
    delim = sniff_delimiter(lines)
    sample = list(csv.reader(lines, delimiter=delim))
    skip = header_row(sample, known)
    frame = pl.read_csv(io.BytesIO(utf8 if utf8 is not None else text.encode("utf-8")), separator=delim, skip_rows=skip,
                        infer_schema=False, truncate_ragged_lines=True,
                        quote_char='"', raise_if_empty=False)
    frame = _unique_headers(frame)
    first_data_line = skip + 2  # 1-based line of the first data row (no embedded newlines assumed)
    frame = frame.with_row_index(LINE, offset=first_data_line).with_columns(pl.col(LINE).cast(pl.Int64))
    return frame, delim, skip + 1


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
    their top-left value, title rows above the header are skipped."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as e:  # zip/xml errors: not a workbook we can read
        raise FileNotLoadable(f"cannot open workbook: {e}") from e
    if sheet is None:
        ws = wb.worksheets[0]
    elif sheet in wb.sheetnames:
        ws = wb[sheet]
    elif str(sheet).isdigit() and 1 <= int(sheet) <= len(wb.worksheets):
        ws = wb.worksheets[int(sheet) - 1]
    else:
        raise FileNotLoadable(f"no sheet {sheet!r}; sheets: {', '.join(wb.sheetnames)}")
    merged = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    for r0, c0, r1, c1 in merged:
        top_left = rows[r0 - 1][c0 - 1]
        for r in range(r0 - 1, r1):
            for c in range(c0 - 1, c1):
                rows[r][c] = top_left
    rows = [[_cell_text(v) for v in r] for r in rows]
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise FileNotLoadable("empty sheet")
    h = header_row(rows, known)
    header = rows[h]
    width = max((i + 1 for i, c in enumerate(header) if c), default=0)
    names = _dedupe([str(c).strip() if c else f"column_{i + 1}" for i, c in enumerate(header[:width])])
    data = [(r + [None] * width)[:width] for r in rows[h + 1:]]
    frame = pl.DataFrame(data, schema={n: pl.Utf8 for n in names}, orient="row")
    frame = frame.with_columns(pl.int_range(h + 2, h + 2 + frame.height, dtype=pl.Int64).alias(LINE))
    notes = [f"{len(merged)} merged ranges filled"] if merged else []
    return RawTable(frame, "xlsx", None, ws.title, h + 1, notes)


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
    fast = _read_utf8(data, known)
    if fast is not None:
        return fast
    text, enc = decode(data)
    utf8 = None
    if enc.startswith("utf-8") and "gbk" not in enc:  # polars can take the bytes as they are
        utf8 = memoryview(data)[3:] if enc == "utf-8-sig" else data
    frame, delim, header_line = read_csv_text(text, known, utf8)
    return RawTable(frame, enc, delim, None, header_line)


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
            return None
        head = head[:cut + 1]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        frame, delim, header_line = read_csv_text(text, known, body)
    except pl.exceptions.ComputeError as e:
        if "utf-8" in str(e).lower() or "utf8" in str(e).lower():
            return None
        raise
    return RawTable(frame, "utf-8-sig" if bom else "utf-8", delim, None, header_line)
