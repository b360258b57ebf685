"""The global filters in the sidebar (language, area drill path, period), kept in the URL.

Every page calls `sidebar()` first and passes the returned Filters to the warehouse. The
URL holds the same state (?area=…&grain=…&period=…&lang=…), so a pasted link opens the same
view, and `set_area()` lets a chart click narrow the drill path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from ui import fmt
from ui.cache import call
from ui.i18n import t
from warehouse import areas as wa
from warehouse import meta
from warehouse.db import Scope
from warehouse.periods import GRAINS, Period, parse, period_of

ALL = ""


@dataclass(frozen=True)
class Filters:
    area_code: str
    period: Period
    scope: Scope
    lang: str

    @property
    def level(self) -> str:
        return wa.level_of(self.area_code)


def current_scope() -> Scope:
    """The viewer's scope (ui/auth.py: the signed-in account; everything in demo mode)."""
    from ui.auth import viewer

    return viewer().scope


def _qp(name: str, default: str = "") -> str:
    return st.query_params.get(name, default)


def _init(key: str, value) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


# Opening another page resets its widgets (each page draws its own sidebar, so the widgets
# are new ones) and clears the URL query. Re-assigning each key before its widget is drawn
# (Streamlit's documented way to keep widget values across pages), from copies under
# non-widget keys when the key is gone, carries the filters from page to page.
KEPT = ("lang", "f_county", "f_town", "f_village", "f_grid", "f_grain", "f_period", "f_range")


def _restore(keys=KEPT) -> None:
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
        elif f"_keep_{key}" in st.session_state:
            st.session_state[key] = st.session_state[f"_keep_{key}"]


def _keep() -> None:
    for key in KEPT:
        if key in st.session_state:
            st.session_state[f"_keep_{key}"] = st.session_state[key]


def init_language() -> str:
    _restore(("lang",))
    _init("lang", _qp("lang", "zh") if _qp("lang", "zh") in ("zh", "en") else "zh")
    return st.session_state["lang"]


def set_area(code: str) -> None:
    """Narrow (or widen) the drill path to `code`; takes effect on the next run (`st.rerun()`).

    Safe anywhere: widget keys cannot be written once their widgets exist in a run, so the
    code waits in session state and the sidebar applies it before drawing the selectboxes.
    """
    st.session_state["_pending_area"] = code


def _apply_area(code: str) -> None:
    st.session_state["f_county"] = code[:6]
    st.session_state["f_town"] = code[:9] if len(code) >= 9 else ALL
    st.session_state["f_village"] = code[:12] if len(code) >= 12 else ALL
    st.session_state["f_grid"] = code if len(code) == 15 else ALL


def _area_select(scope: Scope) -> str:
    names = call(wa.names)
    roots = call(wa.root_codes, scope)
    want = _qp("area", roots[0])
    pending = st.session_state.pop("_pending_area", None)
    if pending and any(pending.startswith(r) for r in roots):
        _apply_area(pending)
    elif "f_county" not in st.session_state:
        _apply_area(want if any(want.startswith(r) for r in roots) else roots[0])
    label = lambda c: t("filter.all") if c == ALL else names.get(c, c)  # noqa: E731
    county = st.selectbox(t("filter.county"), roots, key="f_county", format_func=label)
    chosen = county
    for level, key in (("town", "f_town"), ("village", "f_village"), ("grid", "f_grid")):
        kids = call(wa.areas, scope, parent=chosen)["code"].to_list() if chosen else []
        if not kids:
            break
        if st.session_state.get(key, ALL) not in kids:
            st.session_state[key] = ALL
        pick = st.selectbox(t(f"filter.{level}"), [ALL, *kids], key=key, format_func=label)
        if pick == ALL:
            break
        chosen = pick
    return chosen


def _iso(text) -> date | None:
    """A YYYY-MM-DD from the URL, or None when it is not one (never an error on the page)."""
    try:
        return date.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


def period_options(grain: str, last: date, first: date) -> list[str]:
    out, p = [], period_of(grain, last)
    while p.end > first and len(out) < 60:
        out.append(p.key)
        p = p.previous()
    return out


