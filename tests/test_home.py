"""Home page: AppTest renders the warehouse's headline numbers; a browser shows Chinese."""

import pytest

from tests.apptest import open_page
from warehouse import home
from warehouse.db import FULL


def test_home_shows_headline_numbers(small_db):
    at = open_page("home")
    assert not at.exception
    h = home.headline(FULL, "320813", path=small_db)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["在办事件"] == f"{h['open']:,}"
    assert metrics["网格数"] == f"{h['grids']:,}"
    assert h["open"] > 0 and h["grids"] > 700


def test_home_in_english(small_db):
    at = open_page("home", lang="en")
    assert not at.exception
    assert "Open cases" in [m.label for m in at.metric]


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_home_in_chromium(app_url, chromium, artifacts):
    from tests.browser import shot

    page = shot(chromium, app_url + "/", artifacts / "home_1440x900.png")
    assert "洪泽区" in page.inner_text("h1")
    page.close()
