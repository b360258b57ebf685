"""Case closed-loop page: AppTest in both languages, the ?case= timeline, and a browser look."""

from datetime import date

import pytest

from tests.apptest import open_page
from ui.i18n import set_lang
from warehouse import caseloop as cl
from warehouse.db import FULL

OCT = {"area": "320813", "grain": "month", "period": "2026-10"}


def test_case_loop_page_shows_the_warehouse_figures(small_db):
    at = open_page("cases", **OCT)
    assert not at.exception, at.exception
    s = cl.summary(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), path=small_db)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["上报事件"] == f"{s['cases']:,}"
    assert metrics["镇村化解率"] == f"{s['local_share'] * 100:.1f}%"
    assert [tab.label for tab in at.tabs][:2] == ["闭环漏斗", "环节时长"]
    funnel = cl.funnel(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), path=small_db)
    assert at.dataframe[0].value["到达数"].tolist() == funnel["reached"].to_list()
    # tabs are lazy and kept in the URL: open each one, every one draws without error
    for label, tables in (("环节时长", 1), ("限时办结", 1), ("三率与化解层级", 3), ("流程变体", 2),
                          ("来源渠道", 1), ("事件清单", 1)):
        at.query_params["cl_tab"] = label
        at.run()
        assert not at.exception, (label, at.exception)
        assert len(at.dataframe) >= tables, label
    variants = cl.variants(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), limit=20, path=small_db)
    at.query_params["cl_tab"] = "流程变体"
    at.run()
    assert at.dataframe[0].value["事件数"].tolist() == variants["cases"].to_list()
    at.query_params["cl_tab"] = "闭环漏斗"
    at.run()
    # a page-local filter narrows every figure
    at.multiselect(key="cl_channels").select("12345").run()
    assert not at.exception
    n12345 = cl.summary(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), channels=("12345",),
                        path=small_db)["cases"]
    assert {m.label: m.value for m in at.metric}["上报事件"] == f"{n12345:,}"
    assert 0 < n12345 < s["cases"]


def test_case_loop_page_in_english(small_db):
    # AppTest formats widget values outside a script run, where t() falls back to i18n's
    # module language: set it too, or the sidebar's "All" does not match "全部" on page switch.
    set_lang("en")
    try:
        at = open_page("cases", lang="en", **OCT)
        if at.radio(key="lang").value != "en":   # the page switch may drop the URL's language
            set_lang("zh")                         # ...and then the widgets were drawn in Chinese
            at.radio(key="lang").set_value("en").run()
    finally:
        set_lang("zh")
    assert not at.exception, at.exception
    assert "Cases reported" in [m.label for m in at.metric]
    assert "Process variants" in [tab.label for tab in at.tabs]


def test_dwell_by_unit_and_variant_explorer(small_db):
    at = open_page("cases", cl_tab="环节时长", **OCT)
    at.radio(key="cl_dwell_by").set_value("按责任单位").run()
    assert not at.exception, at.exception
    by_unit = cl.dwell(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), by="responsible_unit", path=small_db)
    table = at.dataframe[0].value
    assert "责任单位" in table.columns and table.shape[0] == by_unit.height
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # the overall bars and the busiest units' heatmap
    assert '办件最多的 20 个责任单位' in charts[1].proto.spec
    at.query_params["cl_tab"] = "流程变体"
    at.run()
    assert not at.exception, at.exception
    top = cl.variants(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), limit=1, path=small_db)
    explorer = at.get("plotly_chart")[0].proto.spec  # one row of step blocks per path, count in its label
    assert f"#1  {top['cases'][0]:,} 件" in explorer and "退回重办" in explorer


def test_case_timeline_by_url(small_db):
    rows = cl.case_list(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), sort="returned_count", limit=1,
                        path=small_db)
    case_id = rows["case_id"][0]
    at = open_page("cases", case=case_id, area="320813")
    assert not at.exception, at.exception
    assert case_id in at.title[0].value
    events = cl.case_timeline(FULL, case_id, path=small_db)
    assert len(at.dataframe) == 2 and at.dataframe[0].value.shape[0] == events.height
    assert "退回" in at.dataframe[0].value.iloc[:, 1].tolist()          # its own activity name
    assert "退回重办" in at.dataframe[0].value.iloc[:, 2].tolist()      # the case with most returns
    # the process definition its log was read with, and the activity → stage map
    assert at.expander[0].label == "流程定义：综治中心事件闭环"
    mapping = dict(zip(at.dataframe[1].value.iloc[:, 0], at.dataframe[1].value.iloc[:, 1]))
    assert mapping["发现上报"] == "发现上报" and mapping["退回"] == "退回重办" and mapping["督办"] == "督办"
    missing = open_page("cases", case="NO-SUCH-CASE")
    assert not missing.exception and missing.warning


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_case_loop_in_chromium(app_url, chromium, artifacts, small_db):
    from tests.browser import shot

    page = shot(chromium, app_url + "/cases?area=320813&grain=month&period=2026-10&lang=zh",
                artifacts / "case_loop_1440x900.png", size=(1440, 900))
    assert "事件闭环" in page.inner_text("h1")
    _settle(page)   # on a busy machine charts may still be skeletons: wait, then shoot again
    page.screenshot(path=str(artifacts / "case_loop_1440x900.png"))
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 2
    page.close()
    case_id = cl.case_list(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), sort="returned_count",
                           limit=1, path=small_db)["case_id"][0]
    page = shot(chromium, f"{app_url}/cases?case={case_id}&lang=zh", artifacts / "case_timeline_1440x900.png")
    assert case_id in page.inner_text("h1")
    _settle(page)
    page.screenshot(path=str(artifacts / "case_timeline_1440x900.png"))
    page.close()


def _settle(page) -> None:
    page.wait_for_function("document.querySelectorAll('[data-testid=stSkeleton]').length == 0", timeout=60_000)
    if page.locator('[role="dialog"]').count():   # the shell's "Page not found" on a fresh server's first
        page.keyboard.press("Escape")              # deep link (see the report); not part of this page
    page.wait_for_timeout(1000)
