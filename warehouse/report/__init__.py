"""The monthly public-security situation report (《治安形势分析》), generated from the warehouse.

    from warehouse.report import generate
    data = generate(scope, "320813", "2026-10", fmt="pdf")
"""

from __future__ import annotations

from warehouse.db import Scope
from warehouse.periods import parse


def generate(scope: Scope, area: str, month: str, fmt: str = "pdf", path=None) -> bytes:
    from warehouse.report.compose import build
    from warehouse.report.render import to_docx, to_pdf

    report = build(scope, area, parse(month, "month"), path=path)
    return to_pdf(report) if fmt == "pdf" else to_docx(report)
