"""Streamlit's own controls in the page's language. The ⋮ menu (English entries, version) is
gone through .streamlit/config.toml (client.toolbarMode = "minimal"); the run-status widget
("Running...", "Stop") cannot be translated, so its text is replaced by ours with CSS."""

from __future__ import annotations

import streamlit as st

from ui.i18n import t


def chrome() -> None:
    running = t("app.running").replace('"', "")
    st.html(f"""<style>
[data-testid="stStatusWidget"] label, [data-testid="stStatusWidget"] button {{ display: none; }}
[data-testid="stStatusWidget"]::after {{ content: "{running}"; font-size: 0.85rem; margin-left: 0.3rem; }}
[data-testid="stAppDeployButton"], [data-testid="stMainMenu"] {{ display: none; }}
</style>""")
