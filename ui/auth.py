"""Who is looking: the login gate app.py runs before any page, the viewer's scope, logout,
the demo-mode marker, page-view auditing and the refusal shown for out-of-scope requests.

- No account configured (warehouse/accounts.py): demo mode, everyone sees everything, every
  page says 演示模式, and scripts/start.sh serves on localhost only.
- `/?view=wall&token=…`: a wall account's kiosk token opens the wall and nothing else.
- Otherwise a session: a random token whose hash lives in the accounts file; the browser
  keeps it in a cookie (set by a tiny script, read back by `st.context.cookies` when a
  reload opens a new session), so a reload stays logged in until IDLE_MINUTES pass idle
  or the user logs out.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import streamlit as st

from ui import tables
from ui.i18n import has, t
from ui.mdtext import md
from warehouse import accounts, audit, oidc
from warehouse.scope import FULL, WALL, OutOfScope, Scope

COOKIE = "gov_session"
_VIEWER = "_auth_viewer"
_SID = "_auth_sid"


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    scope: Scope
    demo: bool = False
    kiosk: bool = False  # a wall account on its token: the wall and nothing else
    sso: bool = False    # logged in through the identity provider (ui/auth_oidc.py)


DEMO = Viewer("demo", "admin", FULL, demo=True)


def viewer() -> Viewer:
    """The viewer of this run (set by gate(); demo when no account exists)."""
    v = st.session_state.get(_VIEWER)
    if v is None:
        if accounts.has_accounts() or oidc.configured():
            raise OutOfScope("admin", Scope((), False, "anonymous", "none"))
        return DEMO
    return v


def wall_scope() -> Scope:
    """What the wall display reads with: the viewer's areas, aggregates only."""
    v = viewer()
    if v.demo:
        return WALL
    return Scope(v.scope.areas, person_level=False, name=v.name, role="wall")


def gate(view: str | None) -> Viewer:
    """Decide who is looking, or draw the login form and stop the run."""
    _cookie_script()
    sso = oidc.configured()  # the claim map exists: the identity provider logs people in
    if not sso and not accounts.has_accounts():
        st.session_state[_VIEWER] = DEMO
        return DEMO
    token = st.query_params.get("token")
    if view == "wall" and token:
        acc = accounts.wall_account(token)
        if acc is None:
            _audit("login_failed", "?", None, what="wall token")
            only_this(lambda: st.error(t("auth.wall_token_bad")))
        v = Viewer(acc.name, acc.role, acc.scope, kiosk=True)
        if st.session_state.get(_VIEWER) != v:
            _audit("login", v.name, v.role, what="wall token")
        st.session_state[_VIEWER] = v
        return v
    if sso:
        from ui import auth_oidc

        ident = auth_oidc.identity()
        v = Viewer(ident.name, ident.role, ident.scope, kiosk=ident.role == "wall", sso=True)
        st.session_state[_VIEWER] = v
        return v
    sid = st.session_state.get(_SID) or st.context.cookies.get(COOKIE)
    acc = accounts.session_account(sid)
    if acc is None or acc.role == "wall":
        had = st.session_state.pop(_VIEWER, None) is not None
        st.session_state.pop(_SID, None)
        only_this(lambda: _login_form(expired=had))
    v = Viewer(acc.name, acc.role, acc.scope)
    st.session_state[_SID] = sid
    st.session_state[_VIEWER] = v
    return v


def only_this(draw) -> None:
    """Draw `draw` (the login form, a refusal) under every page's URL and stop the run: no page
    file runs, and every run still calls st.navigation (a run without it drops Streamlit back to
    its pages/ folder mode, where the next deep link finds no page). A deep link opens its page
    once logged in."""
    from ui.nav import PAGES

    # the default page is served at / only: a page of its own, so /home is a page like the others
    pages = [st.Page(draw, title=t("auth.login"), url_path="root", default=True)]
    pages += [st.Page(draw, title=t("auth.login"), url_path=p.key) for p in PAGES]
    st.navigation(pages, position="hidden").run()
    st.stop()


