"""Download buttons for tables: CSV (UTF-8 with BOM, so Excel opens Chinese) and XLSX.

Text cells that start with = + - @ are prefixed with a quote so a spreadsheet never runs
them as formulas (CSV/formula injection, e.g. "=cmd|' /C calc'!A0").
"""

from __future__ import annotations

import io
from functools import partial

import polars as pl
import streamlit as st

from ui.i18n import t


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


def buttons(df: pl.DataFrame, name: str, key: str | None = None) -> None:
    """CSV and XLSX download buttons side by side; files are written only when clicked."""
    key = key or name
    row = st.container(horizontal=True)  # buttons size to their labels, in any language
    row.download_button(t("dl.csv"), partial(to_csv, df), f"{name}.csv", "text/csv",
                        key=f"dl_csv_{key}", on_click="ignore", icon=":material/download:")
    row.download_button(t("dl.xlsx"), partial(to_xlsx, df), f"{name}.xlsx",
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        key=f"dl_xlsx_{key}", on_click="ignore", icon=":material/download:")
