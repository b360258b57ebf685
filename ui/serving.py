"""What a server with many sessions needs before the first session runs a page.

Streamlit runs every session's script on its own thread in one process. Three things made
concurrent sessions fail (README, "Operations"):

- heavy libraries imported lazily by the first page that needs them: two sessions importing
  pandas/pyarrow at once can see a half-initialised module (`partially initialized module
  'pandas'`). `preload()` imports them all once, under a lock, before any page code;
- polars deadlocks when one thread runs `DataFrame.to_numpy()` while another converts the
  SAME frame with `to_arrow()`/`to_pandas()` (measured on polars 2.1.0; the thread holding
  the GIL waits for a lock the other thread holds while it waits for the GIL). Streamlit,
  plotly and our code all convert frames, and cached frames are shared between sessions, so
  `preload()` makes those conversions work on a private shallow copy (`clone()`, no data
  copied);
- Python callbacks inside polars expressions (removed from the code; see warehouse/pymap.py).

`preload()` also makes `kill -USR1 PID` write every thread's stack to stderr, so a stuck
server can be diagnosed before the watchdog restarts it.
"""

from __future__ import annotations

import faulthandler
import functools
import importlib
import os
import signal
import threading
from contextlib import contextmanager

HEAVY = ("numpy", "pandas", "pyarrow", "pyarrow.compute", "polars", "duckdb", "narwhals",
         "plotly.express", "plotly.graph_objects", "plotly.io", "pydeck",
         "streamlit.dataframe_util", "streamlit.elements.plotly_chart", "streamlit.elements.arrow",
         "streamlit.elements.deck_gl_json_chart")
OWN = ("warehouse", "ui")  # every module of these packages (pages import them)
SKIP = ("__main__", "_cli", ".serving")


def _modules() -> list[str]:
    import pkgutil

    names = list(HEAVY)
    for pkg in OWN:
        mod = importlib.import_module(pkg)
        names += [m.name for m in pkgutil.walk_packages(mod.__path__, pkg + ".")
                  if not m.name.endswith(SKIP)]
    return names


_lock = threading.Lock()
_done = False


def preload() -> None:
    """Import the heavy libraries and guard polars' conversions; once per process, thread-safe."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        for name in _modules():
            try:
                importlib.import_module(name)
            except ImportError:  # an optional extra; the page that needs it says so
                pass
        guard_polars_conversions()
        try:
            faulthandler.register(signal.SIGUSR1, all_threads=True)
        except (AttributeError, ValueError, RuntimeError):  # not on the main thread / platform
            pass
        _done = True


def guard_polars_conversions() -> None:
    """DataFrame.to_numpy/to_arrow/to_pandas on a shallow clone, so two threads never convert
    the same frame object at once (the polars 2.1.0 deadlock described above)."""
    import polars as pl

    for name in ("to_numpy", "to_arrow", "to_pandas"):
        original = getattr(pl.DataFrame, name)
        if getattr(original, "_on_clone", False):
            continue

        def on_clone(self, *args, __original=original, **kwargs):
            return __original(self.clone(), *args, **kwargs)

        functools.update_wrapper(on_clone, original)
        on_clone._on_clone = True
        setattr(pl.DataFrame, name, on_clone)


# Page runs at once per process. More than the cores only adds contention: every running
# script competes for the GIL with the event loop that answers health checks and websockets.
RUNS_AT_ONCE = int(os.environ.get("APP_RUNS_AT_ONCE", max(2, os.cpu_count() or 2)))
_slots = threading.BoundedSemaphore(RUNS_AT_ONCE)


@contextmanager
def run_slot(wait: float = 120.0):
    """Hold one of RUNS_AT_ONCE page-run slots (waiting releases the GIL). After `wait`
    seconds the run goes ahead anyway: a slow page can delay others, never block them."""
    got = _slots.acquire(timeout=wait)
    try:
        yield
    finally:
        if got:
            _slots.release()


def main(argv: list[str] | None = None) -> None:
    """`python -m ui.serving run app.py [streamlit options]`: preload, then Streamlit's own CLI
    in this process, so the imports are done before the server accepts its first session."""
    import sys

    preload()
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    # app.py's st.navigation picks every page: never Streamlit's legacy pages/ mode, which runs a
    # deep-linked page file alone on a fresh server (skipping app.py and its login gate)
    PagesManager.uses_pages_directory = False

    cli.main(args=sys.argv[1:] if argv is None else argv, prog_name="streamlit")


if __name__ == "__main__":
    main()
