"""The watchdog restarts a stuck app and the wall comes back by itself (issue 17).

A real watchdog (scripts/watchdog.py) runs one app process on the small demo; the wall is open
in Chromium. The app is frozen with SIGSTOP (alive, health unanswered: what a deadlock looks
like from outside); the watchdog must log the restart, and the same browser tab must show the
wall again without anyone reloading it. Slow (about two minutes): `pytest -m slow`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from benchmarks.stclient import health
from tests.browser import ROOT, free_port, wait_healthy

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _app_pid(log) -> int:
    """The pid of the app the watchdog started last (its log: 'started app on :PORT (pid N)')."""
    return int(re.findall(r"started app on :\d+ \(pid (\d+)\)", log.read_text())[-1])


def test_stuck_app_is_restarted_and_the_wall_recovers(small_db, tmp_path, chromium):
    from tests.browser import wait_ready

    port = free_port()
    wd = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "watchdog.py"), "--ports", str(port), "--log-dir", str(tmp_path),
         "--interval", "1", "--timeout", "2", "--stuck-after", "6", "--grace", "120"],
        cwd=ROOT, env=os.environ | {"WAREHOUSE_DB": str(small_db)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, "app")
        page = chromium.new_page(viewport={"width": 1920, "height": 1080})
        frames = []  # arrival times of messages from the server, on any websocket of the tab
        page.on("websocket", lambda ws: ws.on("framereceived", lambda _: frames.append(time.monotonic())))
        page.goto(url + "/?view=wall&refresh=5&lang=zh")
        wait_ready(page, timeout_ms=90_000)
        page.wait_for_selector(".w-panel", timeout=60_000)

        first = _app_pid(tmp_path / "watchdog.log")
        os.kill(first, signal.SIGSTOP)  # alive but answering nothing
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "RESTART" not in (tmp_path / "watchdog.log").read_text():
            time.sleep(0.5)
        log = (tmp_path / "watchdog.log").read_text()
        assert f"RESTART app on :{port}: health unanswered" in log, log
        while time.monotonic() < deadline and _app_pid(tmp_path / "watchdog.log") == first:
            time.sleep(0.5)  # the stuck one is woken to dump its stacks, then killed
        assert _app_pid(tmp_path / "watchdog.log") != first
        while time.monotonic() < deadline + 120 and health(url, 1.0) is None:
            time.sleep(0.5)
        back = time.monotonic()
        # the same tab, never reloaded by us: the frontend opens a new websocket to the new
        # process, which reruns the wall and keeps refreshing it
        while time.monotonic() < back + 120 and not [t for t in frames if t > back]:
            page.wait_for_timeout(1000)
        assert [t for t in frames if t > back], "the page never heard from the new process"
        page.wait_for_function("document.querySelectorAll('.w-panel').length > 0 && "
                               "!document.querySelector('[data-testid=stStatusWidget]')", timeout=120_000)
        app_log = tmp_path / f"app-{port}.log"
        assert "Thread 0x" in app_log.read_text()  # the stuck process's stacks were dumped
        page.close()
    finally:
        wd.send_signal(signal.SIGTERM)
        try:
            wd.wait(40)
        except subprocess.TimeoutExpired:
            wd.kill()
