"""Numbers and dates the way readers expect them: 万 and 2026年11月 in Chinese."""

from __future__ import annotations

from datetime import date, datetime

from ui.i18n import lang


def num(x, digits: int = 0) -> str:
    if x is None:
        return "—"
    if lang() == "zh" and abs(x) >= 100_000:
        return f"{x / 10_000:,.{1 if abs(x) < 1_000_000 else 0}f}万"
    return f"{x:,.{digits}f}"


def pct(x, digits: int = 1) -> str:
    return "—" if x is None else f"{x * 100:.{digits}f}%"


def pp(x, digits: int = 1) -> str:
    """A change in percentage points."""
    if x is None:
        return "—"
    unit = "个百分点" if lang() == "zh" else " pp"
    return f"{x * 100:+.{digits}f}{unit}"


def month(d: date | datetime) -> str:
    return f"{d.year}年{d.month}月" if lang() == "zh" else f"{d:%b %Y}"


def day(d: date | datetime) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if lang() == "zh" else f"{d:%Y-%m-%d}"


def moment(d: datetime) -> str:
    return f"{day(d)} {d:%H:%M}"
