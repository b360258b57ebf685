"""Soak test of the wall display: keep it open for N minutes of refreshes, report memory.

    python benchmarks/wall_soak.py [--minutes 30] [--refresh 30] [--rotate 20] [--db PATH] [--json]

Starts its own Streamlit server (on --db, else a fresh small demo in a temporary directory)
and Debian's chromium at 1920×1080 on /?view=wall, then samples once a minute: the server's
RSS, the browser's RSS (main process and all its children), the page's JS heap and DOM size,
and how many times the wall was redrawn. Start and end figures are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM_ARGS, free_port, wait_ready  # noqa: E402

TAG = f"--wall-soak-{os.getpid()}"  # unknown switch, ignored by chromium, marks our browser

COUNT_RENDERS_JS = """() => {
  window.__wallRenders = 0;
  new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes)
      if (n.nodeType === 1 && (n.id === 'wall' || n.querySelector?.('#wall'))) window.__wallRenders++; })
    .observe(document.body, {childList: true, subtree: true});
}"""
PAGE_STATS_JS = """() => ({renders: window.__wallRenders, nodes: document.getElementsByTagName('*').length,
  heap_mb: performance.memory ? performance.memory.usedJSHeapSize / 1048576 : null,
  clock: document.getElementById('wall-clock')?.textContent})"""


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    return kids


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss_mb(root: int) -> float:
    """RSS of a process and all its descendants (shared pages counted per process)."""
    kids, todo, total = _children(), [root], 0.0
    while todo:
        pid = todo.pop()
        total += _rss_mb(pid)
        todo.extend(kids.get(pid, []))
    return total


def browser_pid() -> int | None:
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if TAG.encode() in cmd and not any(a.startswith(b"--type=") for a in cmd):
                return int(d.name)
    return None


def start_server(db: Path, port: int) -> subprocess.Popen:
    env = os.environ | {"WAREHOUSE_DB": str(db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.25)
    proc.terminate()
    raise RuntimeError("streamlit did not start")


def soak(db: Path, minutes: float, refresh: int, rotate: int) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = start_server(db, port)
    samples = []
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=shutil.which("chromium"), args=[*CHROMIUM_ARGS, TAG])
            page = b.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"http://127.0.0.1:{port}/?view=wall&refresh={refresh}&rotate={rotate}&play=1")
            wait_ready(page)
            page.wait_for_selector("#wall")
            page.evaluate(COUNT_RENDERS_JS)
            bpid = browser_pid()
            t0 = time.monotonic()

            def sample() -> None:
                stats = page.evaluate(PAGE_STATS_JS)
                samples.append({"minute": round((time.monotonic() - t0) / 60, 2),
                                "server_rss_mb": round(tree_rss_mb(server.pid), 1),
                                "browser_rss_mb": round(tree_rss_mb(bpid), 1) if bpid else None,
                                "js_heap_mb": round(stats["heap_mb"], 1) if stats["heap_mb"] else None,
                                "dom_nodes": stats["nodes"], "renders": stats["renders"],
                                "clock": stats["clock"]})

            sample()
            for _ in tqdm(range(max(1, round(minutes))), desc="soak", unit="min"):
                page.wait_for_timeout(60_000 * minutes / max(1, round(minutes)))
                sample()
            errors = page.locator('[data-testid="stException"]').count()
            b.close()
    finally:
        server.terminate()
        server.wait(10)
    first, last = samples[0], samples[-1]
    return {"minutes": minutes, "refresh_s": refresh, "rotate_s": rotate, "start": first, "end": last,
            "server_rss_growth_mb": round(last["server_rss_mb"] - first["server_rss_mb"], 1),
            "browser_rss_growth_mb": (round(last["browser_rss_mb"] - first["browser_rss_mb"], 1)
                                      if first["browser_rss_mb"] else None),
            "exceptions_on_page": errors, "samples": samples}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--refresh", type=int, default=30, help="wall refresh interval, seconds")
    ap.add_argument("--rotate", type=int, default=20, help="panel rotation interval, seconds")
    ap.add_argument("--db", type=Path, help="warehouse to serve (default: a fresh small demo)")
    ap.add_argument("--json", action="store_true", help="print every sample as JSON")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            from etl.demo.build import build

            os.environ.setdefault("WAREHOUSE_HASH_KEY", "soak-key-not-secret")
            db = Path(tmp) / "small.duckdb"
            build(db, scale="small", show_progress=True)
        result = soak(db.resolve(), args.minutes, args.refresh, args.rotate)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    s, e = result["start"], result["end"]
    print(f"wall soak: {result['minutes']} min, refresh {result['refresh_s']} s, rotate {result['rotate_s']} s, "
          f"{e['renders']} redraws, {result['exceptions_on_page']} exceptions on the page")
    print(f"  server RSS : {s['server_rss_mb']:8.1f} MB -> {e['server_rss_mb']:8.1f} MB")
    if s["browser_rss_mb"]:
        print(f"  browser RSS: {s['browser_rss_mb']:8.1f} MB -> {e['browser_rss_mb']:8.1f} MB")
    print(f"  JS heap    : {s['js_heap_mb']} MB -> {e['js_heap_mb']} MB;  DOM nodes {s['dom_nodes']} -> {e['dom_nodes']}")


if __name__ == "__main__":
    main()
