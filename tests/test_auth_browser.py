"""Login, scope refusals, the wall token, lockout and a walk of every page as a town account,
in Chromium against one live server with accounts configured (the other browser tests run in
demo mode, with no account). Waits are on specific elements and on Streamlit's own script-run
state, with generous timeouts: a loaded 2-core box can take a minute for a first page run."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from tests.browser import streamlit_server
from ui.nav import PAGES
from warehouse import accounts, areas, audit
from warehouse import caseloop as cl
from warehouse.scope import FULL

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("auth_browser")]
PW = "town-password-1"
OCT = {"start": date(2026, 10, 1), "end": date(2026, 10, 31)}
LONG = 120_000  # ms
DATA = ("stPlotlyChart", "stDataFrame", "stMetric", "stDeckGlJsonChart", "stTable", "stDownloadButton")
CODES = re.compile(r"\d{9,}")


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


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
    accounts.add("town2", "town", [other], PW)  # locked out below
    token = accounts.add("wall1", "wall")
    names = areas.names(small_db)
    village = areas.areas(FULL, parent=own, path=small_db)["code"][0]
    for name, role, codes in (("county1", "county", []), ("village1", "village", [village]),
                              ("analyst1", "analyst", [own, towns[2]]), ("admin1", "admin", [])):
        accounts.add(name, role, codes, PW)
    with streamlit_server(small_db, env) as url:
        yield {"url": url, "own": own, "other": other, "token": token, "audit": state / "audit.sqlite",
               "other_towns": {t: names[t] for t in towns if t != own},
               "other_case": cl.case_list(FULL, other, **OCT, limit=1, path=small_db)["case_id"][0],
               "other_grid": [g for g in areas.areas(FULL, level="grid", path=small_db)["code"].to_list()
                              if g.startswith(other)][0]}


def settled(page, timeout: int = LONG) -> None:
    """The app is connected and its script run (the first one too) has ended."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)


def _goto(page, url: str) -> None:
    page.goto(url, timeout=LONG)
    settled(page)


def _new_page(chromium, width: int = 1400, height: int = 900, **kw):
    """A fresh browser context (no cookies) and its page, with generous default timeouts."""
    ctx = chromium.new_context(viewport={"width": width, "height": height}, **kw)
    ctx.set_default_timeout(LONG)
    ctx.set_default_navigation_timeout(LONG)
    return ctx, ctx.new_page()


def _login_form(page) -> None:
    page.get_by_label("用户名").wait_for(timeout=LONG)
    settled(page)


def _login(page, name: str, password: str) -> None:
    _login_form(page)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_timeout(300)  # the click's rerun starts
    settled(page)


def _no_data(page, where: str) -> None:
    for testid in DATA:
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, f"{where}: {testid} drawn"


def test_nothing_is_drawn_before_login_on_any_page_url(site, chromium):
    ctx, page = _new_page(chromium, 1400, 900)
    for url in [f"/{p.key}" for p in PAGES] + ["/", "/?view=wall", f"/cases?case={site['other_case']}",
                                              f"/overview?token={site['token']}"]:  # a token opens the wall only
        _goto(page, site["url"] + url)
        _login_form(page)
        _no_data(page, url)
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0, url  # no page list either
    ctx.close()


def test_login_reload_url_tampering_and_logout(site, chromium):
    ctx, page = _new_page(chromium, 1400, 900)
    _goto(page, site["url"] + "/overview")
    _login(page, "town1", "wrong password")
    page.get_by_text("用户名或密码不正确").wait_for(timeout=LONG)
    _no_data(page, "after a wrong password")
    _login(page, "town1", PW)
    page.wait_for_selector('[data-testid="stMetric"]', timeout=LONG)
    page.get_by_text("当前用户：town1（镇街）").wait_for(timeout=LONG)
    page.reload()  # the session survives a reload
    page.wait_for_selector('[data-testid="stMetric"]', timeout=LONG)
    page.get_by_text("当前用户：town1（镇街）").wait_for(timeout=LONG)
    for path, words in ((f"/cases?area={site['other']}", f"无权查看区域 {site['other']}"),
                        (f"/overview?area={site['other']}", f"无权查看区域 {site['other']}"),
                        (f"/map?area={site['other']}", f"无权查看区域 {site['other']}"),
                        (f"/cases?case={site['other_case']}", f"无权查看事件 {site['other_case']}"),
                        (f"/grid?grid={site['other_grid']}", f"无权查看网格 {site['other_grid']}")):
        _goto(page, site["url"] + path)
        page.get_by_text(words).wait_for(timeout=LONG)
        assert page.locator('[data-testid="stDataFrame"], [data-testid="stMetric"]').count() == 0, path
    page.get_by_role("button", name="退出登录").click()
    _login_form(page)
    _goto(page, site["url"] + "/overview")  # logged out for good: the cookie is gone
    _login_form(page)
    _no_data(page, "after logout")
    ctx.close()
    log = audit.entries(FULL, path=site["audit"])
    refused = log.filter((log["action"] == "refused") & (log["who"] == "town1"))
    assert {site["other"], site["other_case"]} <= set(refused["area"].to_list())


