"""The monthly public-security situation report (《治安形势分析》), generated from the warehouse.

    from warehouse.report import generate
    data = generate(scope, "320813", "2026-10", fmt="pdf")
"""

from __future__ import annotations

from warehouse.db import Scope
from warehouse.periods import parse


def generate(scope: Scope, area: str, month: str, fmt: str = "pdf", path=None, doc_number: str | None = None,
             classification: str | None = None, partial: bool = False) -> bytes:
    """The report as PDF or DOCX bytes. A month still running is refused unless partial=True
    (MonthInProgress); month may be 'last' (the last complete month of the data)."""
    from warehouse.report.compose import build
    from warehouse.report.render import to_docx, to_pdf

    p, now = resolve_month(month, path)
    if p.end > now.date() and not partial:
        raise MonthInProgress(
            f"{p.key} is still running (data until {now:%Y-%m-%d %H:%M}); use the last complete month "
            f"(--month last) or pass --partial for a report marked incomplete")
    report = build(scope, area, p, path=path, doc_number=doc_number, classification=classification,
                   partial=p.end > now.date(), now=now)
    return to_pdf(report) if fmt == "pdf" else to_docx(report)


class MonthInProgress(ValueError):
    pass


def resolve_month(month: str, path=None):
    """('last' | 'YYYY-MM') -> (Period, the data's now). A clear error for anything else."""
    import re

    from warehouse import meta

    now = meta.data_now(path)
    month = (month or "last").strip()
    if month == "last":
        return meta.default_period("month", path), now
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValueError(f"--month {month!r}: give 'last' or a month as YYYY-MM, e.g. 2026-10")
    return parse(month, "month"), now
