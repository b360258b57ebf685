"""Headless Chromium against a real Streamlit server (Debian's chromium, driven by Playwright).

`server` starts `streamlit run app.py` once per test process on a free port with the small
demo warehouse; `shot()` opens a URL, waits for the script run to finish and saves a PNG
under test-artifacts/ so a person can look at it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, what: str = "streamlit") -> None:
    """Until the server answers /_stcore/health: up to ~2 min on a loaded machine."""
    for _ in range(480):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{what} did not start")


@contextmanager
def streamlit_server(db_path: Path, extra_env: dict | None = None, port: int | None = None,
                     args: tuple[str, ...] = ()):
    port = port or free_port()
    env = os.environ | {"WAREHOUSE_DB": str(db_path)} | (extra_env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false", *args],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # a loaded machine: don't fail the test on shutdown
            proc.kill()
            proc.wait()


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def wait_ready(page, timeout_ms: int = 60_000) -> None:
    """Wait until the app element is there and no script run is in progress."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_timeout(1500)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout_ms)
    page.wait_for_timeout(1000)


def shot(b, url: str, out: Path, size=(1440, 900), full_page: bool = False):
    """Open url, wait for the app, save a screenshot; returns the Playwright page (open)."""
    page = b.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(url)
    wait_ready(page)
    page.screenshot(path=str(out), full_page=full_page)
    return page
