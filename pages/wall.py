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


@st.fragment(run_every=p.tick)
def live() -> None:
    step = p.step()
    data, stale = wall.load(step)
    try:
        markup = wall.render(data, stale, p, step, datetime.now())
        st.session_state["wall_html"] = markup
    except Exception:  # odd data must not put a traceback on the wall: keep the last good one
        markup = st.session_state.get("wall_html", "")
    st.html(markup)


live()
