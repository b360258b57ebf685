"""Download buttons for tables (writers in warehouse.files: formula-safe CSV and XLSX)."""

from __future__ import annotations

from functools import partial

import polars as pl
import streamlit as st

from ui.i18n import t
from warehouse.files import inert, to_csv, to_xlsx  # noqa: F401  (re-exported for pages/tests)


def buttons(df: pl.DataFrame, name: str, key: str | None = None) -> None:
    """CSV and XLSX download buttons side by side; files are written only when clicked."""
    key = key or name
    row = st.container(horizontal=True)  # buttons size to their labels, in any language
    row.download_button(t("dl.csv"), partial(to_csv, df), f"{name}.csv", "text/csv",
                        key=f"dl_csv_{key}", on_click="ignore", icon=":material/download:")
    row.download_button(t("dl.xlsx"), partial(to_xlsx, df), f"{name}.xlsx",
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        key=f"dl_xlsx_{key}", on_click="ignore", icon=":material/download:")
