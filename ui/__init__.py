"""Widgets and helpers shared by the pages: labels, filters, formatting, downloads, caching."""

# Tables go through ui.tables.show (missing cells as "—", fixed decimals, shares as %).


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
