"""Download buttons for tables: files for people (warehouse.export_format: headers and values
in the reader's language, rounded numbers, times to the minute, title / filter / as-of /
source rows; XLSX with a frozen header and an autofilter), written by warehouse.files
(formula-safe). Files are built only when a button is clicked."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import streamlit as st

from ui.auth import audited
from ui.i18n import lang, t
from warehouse.files import inert, sheet_csv, sheet_xlsx, to_csv, to_xlsx  # noqa: F401  (re-exported)


def _filters(lng: str) -> dict[str, str]:
    """The page's area and period (as the sidebar wrote them to the URL), in words."""
    from warehouse import areas
    from warehouse.export_format import filters_text

    qp = st.session_state.get("_qp_written") or {}
    area = qp.get("area")
    name = areas.names().get(area, area) if area else None
    if qp.get("from"):
        return filters_text(name, qp["from"], qp.get("to"), lng)
    return filters_text(name, None, None, lng, period_label=qp.get("period"))


def sheet(df: pl.DataFrame | Callable[[], pl.DataFrame], name: str, lng: str | None = None,
          filters: dict[str, str] | None = None):
    """The frame (or what a callable returns: the full result set, fetched on click) dressed."""
    from warehouse import meta
    from warehouse.export_format import present

    lng = lng or lang()
    frame = df() if callable(df) else df
    try:
        as_of = meta.data_now()
    except Exception:  # an export still works on a warehouse without a case log
        as_of = None
    return present(frame, name, lng, filters if filters is not None else _filters(lng), as_of=as_of)


def buttons(df: pl.DataFrame | Callable[[], pl.DataFrame], name: str, key: str | None = None,
            filters: dict[str, str] | None = None) -> None:
    """CSV and XLSX download buttons side by side. `df` may be a callable returning the full
    result set (e.g. every case of the selection, not the page on screen)."""
    key = key or name
    lng = lang()
    flt = filters if filters is not None else _filters(lng)
    row = st.container(horizontal=True)  # buttons size to their labels, in any language
    rows = None if callable(df) else df.height  # a callable's full result set is counted by no one
    row.download_button(t("dl.csv"), audited("export", f"{name}.csv", lambda: sheet_csv(sheet(df, name, lng, flt)),
                                             rows=rows), f"{name}.csv", "text/csv",
                        key=f"dl_csv_{key}", on_click="ignore", icon=":material/download:")
    row.download_button(t("dl.xlsx"), audited("export", f"{name}.xlsx",
                                              lambda: sheet_xlsx(sheet(df, name, lng, flt)), rows=rows),
                        f"{name}.xlsx",
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        key=f"dl_xlsx_{key}", on_click="ignore", icon=":material/download:")