def _period_select() -> Period:
    first, last = call(meta.data_range)
    _init("f_grain", _qp("grain", "month") if _qp("grain", "month") in GRAINS else "month")
    grain = st.radio(t("filter.grain"), GRAINS, key="f_grain", horizontal=True,
                     format_func=lambda g: t(f"grain.{g}"))
    if grain == "custom":
        default = (last - timedelta(days=29), last)
        if _iso(_qp("from")) and _iso(_qp("to")):  # a malformed date in the URL is ignored
            default = (_iso(_qp("from")), _iso(_qp("to")))
        _init("f_range", default)
        rng = st.date_input(t("filter.range"), key="f_range", min_value=first, max_value=last)
        a, b = (rng if isinstance(rng, tuple) and len(rng) == 2 else default)
        return Period(a, b + timedelta(days=1), "custom")
    options = period_options(grain, last, first)
    fallback = call(meta.default_period, grain).key
    wanted = _qp("period", fallback)
    if st.session_state.get("f_period") not in options:
        st.session_state["f_period"] = wanted if wanted in options else fallback
    key = st.selectbox(t("filter.period"), options, key="f_period",
                       format_func=lambda k: _period_label(parse(k, grain)))
    return parse(key, grain)


def _period_label(p: Period) -> str:
    return fmt.period(p)


def _leave_legacy_pages_mode() -> None:
    """A deep link (/overview?…) as a fresh server's first request runs the page file alone:
    Streamlit treats an app with a pages/ folder as a legacy multipage app until some session
    runs app.py's st.navigation. Switch that off and rerun, so app.py (layout, navigation)
    runs and opens the same page."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


FILTER_PARAMS = ("lang", "area", "grain", "period", "from", "to")


def _follow_url() -> None:
    """Back/forward: Streamlit reruns with the older URL. When the URL's filters differ from
    the ones this session last wrote, the URL wins (applied before the widgets are drawn)."""
    written = st.session_state.get("_qp_written")
    now = {k: v for k, v in st.query_params.to_dict().items() if k in FILTER_PARAMS}
    if written is None or not now or now == written:
        return
    if now.get("lang") in ("zh", "en"):
        st.session_state["lang"] = now["lang"]
    if now.get("area", "").isdigit():
        st.session_state["_pending_area"] = now["area"]
    if now.get("grain") in GRAINS:
        st.session_state["f_grain"] = now["grain"]
    if now.get("period"):
        st.session_state["f_period"] = now["period"]
    if _iso(now.get("from")) and _iso(now.get("to")):
        st.session_state["f_range"] = (_iso(now["from"]), _iso(now["to"]))


def write_url(params: dict[str, str]) -> None:
    """Write the filter parameters into the URL, touching no other one.

    The URL is shared: tabs and other widgets bound with `bind="query-params"` own their own
    parameters (Streamlit refuses any write to them), pages keep e.g. ?case= or ?grid=. So
    the filters set and delete only the FILTER_PARAMS they own, never the whole query."""
    now = st.query_params.to_dict()
    changed = {k: v for k, v in params.items() if now.get(k) != v}
    if changed:
        st.query_params.update(changed)
    for k in FILTER_PARAMS:
        if k not in params and k in now:
            del st.query_params[k]


def sidebar(show_area: bool = True, show_period: bool = True) -> Filters:
    """Draw the global filters and return them; also writes them to the URL."""
    _leave_legacy_pages_mode()
    _follow_url()
    lang = init_language()
    scope = current_scope()
    scope.check_area(_qp("area") or None)  # an ?area= outside the scope is refused, not replaced
    _restore()
    with st.sidebar:
        st.radio(t("filter.lang"), ("zh", "en"), key="lang", horizontal=True,
                 format_func=lambda x: {"zh": "中文", "en": "English"}[x])
        area = _area_select(scope) if show_area else _qp("area", call(wa.root_codes, scope)[0])
        period = _period_select() if show_period else call(meta.default_period, "month")
    lang = st.session_state["lang"]
    params = {"lang": lang, "area": area, "grain": period.grain}
    if period.grain == "custom":
        params |= {"from": str(period.start), "to": str(period.end - timedelta(days=1))}
    else:
        params["period"] = period.key
    write_url(params)
    st.session_state["_qp_written"] = params
    _keep()
    return Filters(area, period, scope, lang)
