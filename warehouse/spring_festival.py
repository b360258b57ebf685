"""春节 (Spring Festival) calendar effects as regressors for case-volume forecasts.

The festival moves between 21 January and 20 February, so a Gregorian month or ISO week
sees it some years and not others; a seasonal model keyed on the calendar month alone puts
the effect in the wrong month. Two regressors per period, both in [0, 1]:

- `pre`: share of the 30 days before 春节 (腊月: wages settled, 欠薪 disputes peak, people
  travel home) that fall in the period;
- `holiday`: share of the 7 days from 春节 (初一 to 初七: offices closed, few reports) that
  fall in the period.

Dates come from `spring_festival.csv` (one row per year); a year outside it is an error,
not a silent zero.
"""

from __future__ import annotations

import csv
import functools
from datetime import date, timedelta
from pathlib import Path

import numpy as np

TABLE = Path(__file__).with_name("spring_festival.csv")
PRE_DAYS, HOLIDAY_DAYS = 30, 7


@functools.lru_cache(maxsize=1)
def dates() -> dict[int, date]:
    with TABLE.open(encoding="utf-8") as fh:
        return {int(r["year"]): date.fromisoformat(r["spring_festival"]) for r in csv.DictReader(fh)}


def festival(year: int) -> date:
    try:
        return dates()[year]
    except KeyError:
        raise ValueError(f"{TABLE.name} has no 春节 date for {year}; add a row") from None


def _overlap(a0: date, a1: date, b0: date, b1: date) -> int:
    """Days in common between [a0, a1) and [b0, b1)."""
    return max(0, (min(a1, b1) - max(a0, b0)).days)


def regressors(starts: list[date], ends: list[date]) -> np.ndarray:
    """(periods × 2) array: pre-festival and holiday shares of each period [start, end)."""
    out = np.zeros((len(starts), 2))
    for i, (s, e) in enumerate(zip(starts, ends)):
        for year in (s.year, s.year + 1):
            if year not in dates() and not _overlap(s, e, date(year - 1, 12, 15), date(year, 3, 1)):
                continue  # a year without a date matters only for periods near its festival
            f = festival(year)
            out[i, 0] += _overlap(s, e, f - timedelta(days=PRE_DAYS), f) / PRE_DAYS
            out[i, 1] += _overlap(s, e, f, f + timedelta(days=HOLIDAY_DAYS)) / HOLIDAY_DAYS
    return out
