"""Table files for people: CSV (UTF-8 with BOM, so Excel opens Chinese) and XLSX.

Text cells that start with = + - @ are prefixed with a quote so a spreadsheet never runs
them as formulas (CSV/formula injection, e.g. "=cmd|' /C calc'!A0"). The app's download
buttons and `python -m warehouse export` both write through here.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"


def inert_text(text):
    """One text (a title line, a header): quoted when a spreadsheet would run it as a formula."""
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def inert(df: pl.DataFrame) -> pl.DataFrame:
    """Neutralise formula-looking text cells and headers (numbers are left alone). Every CSV
    and XLSX the product writes goes through here; categorical and list columns are written
    as text first, so none slips past."""
    df = df.with_columns(
        pl.col(c).cast(pl.Utf8) if isinstance(dt, (pl.Categorical, pl.Enum))
        else pl.col(c).list.eval(pl.element().cast(pl.Utf8)).list.join("; ")
        for c, dt in df.schema.items() if isinstance(dt, (pl.Categorical, pl.Enum, pl.List)))
    df = df.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, dt in df.schema.items() if dt == pl.Utf8)
    return df.rename({c: inert_text(c) for c in df.columns if inert_text(c) != c})


def to_csv(df: pl.DataFrame) -> bytes:
    return b"\xef\xbb\xbf" + inert(df).write_csv().encode("utf-8")


def to_xlsx(df: pl.DataFrame, sheet: str = "data") -> bytes:
    buf = io.BytesIO()
    inert(df).write_excel(buf, worksheet=sheet[:31], autofit=True)
    return buf.getvalue()


# ------------------------------------------------------------------ presented files
# A Sheet (warehouse.export_format.present) carries the title lines and the column formats.

_XLSX_FORMATS = {"int": "#,##0", "num1": "0.0", "num2": "0.00", "pct": "0.0",
                 "dt": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd", "month": "yyyy-mm"}
XLSX_MAX_ROWS = 1_048_576


def sheet_csv(sheet) -> bytes:
    """CSV for people: UTF-8 with BOM, the title lines, a blank line, then the table."""
    from warehouse.export_format import HEADER_ROW

    frame = inert(sheet.frame)
    head = [inert_text(x) for x in [sheet.title, *sheet.lines]][:HEADER_ROW]
    head += [""] * (HEADER_ROW - len(head))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[line] if line else [] for line in head])
    top = out.getvalue()
    body = frame.write_csv(datetime_format="%Y-%m-%d %H:%M", date_format="%Y-%m-%d")
    return b"\xef\xbb\xbf" + (top + body).encode("utf-8")


def sheet_xlsx(sheet) -> bytes:
    """XLSX for people: title, filter/as-of/source rows, the header frozen with an autofilter,
    number formats per column, the sheet named after the dataset. Written row by row in
    xlsxwriter's constant-memory mode, so a large case list does not sit in memory twice."""
    import xlsxwriter

    from warehouse.export_format import HEADER_ROW

    frame = inert(sheet.frame)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "in_memory": True,
                                   "default_date_format": "yyyy-mm-dd hh:mm"})
    ws = wb.add_worksheet(sheet.sheet_name)
    bold = wb.add_format({"bold": True, "font_size": 14})
    grey = wb.add_format({"font_color": "#555555"})
    head = wb.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1, "text_wrap": True,
                          "valign": "vcenter"})
    fmts = {c: wb.add_format({"num_format": _XLSX_FORMATS[f]}) if f in _XLSX_FORMATS else None
            for c, f in sheet.formats.items()}
    cols = frame.columns
    widths = [max(6, min(40, _width(c) + 2)) for c in cols]
    for i, _ in enumerate(cols):  # column widths must be set before rows in constant-memory mode
        ws.set_column(i, i, widths[i], fmts.get(cols[i]))
    ws.write_string(0, 0, inert_text(sheet.title) or "", bold)
    for i, line in enumerate(sheet.lines, start=1):
        ws.write_string(i, 0, inert_text(line) or "", grey)
    ws.write_row(HEADER_ROW, 0, cols, head)
    limit = XLSX_MAX_ROWS - HEADER_ROW - 1
    r = HEADER_ROW
    for r, row in enumerate(frame.head(limit).iter_rows(), start=HEADER_ROW + 1):
        for c, v in enumerate(row):
            if v is None:
                continue
            f = fmts.get(cols[c])
            if isinstance(v, (datetime, date)):
                ws.write_datetime(r, c, v if isinstance(v, datetime) else datetime(v.year, v.month, v.day), f)
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            else:
                ws.write_number(r, c, v, f)
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.autofilter(HEADER_ROW, 0, max(r, HEADER_ROW), max(len(cols) - 1, 0))
    wb.close()
    return buf.getvalue()


def _width(text: str) -> int:
    """Display width: a CJK character takes two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(text))
