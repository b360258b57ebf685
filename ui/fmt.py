"""Numbers and dates the way readers expect them: 万 and 2026年11月 in Chinese."""

from __future__ import annotations

from datetime import date, datetime

from ui.i18n import lang
from warehouse.suppression import MASK

MISSING = "—"      # no value (not measured, not reached yet)
SUPPRESSED = MASK  # a hidden small cell: one marker everywhere (README, privacy)


def missing(x) -> bool:
    return x is None or (isinstance(x, float) and x != x)


def num(x, digits: int = 0) -> str:
    """1,234 / 12.3万 / 1.2亿 in Chinese (a card or a table cell), 1,234,567 in English."""
    if missing(x):
        return MISSING
    if lang() == "zh" and abs(x) >= 100_000_000:
        return f"{x / 100_000_000:,.{1 if abs(x) < 1_000_000_000 else 0}f}亿"
    if lang() == "zh" and abs(x) >= 100_000:
        return f"{x / 10_000:,.{1 if abs(x) < 1_000_000 else 0}f}万"
    return f"{x:,.{digits}f}"


def pct(x, digits: int = 1) -> str:
    return MISSING if missing(x) else f"{x * 100:.{digits}f}%"


def dec(x, digits: int = 1) -> str:
    """A measured value with fixed decimals (12.07, not 12.0676)."""
    return MISSING if missing(x) else f"{x:,.{digits}f}"


def text(x) -> str:
    """A category or text cell: missing shows as —, never "None"."""
    return MISSING if missing(x) or x == "" else str(x)


def pp(x, digits: int = 1) -> str:
    """A change in percentage points."""
    if missing(x):
        return MISSING
    unit = "个百分点" if lang() == "zh" else " pp"
    return f"{x * 100:+.{digits}f}{unit}"


def month(d: date | datetime) -> str:
    return f"{d.year}年{d.month}月" if lang() == "zh" else f"{d:%b %Y}"


def day(d: date | datetime | None) -> str:
    if d is None:
        return MISSING
    return f"{d.year}年{d.month}月{d.day}日" if lang() == "zh" else f"{d:%Y-%m-%d}"


def moment(d: datetime) -> str:
    return f"{day(d)} {d:%H:%M}"
