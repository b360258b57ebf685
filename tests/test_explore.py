"""Issue 21's browser checks: no request leaves the machine, and an exploration of every page,
tab, filter change and download (tests/explore.py) finds no exception box, "None", "NaN",
"Page not found", console error or (on Chinese pages) English word outside the allow-list.

The explorations (small demo, one server and one Chromium, an xdist group of their own) and
the county pass are slow-marked for now; `python -m tests.explore [--scale county]` runs
them by hand."""

from __future__ import annotations

import pytest

from tests.explore import english_words, explore
from ui.nav import PAGES

pytestmark = pytest.mark.browser
SIDEBAR_PAGES = len(PAGES) - 1  # the wall has no filters


def test_allow_list_spots_english_on_a_chinese_page():
    assert english_words("风险等级 negative None 12345 AUC 2026 Q3 coverage_80") == ["None", "coverage", "negative"]


@pytest.mark.xdist_group("browser")
def test_no_request_leaves_the_machine(app_url, chromium):
    """Every request but the app's own is blocked and recorded: fonts, basemap styles, icons."""
    found = explore(chromium, app_url, langs=("zh",), keys={"home", "map", "opinion", "wall"},
                    interact=False, download=False)
    assert not [i for i in found.items if i.startswith("network")], found.items
    assert found.visits == 4


# Not yet in the default run: on this 2-core box under load 20-35 one language took over
# 25 minutes, so its CI runtime on a quiet box is unmeasured (see issue 21's note).
@pytest.mark.slow
@pytest.mark.xdist_group("explore")
def test_exploration_zh(app_url, chromium):
    """Every page and tab, four filter changes on each page (the last to English), every
    download button."""
    found = explore(chromium, app_url, langs=("zh",))
    print(f"zh: visits {found.visits}, tabs {found.tabs}, interactions {found.interactions}, "
          f"downloads {found.downloads}")
    assert found.items == [], "\n".join(found.items)
    assert found.visits == len(PAGES) and found.tabs >= 20, found
    assert found.interactions == 4 * SIDEBAR_PAGES and found.downloads >= 20, found


@pytest.mark.slow
@pytest.mark.xdist_group("explore")
def test_exploration_en(app_url, chromium):
    """The same in English (the last change back to Chinese, checked for English words)."""
    found = explore(chromium, app_url, langs=("en",))
    print(f"en: visits {found.visits}, tabs {found.tabs}, interactions {found.interactions}, "
          f"downloads {found.downloads}")
    assert found.items == [], "\n".join(found.items)
    assert found.visits == len(PAGES) and found.interactions == 4 * SIDEBAR_PAGES, found


@pytest.mark.slow  # the county demo (≈380k residents) is built first: minutes
def test_exploration_county(county_db, chromium):
    from tests.browser import streamlit_server

    with streamlit_server(county_db) as url:
        found = explore(chromium, url, langs=("zh", "en"))
    print(f"county: visits {found.visits}, tabs {found.tabs}, interactions {found.interactions}, "
          f"downloads {found.downloads}")
    assert found.items == [], "\n".join(found.items)