def _login_form(expired: bool = False) -> None:
    st.title(t("auth.title"))
    if expired:
        st.info(t("auth.expired"))
    with st.form("login", clear_on_submit=False):
        name = st.text_input(t("auth.username"), key="login_name")
        password = st.text_input(t("auth.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("auth.login"), type="primary")
    if not submitted:
        return
    try:
        acc = accounts.login(name.strip(), password)
    except accounts.LoginRefused as e:
        _audit("login_failed", name.strip() or "?", None, reason=e.reason)
        if e.reason == "locked":
            st.error(t("auth.locked", minutes=accounts.LOCK_MINUTES))
        else:
            st.error(t(f"auth.{e.reason}"))
        return
    sid = accounts.start_session(acc.name)
    _audit("login", acc.name, acc.role)
    st.session_state[_SID] = sid
    st.session_state["_auth_set_cookie"] = sid
    st.session_state.pop("login_password", None)
    st.rerun()


def _cookie_script() -> None:
    """Write (after login) or clear (after logout) the session cookie in the browser."""
    value = st.session_state.pop("_auth_set_cookie", None)
    clear = st.session_state.pop("_auth_clear_cookie", False)
    if value is None and not clear:
        return
    # the token is URL-safe base64: nothing to escape
    cookie = f"{COOKIE}={value}; path=/; SameSite=Strict" if value else f"{COOKIE}=; path=/; max-age=0"
    st.html(f"<script>document.cookie = {cookie!r};</script>", unsafe_allow_javascript=True)


def sidebar_user(v: Viewer) -> None:
    """Who is signed in and the logout button; the demo marker in demo mode."""
    with st.sidebar:
        if v.demo:
            st.badge(t("auth.demo"), icon=":material/science:", color="orange")
            st.caption(t("auth.demo_help"))
            return
        st.caption(t("auth.signed_in", name=md(v.name), role=t(f"auth.role.{v.role}")))
        if st.button(t("auth.logout"), key="auth_logout", icon=":material/logout:"):
            if v.sso:
                from ui import auth_oidc

                st.session_state.pop(_VIEWER, None)
                auth_oidc.logout(v.name, v.role)
                return
            accounts.end_session(st.session_state.get(_SID))
            _audit("logout", v.name, v.role)
            for k in (_SID, _VIEWER):
                st.session_state.pop(k, None)
            st.session_state["_auth_clear_cookie"] = True
            st.rerun()


def wall_demo_marker() -> None:
    """The wall has no sidebar: a small fixed corner label says 演示模式."""
    st.html(f"<div style='position:fixed;left:8px;bottom:4px;z-index:1000;font-size:12px;"
            f"color:#f0a020;opacity:.8'>{html.escape(t('auth.demo'))}</div>")


def record_view(v: Viewer, page: str) -> None:
    """One audit row per page view and change of its filters (not per widget rerun)."""
    params = {k: v_ for k, v_ in st.query_params.to_dict().items() if k != "token"}
    key = (page, tuple(sorted(params.items())))
    if st.session_state.get("_auth_last_view") == key:
        return
    st.session_state["_auth_last_view"] = key
    _audit("view", v.name, v.role, what=page, area=params.get("area"), filters=params)


def refused(v: Viewer, e: OutOfScope, page: str) -> None:
    """Show a refusal (never a widened view) and record it."""
    _audit("refused", v.name, v.role, what=page, area=e.params.get("area") or e.params.get("case_id"),
           reason=str(e))
    st.error(t(f"scope.refused.{e.key}", **e.params), icon=":material/block:")
    st.page_link("pages/home.py", label=t("scope.refused.back"), icon=":material/home:")


def _audit(action: str, who: str, role: str | None, **kw) -> None:
    audit.record(action, who, role, **kw)


def audited(action: str, what: str, fn, area: str | None = None, rows: int | None = None):
    """Wrap a download's data callable: producing the file appends an audit row (who, what,
    area, rows). Who and the area are taken now, while drawing the button."""
    v, area = viewer(), area or st.query_params.get("area")

    def produce():
        data = fn()
        audit.record(action, v.name, v.role, what=what, area=area, rows=rows)
        return data
    return produce


def audit_view(scope: Scope) -> None:
    """The latest audit rows for administrators (the page offers no way to change them)."""
    from ui.download import buttons

    st.subheader(t("audit.title"))
    st.caption(t("audit.caption"))
    log = audit.entries(scope, limit=1000)
    tables.show(log.rename({c: t(f"audit.col.{c}") for c in log.columns if has(f"audit.col.{c}")}),
                 hide_index=True, width="stretch")
    buttons(log, "audit_log", key="audit_log")
