"""Widgets and helpers shared by the pages: labels, filters, formatting, downloads, caching."""

import functools

import streamlit as st
from streamlit.elements.arrow import ArrowMixin

# Streamlit writes a missing table cell as the English word "None". Every table of the
# product shows "—" instead (ui.fmt.MISSING; hidden small counts show ui.fmt.SUPPRESSED),
# so the default is set once here, where every page's imports pass, not in each call.
if not getattr(ArrowMixin.dataframe, "_dash", False):
    _dataframe = ArrowMixin.dataframe

    def _number_formats(data, given: dict | None) -> dict | None:
        """Floats with two fixed decimals (12.07, not 12.0676) and counts with thousands
        separators, for the columns a page did not configure itself."""
        schema = getattr(data, "schema", None)
        if schema is None or not hasattr(schema, "items"):
            return given
        out = dict(given or {})
        for name, dtype in schema.items():
            if name in out:
                continue
            if dtype.is_float():
                out[name] = st.column_config.NumberColumn(format="%.2f")
            elif dtype.is_integer():
                out[name] = st.column_config.NumberColumn(format="localized")
        return out or given

    @functools.wraps(_dataframe)
    def _dataframe_with_dash(self, data=None, *args, placeholder: str | None = "—", column_config=None, **kwargs):
        try:  # polars frames only (the pages' tables); anything odd is drawn as given
            column_config = _number_formats(data, column_config)
        except Exception:  # noqa: BLE001
            pass
        return _dataframe(self, data, *args, placeholder=placeholder, column_config=column_config, **kwargs)

    _dataframe_with_dash._dash = True
    ArrowMixin.dataframe = _dataframe_with_dash
    st.dataframe = st._main.dataframe  # st.dataframe was bound when streamlit was imported


def _leave_legacy_pages_mode() -> None:
    """A fresh server's first request for a deep link (/cases) runs that page file alone, in
    Streamlit's legacy pages/ mode, skipping app.py and with it the login gate. Every page
    imports ui first, and the first import in a server happens in that very run: switch the
    mode off and rerun, so app.py (the gate, then the navigation) runs instead."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:
        return
    if PagesManager.uses_pages_directory and get_script_run_ctx(suppress_warning=True) is not None:
        PagesManager.uses_pages_directory = False
        import streamlit as st

        st.rerun()


_leave_legacy_pages_mode()
