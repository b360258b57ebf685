"""Login through the county's identity provider (Streamlit's own st.login / st.user / st.logout).

Used instead of the local password form when the claim map (warehouse/oidc.py) exists. The
provider's settings are Streamlit's `[auth]` section in `.streamlit/secrets.toml`; the claim
map turns the ID token's claims into a role and area(s). A person the map gives no role is
refused (and the refusal is audited), never let in with a default.
"""

from __future__ import annotations

import threading

import streamlit as st

from ui.i18n import t
from warehouse import audit, oidc

_SEEN: set[tuple[str, str]] = set()  # (subject, issued-at) already audited as a login
_SEEN_LOCK = threading.Lock()


def _first_time(claims: dict) -> bool:
    """A new ID token (not a reload or a new tab of the same login): audit it once."""
    key = (str(claims.get("sub")), str(claims.get("iat") or claims.get("auth_time") or ""))
    with _SEEN_LOCK:
        if key in _SEEN:
            return False
        _SEEN.add(key)
        return True


def identity():
    """The logged-in person's Identity; else draw the login page or a refusal and stop."""
    from ui.auth import only_this

    try:
        cfg = oidc.load()
        logged_in = bool(st.user.is_logged_in)
    except Exception as e:  # noqa: BLE001 - a broken claim map or missing [auth]: let nobody in
        message = t("oidc.misconfigured", error=str(e))
        only_this(lambda: st.error(message))
    if not logged_in:
        only_this(lambda: _login_page(cfg.get("provider") or None))
    claims = st.user.to_dict()
    try:
        ident = oidc.identify(claims, cfg=cfg)
    except oidc.Unmapped as e:
        if _first_time(claims):
            audit.record("login_failed", str(claims.get("preferred_username") or claims.get("email")
                                             or claims.get("sub") or "?"),
                         None, what="oidc", reason=str(e), sub=claims.get("sub"))
        only_this(_refused_page)
    if _first_time(claims):
        audit.record("login", ident.name, ident.role, what="oidc", area=",".join(ident.areas) or None,
                     sub=ident.subject)
    return ident


def _login_page(provider: str | None) -> None:
    st.title(t("auth.title"))
    st.caption(t("oidc.caption"))
    if st.button(t("oidc.login"), type="primary", key="oidc_login", icon=":material/login:"):
        if provider:
            st.login(provider)
        else:
            st.login()


def _refused_page() -> None:
    st.title(t("auth.title"))
    st.error(t("oidc.unmapped"), icon=":material/block:")
    if st.button(t("auth.logout"), key="oidc_refused_logout"):
        st.logout()


def logout(name: str, role: str) -> None:
    audit.record("logout", name, role, what="oidc")
    st.logout()  # queues the redirect to /auth/logout; nothing more of this page is drawn
    st.stop()
