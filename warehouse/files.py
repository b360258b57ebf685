"""Table files for people: CSV (UTF-8 with BOM, so Excel opens Chinese) and XLSX.

Text cells that start with = + - @ are prefixed with a quote so a spreadsheet never runs
them as formulas (CSV/formula injection, e.g. "=cmd|' /C calc'!A0"). The app's download
buttons and `python -m warehouse export` both write through here.
"""

from __future__ import annotations

import io

import polars as pl


def inert(df: pl.DataFrame) -> pl.DataFrame:
    """Neutralise formula-looking text cells (numbers are left alone)."""
    return df.with_columns(
        pl.when(pl.col(c).str.contains(r"^[=+\-@\t\r]"))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, dt in df.schema.items() if dt == pl.Utf8)


def to_csv(df: pl.DataFrame) -> bytes:
    return b"\xef\xbb\xbf" + inert(df).write_csv().encode("utf-8")


def to_xlsx(df: pl.DataFrame, sheet: str = "data") -> bytes:
    buf = io.BytesIO()
    inert(df).write_excel(buf, worksheet=sheet[:31], autofit=True)
    return buf.getvalue()
