"""AppTest helpers: run the real app.py (navigation, filters) and switch to one page."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.nav import PAGES

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page(key: str = "home", timeout: float = 120, **query_params) -> AppTest:
    """Run app.py with the given URL query parameters, then switch to page `key`."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for k, v in query_params.items():
        at.query_params[k] = v
    at.run()
    if key != "home" and not at.exception:
        spec = next(p for p in PAGES if p.key == key)
        at.switch_page(spec.file)
        at.run()
    return at
