"""Login, scope refusals, the wall token and lockout in Chromium against a live server with
accounts configured (the other browser tests run in demo mode, with no account)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.browser import browser, streamlit_server, wait_ready
from warehouse import accounts, areas
from warehouse import caseloop as cl
from warehouse.scope import FULL

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("auth_browser")]
PW = "town-password-1"
OCT = {"start": date(2026, 10, 1), "end": date(2026, 10, 31)}


@pytest.fixture(scope="module")
def site(small_db, tmp_path_factory, monkeypatch_module):
    state = tmp_path_factory.mktemp("auth")
    env = {"WAREHOUSE_ACCOUNTS": str(state / "accounts.sqlite"), "WAREHOUSE_AUDIT": str(state / "audit.sqlite"),
           "ACCOUNTS_TEST_HASH": "1", "ACCOUNTS_MAX_FAILURES": "3"}
    for k, v in env.items():
        monkeypatch_module.setenv(k, v)
    towns = areas.areas(FULL, level="town", path=small_db)["code"].to_list()
    own, other = towns[0], towns[1]
    accounts.add("town1", "town", [own], PW)
    accounts.add("town2", "town", [own], PW)
    token = accounts.add("wall1", "wall")
    names = areas.names(small_db)
    with streamlit_server(small_db, env) as url, browser() as b:
        yield {"url": url, "b": b, "own": own, "other": other, "token": token,
               "other_names": [names[t] for t in towns if t != own],
               "other_case": cl.case_list(FULL, other, **OCT, limit=1, path=small_db)["case_id"][0],
               "other_grid": [g for g in areas.areas(FULL, level="grid", path=small_db)["code"].to_list()
                              if g.startswith(other)][0]}


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _open(ctx, url: str):
    page = ctx.new_page()
    page.goto(url)
    wait_ready(page)
    return page


def _login(page, name: str, password: str) -> None:
    page.get_by_label("用户名").wait_for(timeout=120_000)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    wait_ready(page)


def _main(page) -> str:
    return page.inner_text('[data-testid="stMain"]')


def test_no_data_before_login_then_scoped_views_and_refusals(site):
    ctx = site["b"].new_context(viewport={"width": 1400, "height": 900})
    page = _open(ctx, site["url"] + "/overview")
    page.get_by_label("用户名").wait_for(timeout=120_000)
    for testid in ("stPlotlyChart", "stDataFrame", "stMetric", "stDeckGlJsonChart"):
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, testid
    assert "登录" in _main(page)
    _login(page, "town1", "wrong password")
    assert "用户名或密码不正确" in _main(page)
    _login(page, "town1", PW)
    page.wait_for_selector('[data-testid="stMetric"]', timeout=120_000)
    assert "当前用户：town1" in page.inner_text("body")
    page.reload()  # the session survives a reload
    wait_ready(page)
    page.wait_for_selector('[data-testid="stMetric"]', timeout=120_000)
    assert "当前用户：town1" in page.inner_text("body")
    for path, words in ((f"/cases?area={site['other']}", "无权查看区域"),
                        (f"/cases?case={site['other_case']}", "无权查看事件"),
                        (f"/grid?grid={site['other_grid']}", "无权查看网格")):
        page.goto(site["url"] + path)
        wait_ready(page)
        page.get_by_text(words).wait_for(timeout=60_000)
    page.get_by_role("button", name="退出登录").click()
    wait_ready(page)
    page.get_by_label("用户名").wait_for(timeout=60_000)
    ctx.close()
