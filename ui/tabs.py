"""Lazy tabs kept in the URL (?<key>=<label>), the one way pages bind tabs to the URL.

Streamlit's `st.tabs(key=…, bind="query-params")` stores the open tab's *label*: switching
the language renames every tab, and the open one would fall back to the first. `url_tabs`
remembers which tab (by id) was open and re-selects it under its new label before drawing.
The sidebar filters never write these parameters (ui.filters.write_url)."""

from __future__ import annotations

import streamlit as st

from ui.i18n import t


def url_tabs(key: str, ids: list[str], label_key: str) -> dict:
    """Draw tabs labelled t(label_key.format(id)) for each id; returns {id: TabContainer}.
    Only the open tab's `.open` is true, so pages run the queries of that tab alone."""
    labels = [t(label_key.format(i)) for i in ids]
    by_label = dict(zip(labels, ids))
    remembered = st.session_state.get(f"_tab_{key}")
    if st.session_state.get(key) not in by_label and remembered in ids:
        st.session_state[key] = labels[ids.index(remembered)]
    tabs = st.tabs(labels, key=key, bind="query-params")
    st.session_state[f"_tab_{key}"] = by_label.get(st.session_state.get(key), ids[0])
    return dict(zip(ids, tabs))
