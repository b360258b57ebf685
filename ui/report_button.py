"""The download button for the monthly 《治安形势分析》 of the selected county or town."""

from __future__ import annotations

import streamlit as st

from ui.cache import call
from ui.filters import Filters
from ui.i18n import t
from warehouse import report


def report_download(f: Filters) -> None:
    """Offer the report for the filter's month and area (a village or grid uses its town)."""
    area = f.area_code[:9] if len(f.area_code) > 9 else f.area_code
    month = f.period.start.strftime("%Y-%m")
    c1, c2 = st.columns([1, 3])
    fmt = c1.radio(t("report.format"), ["pdf", "docx"], horizontal=True, key="report_fmt",
                   format_func=str.upper)
    if c2.button(t("report.make", month=month), icon=":material/description:", key="report_make"):
        with st.spinner(t("report.making")):
            data = call(report.generate, f.scope, area, month, fmt)
        st.download_button(t("report.download"), data, f"治安形势分析_{area}_{month}.{fmt}",
                           "application/pdf" if fmt == "pdf" else
                           "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           key="report_dl", icon=":material/download:")
