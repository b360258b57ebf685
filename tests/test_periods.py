"""Reporting periods, the ISO week grain above all: keys, neighbours, year-ago weeks across a
week 53, and the sidebar's week filter in AppTest."""

from datetime import date

import pytest

from tests.apptest import open_page
from warehouse.periods import GRAINS, parse, period_of


def test_week_is_the_iso_week():
    p = period_of("week", date(2026, 1, 1))  # a Thursday in ISO week 1 of 2026, which starts in 2025
    assert (p.start, p.end, p.key) == (date(2025, 12, 29), date(2026, 1, 5), "2026-W01")
    assert p.previous().key == "2025-W52" and parse("2026-W01") == p
    assert period_of("week", date(2026, 1, 4)) == p and period_of("week", date(2026, 1, 5)).key == "2026-W02"


def test_week_year_ago_and_week_53():
    assert parse("2026-W47").year_ago().key == "2025-W47"
    assert parse("2021-W01").year_ago().key == "2020-W01"
    # 2020 has a week 53; 2019 does not: its year-ago week is 2019's last, W52
    assert parse("2020-W53").year_ago().key == "2019-W52"
    assert [p.key for p in parse("2021-W01").history(3)] == ["2020-W52", "2020-W53", "2021-W01"]


@pytest.mark.parametrize("key", ["2026-W09", "2026-03", "2026Q1", "2026", "2026-01-01~2026-02-14"])
def test_keys_round_trip(key):
    assert parse(key).key == key


def test_export_range_of_one_week_is_a_week():
    from warehouse.indicators import period_for

    assert period_for(date(2026, 11, 16), date(2026, 11, 22)).key == "2026-W47"
    assert period_for(date(2026, 11, 1), date(2026, 11, 30)).key == "2026-11"


def test_week_grain_in_the_sidebar(small_db):
    assert GRAINS[0] == "week"
    at = open_page("overview", grain="week", period="2026-W46")
    assert not at.exception
    assert "2026年第46周（11月9日–11月15日）" in at.caption[0].value
    # the comparison line names the week before
    assert any("第45周" in c.value for c in at.caption)
