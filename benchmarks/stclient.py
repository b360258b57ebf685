"""A Streamlit user without a browser: speaks the app's websocket protocol (BackMsg/ForwardMsg).

The browser frontend opens `ws://HOST/_stcore/stream` (subprotocol "streamlit"), sends a
`BackMsg.rerun_script` carrying a `ClientState` (query string, page name, widget states) and
reads `ForwardMsg`s until `script_finished`. This client does the same, so a load test drives
exactly the server code paths a browser does (script threads, caches, dataframes serialised to
Arrow, plotly figures to JSON), minus the drawing. It also collects the widgets each run sends,
so a user can change a filter the way a person would, and answers the wall's fragment timer.

Used by benchmarks/load_users.py and tests/test_concurrency.py.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED_OK = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
WIDGET_KINDS = ("selectbox", "radio", "multiselect", "button_group", "checkbox")
RUN_TIMEOUT = 60.0  # a page run that takes longer counts as an error (timeout)


@dataclass
class Widget:
    kind: str
    id: str
    options: list[str]
    disabled: bool

    def random_state(self, rng: random.Random) -> WidgetState | None:
        """A different value a person could pick; None when there is nothing to pick."""
        ws = WidgetState(id=self.id)
        if self.kind == "checkbox":
            ws.bool_value = rng.random() < 0.5
        elif not self.options:
            return None
        elif self.kind in ("selectbox", "radio"):
            ws.string_value = rng.choice(self.options)
        elif self.kind == "button_group":  # a click selects one (a required group cannot be emptied)
            ws.string_array_value.data[:] = [rng.choice(self.options)]
        else:  # multiselect: none or one option
            ws.string_array_value.data[:] = rng.sample(self.options, k=rng.randint(0, 1))
        return ws


@dataclass
class Run:
    page: str
    seconds: float
    ok: bool
    status: str                       # finished | timeout | closed | page_not_found | compile_error
    exceptions: list[str] = field(default_factory=list)
    widgets: list[Widget] = field(default_factory=list)
    tabs: dict[str, list[str]] = field(default_factory=dict)  # query param key -> tab labels
    fragments: list[tuple[str, float]] = field(default_factory=list)  # (fragment id, interval s)


class Session:
    """One websocket session. `await run(page, query)` returns when the script run ends."""

    def __init__(self, base_url: str, timeout: float | None = None):
        self.ws_url = base_url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        self.timeout = RUN_TIMEOUT if timeout is None else timeout
        self.ws = None
        self.page = ""
        self.query = ""

    async def __aenter__(self):
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=self.timeout, ping_interval=None)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def run(self, page: str, query: str = "", widgets: list[WidgetState] = (),
                  fragment_id: str = "") -> Run:
        self.page, self.query = page, query
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string, cs.page_name = query, page
        cs.widget_states.widgets.extend(widgets)
        if fragment_id:
            cs.fragment_id, cs.is_auto_rerun = fragment_id, True
        t0 = time.perf_counter()
        run = Run(page, 0.0, False, "timeout")
        try:
            await self.ws.send(msg.SerializeToString())
            await asyncio.wait_for(self._read_until_finished(run), self.timeout)
        except TimeoutError:
            run.status = "timeout"
        except websockets.ConnectionClosed:
            run.status = "closed"
        run.seconds = time.perf_counter() - t0
        return run

    async def _read_until_finished(self, run: Run) -> None:
        tab_labels: dict[str, list[str]] = {}
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await self.ws.recv())
            kind = fm.WhichOneof("type")
            if kind == "delta":
                self._collect(fm.delta, run, tab_labels)
            elif kind == "auto_rerun":
                run.fragments.append((fm.auto_rerun.fragment_id, fm.auto_rerun.interval))
            elif kind == "page_not_found":
                run.status = "page_not_found"
                return
            elif kind == "session_event" and fm.session_event.HasField("script_compilation_exception"):
                run.status = "compile_error"
                run.exceptions.append(fm.session_event.script_compilation_exception.message)
                return
            elif kind == "script_finished":
                if fm.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                run.status = "finished"
                run.ok = fm.script_finished in FINISHED_OK and not run.exceptions
                run.tabs = {k: v for k, v in tab_labels.items() if v}
                return

    def _collect(self, delta, run: Run, tab_labels: dict) -> None:
        which = delta.WhichOneof("type")
        if which == "new_element":
            el = delta.new_element
            etype = el.WhichOneof("type")
            if etype == "exception":
                run.exceptions.append(f"{el.exception.type}: {el.exception.message}")
            elif etype in WIDGET_KINDS:
                proto = getattr(el, etype)
                opts = ([o.content for o in proto.options] if etype == "button_group"
                        else list(getattr(proto, "options", [])))
                run.widgets.append(Widget(etype, proto.id, opts, proto.disabled))
        elif which == "add_block":
            blk = delta.add_block
            btype = blk.WhichOneof("type")
            if btype == "tab_container" and blk.tab_container.query_param_key:
                self._tab_key = blk.tab_container.query_param_key
                tab_labels.setdefault(self._tab_key, [])
            elif btype == "tab" and getattr(self, "_tab_key", None):
                tab_labels[self._tab_key].append(blk.tab.label)


def health(base_url: str, timeout: float = 2.0) -> float | None:
    """Seconds /_stcore/health took to answer "ok", or None when it did not answer in time."""
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/_stcore/health", timeout=timeout) as r:
            return time.perf_counter() - t0 if r.read() == b"ok" else None
    except OSError:
        return None


def query_with(query: str, **params: str) -> str:
    q = dict(urllib.parse.parse_qsl(query))
    q.update(params)
    return urllib.parse.urlencode(q)
