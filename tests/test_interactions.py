"""Sequences a new user tries: a tab other than the first, then another town, period type or
language. Each step must run without an exception box (the tabs and the sidebar share the URL)."""

from __future__ import annotations

import pytest

from tests.apptest import open_page
from warehouse import areas as wa
from warehouse.db import FULL

# page, its tab key, the label of a tab that is not the first (in Chinese)
TABBED = [("cases", "cl_tab", "环节时长"), ("risk", "risk_tab", None), ("opinion", "opinion_tab", None)]


def _second_tab(at) -> str:
    return at.tabs[1].label


def _town(small_db) -> str:
    return wa.areas(FULL, parent="320813", path=small_db)["code"].to_list()[0]


@pytest.mark.parametrize(("page", "key"), [(p, k) for p, k, _ in TABBED])
@pytest.mark.parametrize("change", ["town", "grain", "lang"])
def test_filters_change_while_a_later_tab_is_open(small_db, page, key, change):
    at = open_page(page, area="320813", grain="month")
    assert not at.exception, at.exception
    second = _second_tab(at)
    at.query_params[key] = second
    at.run()
    assert not at.exception, at.exception
    if change == "town":
        at.selectbox(key="f_town").set_value(_town(small_db)).run()
    elif change == "grain":
        at.radio(key="f_grain").set_value("quarter").run()
    else:  # widgets are formatted in Chinese before the run, in English after it
        at.radio(key="lang").set_value("en").run()
    assert not at.exception, at.exception
    # the open tab stays open (in the new language when the language changed)
    opened = at.session_state[key]
    labels = [t.label for t in at.tabs]
    assert opened == labels[1], (opened, labels)


def test_opinion_posts_tab_draws(small_db):
    at = open_page("opinion", area="320813", grain="month")
    posts = at.tabs[3].label
    at.query_params["opinion_tab"] = posts
    at.run()
    assert not at.exception, at.exception
    assert at.dataframe, "the posts table"


def test_home_has_its_own_url(small_db):
    """The README links /home: it opens the home page, not "Page not found"."""
    from tests.apptest import session

    at = session("home")
    at.switch_page("pages/home.py")
    at.run()
    assert not at.exception, at.exception
    assert at.metric, "home's headline figures"
