"""领导总览: AppTest in both languages, the URL round trip, a click narrowing the area, Chromium."""

import pytest

from tests.apptest import open_page
from ui import i18n
from warehouse import indicators, ranking
from warehouse.db import FULL
from warehouse.periods import parse

TOWN = "320813103"  # 岔河镇


def test_overview_in_chinese_and_town_pick(small_db):
    at = open_page("overview", period="2026-10", grain="month")
    assert not at.exception
    vals = indicators.values(FULL, "320813", parse("2026-10"), path=small_db)
    metrics = {m.label: m.value for m in at.metric}
    security = vals.filter(vals["key"] == "security").row(0, named=True)
    assert metrics["群众安全感"] == f"{security['value'] * 100:.1f}%"
    assert "逾期率" in metrics and len(metrics) == vals["applicable"].sum()
    assert at.title[0].value.endswith("领导总览")
    rk = ranking.town_ranking(FULL, "320813", parse("2026-10"), path=small_db)
    table = at.dataframe[0].value
    assert list(table["镇（街道）"]) == rk["name"].to_list()
    # the drill-down selectbox (the chart click's fallback) narrows the global area filter
    at.selectbox(key="ov_pick").select(TOWN).run()
    assert not at.exception
    assert at.selectbox(key="f_town").value == TOWN
    assert at.title[0].value.startswith("岔河镇")


def test_overview_in_english(small_db):
    # AppTest re-applies widget format_funcs outside a script run, where labels follow
    # i18n's module language: set it so 'All' matches the English options.
    i18n.set_lang("en")
    try:
        at = open_page("overview", lang="en", period="2026-10", grain="month")
    finally:
        i18n.set_lang("zh")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Overdue rate" in labels and "Public sense of security" in labels
    assert "Town ranking (quantitative assessment)" in [h.value for h in at.subheader]


def test_url_round_trip_sets_widgets(small_db):
    at = open_page("overview", area=TOWN, grain="month", period="2026-09")
    assert not at.exception
    boxes = {s.label: s.value for s in at.selectbox}
    assert boxes["镇（街道）"] == TOWN
    assert boxes["时间"] == "2026-09"
    assert at.radio(key="f_grain").value == "month"
    assert at.query_params["area"] == [TOWN] or at.query_params["area"] == TOWN
    assert at.title[0].value.startswith("岔河镇")


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_overview_in_chromium(app_url, chromium, artifacts):
    from tests.browser import shot

    page = shot(chromium, app_url + "/overview?grain=month&period=2026-10&lang=zh",
                artifacts / "overview_1440x900.png")
    settle(page)  # a deep link on a fresh server reruns once (ui.filters): shoot the settled page
    page.screenshot(path=str(artifacts / "overview_1440x900.png"))
    assert "领导总览" in page.inner_text("h1")
    page.set_viewport_size({"width": 1440, "height": 3400})  # the app scrolls inside itself
    page.wait_for_timeout(2500)
    page.screenshot(path=str(artifacts / "overview_full.png"))

    # clicking a town's bar narrows the global area filter; back and forward follow the URL
    bars = page.locator(".js-plotly-plot .bars path")
    last = bars.nth(bars.count() - 1)
    last.scroll_into_view_if_needed()  # below the cards, wherever the catalogue has grown to
    box = last.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    settle(page)
    town = area_in(page.url)
    assert len(town) == 9 and "洪泽区" not in page.inner_text("h1")
    page.go_back()
    settle(page)
    assert area_in(page.url) == "320813" and page.inner_text("h1").startswith("洪泽区")
    page.go_forward()
    settle(page)
    assert area_in(page.url) == town
    page.close()


def settle(page):
    from tests.browser import wait_ready

    page.wait_for_timeout(1500)
    wait_ready(page)


def area_in(url: str) -> str:
    from urllib.parse import parse_qs, urlparse

    return parse_qs(urlparse(url).query)["area"][0]


def test_unit_scorecard_beside_the_ranking(small_db):
    """责任单位考核: the overview lists the units of the chosen kind as warehouse.units scores them."""
    from warehouse import units

    p = parse("2026-10")
    card = units.scorecard(FULL, "320813", p.start, p.end, path=small_db)
    at = open_page("overview", period="2026-10", grain="month")
    assert not at.exception and "责任单位考核" in [h.value for h in at.subheader]
    shown = next(d.value for d in at.dataframe if "责任单位" in d.value.columns)
    assert list(shown["责任单位"]) == card.filter(card["unit_kind"] == "department")["responsible_unit"].to_list()
    at.segmented_control(key="ov_unit_kind").set_value("town").run()
    assert not at.exception
    shown = next(d.value for d in at.dataframe if "责任单位" in d.value.columns)
    towns = card.filter(card["unit_kind"] == "town")
    assert list(shown["责任单位"]) == towns["responsible_unit"].to_list()
    assert list(shown["名次"])[:3] == [1, 2, 3]
