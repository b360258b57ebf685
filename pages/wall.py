"""指挥大屏: the wall display. Full screen, dark, refreshes and rotates itself, aggregates only.

URL: /?view=wall (navigation hidden) or /wall. Parameters: refresh (seconds, default 30),
rotate (seconds, default 20), play (1 rotating, 0 paused), panel (step shown while paused),
lang (zh|en). Never calls ui.filters.sidebar(): a wall has no filters.
"""

from datetime import datetime

import streamlit as st

from ui import wall

p = wall.params_from(st.query_params.to_dict())
st.html(wall.css())
st.html(wall.CLOCK_JS, unsafe_allow_javascript=True)


FLASH_SECONDS = 60


def new_reds(data: dict, now: datetime) -> set[str]:
    """Red warnings first seen on this screen less than FLASH_SECONDS ago (they flash)."""
    seen = st.session_state.setdefault("wall_red_seen", {})
    for kind in wall.WARNING_KINDS:
        for key in wall.red_keys(data.get(kind)):
            seen.setdefault(key, now)
    return {k for k, first in seen.items() if (now - first).total_seconds() < FLASH_SECONDS}


@st.fragment(run_every=p.tick)
def live() -> None:
    step, now, box = p.step(), datetime.now(), st.empty()
    try:
        data, stale = wall.load(step, wall.LIGHT)
        first = wall.render(data, stale, p, step, now, pending=True)
        box.html(first)
        data, more = wall.load(step, wall.HEAVY)
        markup = wall.render(data, stale + more, p, step, now, flash=new_reds(data, now))
        st.session_state["wall_html"] = markup
        if markup != first:
            box.html(markup)
    except Exception:  # odd data must not put a traceback on the wall: keep the last good one
        box.html(st.session_state.get("wall_html", ""))


live()
