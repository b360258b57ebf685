"""Download buttons for the monthly 《治安形势分析》 of the selected county or town.

The report is generated only when a button is clicked (a callable as the data), so drawing
the page costs nothing and no rerun is needed between "make" and "download".
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from ui.auth import audited
from ui.filters import Filters
from ui.i18n import t
from warehouse import report

MIME = {"pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def report_download(f: Filters) -> None:
    """PDF and DOCX of the filter's month and area (a village or grid uses its town)."""
    area = f.area_code[:9] if len(f.area_code) > 9 else f.area_code
    if not f.scope.allows_area(area):  # a village account: its town's report is not its to read
        return
    month = f.period.start.strftime("%Y-%m")
    st.caption(t("report.make", month=month))
    cols = st.columns([1, 1, 4])
    for col, fmt in zip(cols, ("pdf", "docx")):
        col.download_button(t("report.download", fmt=fmt.upper()),
                            audited("report", f"report {month} {fmt}",  # a running month says so
                                    partial(report.generate, f.scope, area, month, fmt, partial=True), area=area),
                            f"治安形势分析_{area}_{month}.{fmt}", MIME[fmt], key=f"report_{fmt}",
                            on_click="ignore", icon=":material/description:")
