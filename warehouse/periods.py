"""Reporting periods: ISO week, month, quarter, year or a custom range, and their comparisons.

Weeks are ISO weeks (Monday 00:00 to the next Monday), keyed by ISO year and week, 2026-W47;
a week's "same period last year" is the week with the same number (or the last week of that
ISO year when it has no week 53)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

GRAINS = ("week", "month", "quarter", "year", "custom")
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Period:
    """A half-open date range [start, end) with the grain it was chosen at."""

    start: date
    end: date
    grain: str = "month"

    @property
    def key(self) -> str:
        """2026-W47, 2026-10, 2026Q4, 2026, or 2026-01-01~2026-03-31 (inclusive end for people)."""
        if self.grain == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.grain == "month":
            return f"{self.start:%Y-%m}"
        if self.grain == "quarter":
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        if self.grain == "year":
            return f"{self.start.year}"
        return f"{self.start}~{self.end - timedelta(days=1)}"

    def previous(self) -> Period:
        if self.grain == "custom":
            span = self.end - self.start
            return Period(self.start - span, self.start, "custom")
        if self.grain == "week":
            return Period(self.start - WEEK, self.start, "week")
        return Period(shift(self.start, -months_in(self.grain)), self.start, self.grain)

    def year_ago(self) -> Period:
        if self.grain == "week":
            year, week, _ = self.start.isocalendar()
            last_week = date(year - 1, 12, 28).isocalendar()[1]  # 28 Dec is always in the last ISO week
            start = date.fromisocalendar(year - 1, min(week, last_week), 1)
            return Period(start, start + WEEK, "week")
        return Period(shift(self.start, -12), shift(self.end, -12), self.grain)

    def history(self, n: int) -> list[Period]:
        """The n periods ending with this one, oldest first (for sparklines)."""
        out = [self]
        for _ in range(n - 1):
            out.append(out[-1].previous())
        return out[::-1]


def months_in(grain: str) -> int:
    return {"month": 1, "quarter": 3, "year": 12}[grain]


def shift(d: date, months: int) -> date:
    m = d.year * 12 + d.month - 1 + months
    return date(m // 12, m % 12 + 1, 1) if d.day == 1 else date(m // 12, m % 12 + 1, min(d.day, 28))


def period_of(grain: str, day: date) -> Period:
    """The period of the given grain that contains `day`."""
    if grain == "week":
        start = day - timedelta(days=day.weekday())
        return Period(start, start + WEEK, "week")
    if grain == "month":
        start = date(day.year, day.month, 1)
    elif grain == "quarter":
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    elif grain == "year":
        start = date(day.year, 1, 1)
    else:
        raise ValueError(f"no fixed period for grain {grain!r}")
    return Period(start, shift(start, months_in(grain)), grain)


def parse(key: str, grain: str | None = None) -> Period:
    """Inverse of Period.key."""
    key = key.strip()
    if "~" in key:
        a, b = key.split("~")
        return Period(date.fromisoformat(a), date.fromisoformat(b) + timedelta(days=1), "custom")
    if "W" in key:
        y, w = key.split("-W")
        start = date.fromisocalendar(int(y), int(w), 1)
        return Period(start, start + WEEK, "week")
    if "Q" in key:
        y, q = key.split("Q")
        return period_of("quarter", date(int(y), (int(q) - 1) * 3 + 1, 1))
    if len(key) == 4:
        return period_of("year", date(int(key), 1, 1))
    y, m = key.split("-")[:2]
    return period_of(grain or "month", date(int(y), int(m), 1))


def during(column: str, start, end) -> tuple[list[str], list]:
    """SQL conditions and their parameters for `column` in [start, end); None leaves that side open."""
    where, params = [], []
    if start:
        where.append(f"{column} >= ?")
        params.append(start)
    if end:
        where.append(f"{column} < ?")
        params.append(end)
    return where, params
