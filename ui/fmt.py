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


def period(p) -> str:
    """A reporting period for people: 2026年10月, 2026年第4季度, 2026年, or 2026年1月1日 – 2026年3月31日
    (never the key's '~', which markdown turns into a strikethrough when it appears twice)."""
    from datetime import timedelta

    zh = lang() == "zh"
    if p.grain == "week":
        year, week, _ = p.start.isocalendar()
        last = p.end - timedelta(days=1)
        if zh:
            return f"{year}年第{week}周（{p.start.month}月{p.start.day}日–{last.month}月{last.day}日）"
        return f"{year} W{week} ({p.start:%d %b}–{last:%d %b})"
    if p.grain == "month":
        return month(p.start)
    if p.grain == "quarter":
        q = (p.start.month - 1) // 3 + 1
        return f"{p.start.year}年第{q}季度" if zh else f"{p.start.year} Q{q}"
    if p.grain == "year":
        return f"{p.start.year}年" if zh else str(p.start.year)
    return f"{day(p.start)} – {day(p.end - timedelta(days=1))}"
