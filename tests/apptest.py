"""AppTest helpers: run the real app.py (navigation, filters) on one page, as a live server
would. Used by the page tests and by benchmarks/pages.py."""

from __future__ import annotations

import functools
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.i18n import set_lang
from ui.nav import PAGES

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def as_on_a_live_server() -> None:
    """Make AppTest run pages as a live server does. Idempotent.

    AppTest resets Streamlit's legacy pages/ flag before every run, so each run would start
    in legacy mode and ui.filters would rerun it (losing a button click, running the page
    twice). On a live server the flag stays off after app.py's first st.navigation."""
    import streamlit.delta_generator
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import app_test

    # nor does a live server print "run it with `streamlit run`" (a stack walk, ~0.3 s)
    streamlit.delta_generator._use_warning_has_been_displayed = True
    if getattr(PagesManager.__init__, "_live", False):
        return
    # a server compiles each script once (its ScriptCache lives as long as the server);
    # AppTest makes a new cache per run, re-parsing app.py and the page every time
    shared_cache = app_test.ScriptCache()
    app_test.ScriptCache = lambda: shared_cache
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    init._live = True
    PagesManager.__init__ = init


@functools.cache
def _components():
    """A server scans installed packages for components once, at start; AppTest would on
    every new session (~0.4 s), so one scan is shared."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    manager = BidiComponentManager()
    manager.discover_and_register_components(start_file_watching=False)
    return manager


def session(key: str = "home", timeout: float = 120, **query_params) -> AppTest:
    """A new session on page `key`'s URL, not yet run. Running it runs app.py and that page
    only, as a click does (url_path == file stem, so the page is found before the first run)."""
    as_on_a_live_server()
    at = AppTest.from_file(APP, default_timeout=timeout)
    at._bidi_component_manager = _components()
    for k, v in query_params.items():
        at.query_params[k] = v
    if key != "home":
        at.switch_page(next(p for p in PAGES if p.key == key).file)
    return at


def open_page(key: str = "home", timeout: float = 120, **query_params) -> AppTest:
    """Run app.py with the given URL query parameters on page `key`.

    AppTest formats widget options outside a script run too (e.g. on switch_page), where no
    session state says the language: the process default is set to the URL's language.
    """
    set_lang(query_params.get("lang", "zh"))
    at = session(key, timeout, **query_params)
    at.run()
    return at
