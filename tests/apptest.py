"""AppTest helpers: run the real app.py (navigation, filters) and switch to one page."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.i18n import set_lang
from ui.nav import PAGES

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page(key: str = "home", timeout: float = 120, **query_params) -> AppTest:
    """Run app.py with the given URL query parameters, then switch to page `key`.

    AppTest formats widget options outside a script run too (e.g. on switch_page), where no
    session state says the language: the process default is set to the URL's language.
    """
    set_lang(query_params.get("lang", "zh"))
    at = AppTest.from_file(APP, default_timeout=timeout)
    for k, v in query_params.items():
        at.query_params[k] = v
    at.run()
    if key != "home" and not at.exception:
        spec = next(p for p in PAGES if p.key == key)
        at.switch_page(spec.file)
        at.run()
    return at