def test_the_wall_token_opens_the_wall_and_nothing_else(site, chromium):
    ctx, page = _new_page(chromium, 1920, 1080)
    _goto(page, site["url"] + f"/?view=wall&play=0&token={site['token']}")
    page.wait_for_selector("#wall [data-kpi=today] .value", timeout=LONG)
    assert "社会治理联动指挥中心" in page.inner_text("#wall")
    assert page.locator('[data-testid="stSidebarNav"], [data-testid="stSidebar"]').count() == 0
    # with the token, another page's URL still shows the wall (the kiosk has no other page)
    _goto(page, site["url"] + f"/cases?view=wall&play=0&token={site['token']}")
    page.wait_for_selector("#wall [data-kpi=today] .value", timeout=LONG)
    _no_data(page, "kiosk on /cases")
    # the same browser without the token, or a wrong one: no way in
    for url in ("/cases", "/overview", "/data"):
        _goto(page, site["url"] + url)
        _login_form(page)
        _no_data(page, url)
    _goto(page, site["url"] + "/?view=wall&token=not-a-token")
    page.get_by_text("大屏令牌无效或已被吊销").wait_for(timeout=LONG)
    assert page.locator("#wall").count() == 0
    # nor can a wall account log in with a password form
    _goto(page, site["url"] + "/home")
    _login(page, "wall1", site["token"])
    page.get_by_text("用户名或密码不正确").wait_for(timeout=LONG)
    ctx.close()


def test_lockout_after_repeated_failures(site, chromium):
    ctx, page = _new_page(chromium, 1400, 900)
    _goto(page, site["url"] + "/home")
    for _ in range(2):
        _login(page, "town2", "not the password")
        page.get_by_text("用户名或密码不正确").wait_for(timeout=LONG)
    _login(page, "town2", "not the password")  # the third (ACCOUNTS_MAX_FAILURES=3) locks
    page.get_by_text("账号已锁定").wait_for(timeout=LONG)
    _login(page, "town2", PW)  # the right password is refused while locked
    page.get_by_text("账号已锁定").wait_for(timeout=LONG)
    _no_data(page, "locked")
    ctx.close()
    log = audit.entries(FULL, path=site["audit"])
    fails = log.filter((log["who"] == "town2") & (log["action"] == "login_failed"))
    assert fails.height == 4 and fails["detail"].str.contains("locked").sum() == 2


def _leaks(text: str, other_towns: dict[str, str]) -> list[str]:
    codes = [c for c in CODES.findall(text) if c[:9] in other_towns]
    names = [n for n in other_towns.values() if n in text]
    return codes + names


