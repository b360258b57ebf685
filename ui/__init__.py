"""Widgets and helpers shared by the pages: labels, filters, formatting, downloads, caching."""

import functools

import streamlit as st
from streamlit.elements.arrow import ArrowMixin

# Streamlit writes a missing table cell as the English word "None". Every table of the
# product shows "—" instead (ui.fmt.MISSING; hidden small counts show ui.fmt.SUPPRESSED),
# so the default is set once here, where every page's imports pass, not in each call.
if not getattr(ArrowMixin.dataframe, "_dash", False):
    _dataframe = ArrowMixin.dataframe

    @functools.wraps(_dataframe)
    def _dataframe_with_dash(self, *args, placeholder: str | None = "—", **kwargs):
        return _dataframe(self, *args, placeholder=placeholder, **kwargs)

    _dataframe_with_dash._dash = True
    ArrowMixin.dataframe = _dataframe_with_dash
    st.dataframe = st._main.dataframe  # st.dataframe was bound when streamlit was imported
