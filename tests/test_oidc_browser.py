"""Identity-provider login (st.login) end to end in Chromium, against a real OIDC provider made
for tests (oidc-provider-mock, started here on a free port): the login round trip, the role and
area the claim map gives (a town claim sees its town only), a person the map does not know is
refused, logout, and the audit rows of all three."""

from __future__ import annotations

import secrets
import threading
from datetime import date

import pytest

from tests.browser import free_port, streamlit_server, wait_ready
from warehouse import areas, audit
from warehouse import caseloop as cl
from warehouse.scope import FULL

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("auth_browser")]
OCT = {"start": date(2026, 10, 1), "end": date(2026, 10, 31)}
LONG = 120_000  # ms: a loaded 2-core box can take this long for a first page run


@pytest.fixture(scope="module")
def provider():
    """The test OIDC provider on 127.0.0.1 (its users are set per test through its API)."""
    import werkzeug.serving
    from oidc_provider_mock import app

    server = werkzeug.serving.make_server("127.0.0.1", 0, app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def site(small_db, provider, tmp_path_factory):
    import httpx

    state = tmp_path_factory.mktemp("oidc")
    towns = areas.areas(FULL, level="town", path=small_db)["code"].to_list()
    own, other = towns[0], towns[1]
    (state / "oidc.yaml").write_text(
        "username_claim: preferred_username\nrole_claim: groups\narea_claim: area_code\n"
        "roles: {town-leaders: town, command-centre: county}\n", encoding="utf-8")
    port = free_port()
    (state / "secrets.toml").write_text(
        f'[auth]\nredirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\nclient_id = "dashboard"\n'
        f'client_secret = "{secrets.token_urlsafe(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n', encoding="utf-8")
    users = {"town.lead": {"preferred_username": "town.lead", "groups": ["staff", "town-leaders"],
                           "area_code": own},
             "stranger": {"preferred_username": "stranger", "groups": ["staff"]}}
    for sub, claims in users.items():
        httpx.put(f"{provider}/users/{sub}", json=claims).raise_for_status()
    env = {"WAREHOUSE_OIDC": str(state / "oidc.yaml"), "WAREHOUSE_ACCOUNTS": str(state / "accounts.sqlite"),
           "WAREHOUSE_AUDIT": str(state / "audit.sqlite")}
    with streamlit_server(small_db, env, port=port, args=("--secrets.files", str(state / "secrets.toml"))) as url:
        yield {"url": url, "own": own, "other": other, "audit": state / "audit.sqlite",
               "other_case": cl.case_list(FULL, other, **OCT, limit=1, path=small_db)["case_id"][0]}


def _sign_in_at_provider(page, sub: str) -> None:
    """Our login button, then the provider's form: type the subject and authorize."""
    page.get_by_role("button", name="统一身份认证登录").wait_for(timeout=LONG)
    page.get_by_role("button", name="统一身份认证登录").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=LONG)
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(lambda u: "/oauth2/" not in u and "/auth/" not in u, timeout=LONG)
    wait_ready(page, LONG)


def test_identity_provider_login_maps_claims_refuses_strangers_and_logs_out(site, chromium):
    ctx = chromium.new_context(viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(LONG)
    ctx.set_default_navigation_timeout(LONG)
    page = ctx.new_page()
    page.goto(site["url"] + "/overview", timeout=LONG)
    wait_ready(page, LONG)
    page.get_by_role("button", name="统一身份认证登录").wait_for(timeout=LONG)
    for testid in ("stPlotlyChart", "stDataFrame", "stMetric", "stDeckGlJsonChart"):
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, testid
    assert page.get_by_label("密码").count() == 0  # no local password form in identity-provider mode

    # a town claim: in, as 镇街 of its own town, and another town is refused
    _sign_in_at_provider(page, "town.lead")
    page.get_by_text("当前用户：town.lead（镇街）").wait_for(timeout=LONG)
    page.wait_for_selector('[data-testid="stMetric"]', timeout=LONG)
    page.goto(site["url"] + f"/cases?area={site['other']}")
    wait_ready(page, LONG)
    page.get_by_text(f"无权查看区域 {site['other']}").wait_for(timeout=LONG)
    page.goto(site["url"] + f"/cases?case={site['other_case']}")
    wait_ready(page, LONG)
    page.get_by_text("无权查看事件").wait_for(timeout=LONG)

    # logout: Streamlit clears its cookie, the provider ends the session, back to the login page
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/oauth2/end_session**", timeout=LONG)
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name="统一身份认证登录").wait_for(timeout=LONG)
    assert page.locator('[data-testid="stMetric"]').count() == 0

    # someone the claim map gives no role: signed in at the provider, refused here
    _sign_in_at_provider(page, "stranger")
    page.get_by_text("本平台未为该身份配置角色或区域").wait_for(timeout=LONG)
    for testid in ("stPlotlyChart", "stDataFrame", "stMetric"):
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, testid
    page.goto(site["url"] + "/cases")
    wait_ready(page, LONG)
    page.get_by_text("本平台未为该身份配置角色或区域").wait_for(timeout=LONG)
    ctx.close()

    log = audit.entries(FULL, path=site["audit"])
    rows = [(r["who"], r["role"], r["action"], r["what"]) for r in log.reverse().iter_rows(named=True)
            if r["action"] in ("login", "login_failed", "logout")]
    assert rows == [("town.lead", "town", "login", "oidc"), ("town.lead", "town", "logout", "oidc"),
                    ("stranger", None, "login_failed", "oidc")]
    login = log.filter(log["action"] == "login").row(0, named=True)
    assert login["area"] == site["own"]
    assert log.filter((log["action"] == "refused") & (log["who"] == "town.lead")).height >= 2