def _walk_as_town(site, chromium, artifacts, downloads: bool) -> int:
    """Each page opened in Chromium as a town account: it draws (a town may see every page; the
    data page without the administrators' parts), and its text and the visible cells of its
    tables hold no other town; with downloads, every CSV it offers neither. Returns CSVs read."""
    ctx, page = _new_page(chromium, 1600, 1000, accept_downloads=True)
    _goto(page, site["url"] + "/home")
    _login(page, "town1", PW)
    page.get_by_text("当前用户：town1（镇街）").wait_for(timeout=LONG)
    csvs, notes = 0, []
    for spec in PAGES:
        _goto(page, site["url"] + f"/{spec.key}")
        if spec.key == "wall":
            page.wait_for_selector("#wall [data-kpi=today] .value", timeout=LONG)
            text = page.inner_text("#wall")
        else:
            page.get_by_text("当前用户：town1（镇街）").wait_for(timeout=LONG)
            text = page.inner_text('[data-testid="stMain"]')
        assert page.locator('[data-testid="stException"]').count() == 0, spec.key
        cells = page.locator('[data-testid="stDataFrame"] td').all_inner_texts()
        leaks = _leaks(text + " " + " ".join(cells), site["other_towns"])
        assert not leaks, (spec.key, leaks[:5])
        assert "无权" not in text, spec.key
        rows = []
        buttons = page.locator('[data-testid="stDownloadButton"] button')
        for i in range(buttons.count() if downloads else 0):
            if not buttons.nth(i).is_visible():
                continue
            with page.expect_download(timeout=LONG) as dl:
                buttons.nth(i).click()
            if dl.value.suggested_filename.endswith(".csv"):
                body = open(dl.value.path(), encoding="utf-8-sig").read()
                assert not _leaks(body, site["other_towns"]), (spec.key, dl.value.suggested_filename)
                rows.append(len(list(csv.reader(io.StringIO(body)))))
                csvs += 1
        notes.append(f"{spec.key}: drawn, {len(cells)} visible table cells, CSV rows {rows}")
    ctx.close()
    (artifacts / f"town_walk{'_downloads' if downloads else ''}.txt").write_text("\n".join(notes) + "\n")
    return csvs


@pytest.mark.slow  # twelve full page runs: minutes on a loaded box; the query layer walk (test_scope_roles) is in CI
def test_every_page_as_a_town_shows_no_other_town(site, chromium, artifacts):
    _walk_as_town(site, chromium, artifacts, downloads=False)


@pytest.mark.slow
def test_every_download_as_a_town_holds_no_other_town(site, chromium, artifacts):
    assert _walk_as_town(site, chromium, artifacts, downloads=True) >= 5


MATRIX_ROLES = ("county1", "town1", "village1", "analyst1", "admin1")


@pytest.mark.slow
def test_role_by_page_matrix(site, chromium, artifacts):
    """What each role gets on each page in Chromium (the table of the issue's closing note):
    drawn, refused, the wall, or the login form. Written to test-artifacts/role_page_matrix.md."""
    def outcome(page, key):
        if page.locator("#wall").count():
            return "wall"
        if page.get_by_label("用户名").count():
            return "login form"
        if page.locator('[data-testid="stException"]').count():
            return "ERROR"
        text = page.inner_text('[data-testid="stMain"]')
        if "无权" in text or "仅管理员" in text:
            return "refused"
        return "drawn" + (", audit log" if "审计日志" in text else "")

    table = {}
    for who in (None, "wall token") + MATRIX_ROLES:
        ctx, page = _new_page(chromium, 1600, 1000)
        if who in MATRIX_ROLES:
            _goto(page, site["url"] + "/home")
            _login(page, who, PW)
            page.get_by_text(f"当前用户：{who}").wait_for(timeout=LONG)
        for spec in PAGES:
            url = f"/{spec.key}" + (f"?view=wall&play=0&token={site['token']}" if who == "wall token" else "")
            _goto(page, site["url"] + url)
            if who == "wall token" or spec.key == "wall" and who:
                page.wait_for_selector("#wall", timeout=LONG)
            elif who:
                page.get_by_text(f"当前用户：{who}").wait_for(timeout=LONG)
            table.setdefault(who or "not logged in", {})[spec.key] = outcome(page, spec.key)
            with (artifacts / "role_page_matrix.log").open("a") as log:  # progress, for a run cut short
                log.write(f"{who or 'not logged in'} {spec.key}: {table[who or 'not logged in'][spec.key]}\n")
        ctx.close()
    lines = ["| role | " + " | ".join(p.key for p in PAGES) + " |", "|---" * (len(PAGES) + 1) + "|"]
    lines += [f"| {who} | " + " | ".join(row[p.key] for p in PAGES) + " |" for who, row in table.items()]
    (artifacts / "role_page_matrix.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert set(table["not logged in"].values()) == {"login form"}
    assert set(table["wall token"].values()) == {"wall"}
    assert "ERROR" not in str(table)
