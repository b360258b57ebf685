"""Load test: N simulated users (websocket clients speaking Streamlit's protocol) plus a few real
Chromium sessions walk every page, tab and filter while a wall refreshes; health is checked
every second.

    python benchmarks/load_users.py --users 30 --browsers 2 --minutes 10 --db data/warehouse.duckdb
    python benchmarks/load_users.py --url http://127.0.0.1:8080 --users 30 --server-pids 123,456

Without --url it starts `streamlit run app.py` on a free port against --db (or WAREHOUSE_DB).
Reports runs, errors (timeouts, closed sockets, pages not found), exceptions shown on pages,
p50/p95/max page time, health (answered, slowest, longest silence) and server RSS; --json
prints the same as one JSON object. Exit code 1 when anything hung or failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.stclient import Session, health, query_with  # noqa: E402
from ui.nav import PAGES  # noqa: E402

USER_PAGES = [p.key for p in PAGES if p.key != "wall"]
HEALTH_TIMEOUT = 3.0   # a health answer slower than this counts as missed
HUNG_AFTER = 10.0      # seconds without a health answer that count as a hang


def page_name(key: str) -> str:
    """What the frontend sends for a page: its URL path (every page has its own, /home too)."""
    return key


class Stats:
    def __init__(self):
        self.runs: list[tuple[str, float, bool, str]] = []
        self.exceptions: Counter = Counter()
        self.browser_runs: list[tuple[str, float, bool]] = []
        self.browser_errors: Counter = Counter()
        self.health: list[float | None] = []
        self.rss_mb: list[float] = []
        self.lock = threading.Lock()

    def add(self, run, user_kind="ws"):
        with self.lock:
            self.runs.append((run.page, run.seconds, run.ok, run.status))
            for e in run.exceptions:
                self.exceptions[f"{run.page}: {e[:200]}"] += 1


async def ws_user(url: str, seed: int, deadline: float, stats: Stats, think: float) -> None:
    """Open a page, maybe a tab, then change one or two of its widgets; repeat until deadline."""
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        try:
            async with Session(url) as s:
                while time.monotonic() < deadline:
                    page = rng.choice(USER_PAGES)
                    query = "lang=en" if rng.random() < 0.1 else ""
                    run = await s.run(page_name(page), query)
                    run.page = page
                    stats.add(run)
                    if run.status != "finished":
                        break
                    if run.tabs and time.monotonic() < deadline:
                        key, labels = rng.choice(sorted(run.tabs.items()))
                        tab = await s.run(page_name(page), query_with(query, **{key: rng.choice(labels)}))
                        tab.page = page
                        stats.add(tab)
                    usable = [w for w in run.widgets if not w.disabled]
                    for w in rng.sample(usable, k=min(2, len(usable))):
                        state = w.random_state(rng)
                        if state is None or time.monotonic() >= deadline:
                            continue
                        step = await s.run(page_name(page), query, [state])
                        step.page = page
                        stats.add(step)
                        if step.status != "finished":
                            break
                    await asyncio.sleep(rng.uniform(0, think))
        except (TimeoutError, OSError) as exc:  # could not connect: an error, retry
            with stats.lock:
                stats.runs.append(("connect", 0.0, False, type(exc).__name__))
            await asyncio.sleep(1)


async def wall_user(url: str, deadline: float, stats: Stats, refresh: int) -> None:
    """The wall: open /?view=wall and answer its fragment timer like the browser does."""
    async with Session(url) as s:
        query = f"view=wall&refresh={refresh}&rotate={refresh}"
        run = await s.run("", query)
        run.page = "wall"
        stats.add(run)
        while time.monotonic() < deadline and run.status == "finished":
            frags = run.fragments or [("", refresh)]
            frag, interval = frags[0]
            await asyncio.sleep(interval or refresh)
            run = await s.run("", query, fragment_id=frag)
            run.page = "wall"
            stats.add(run)


def browser_user(url: str, seed: int, deadline: float, stats: Stats) -> None:
    """A real Chromium session clicking through pages (Debian's chromium via Playwright)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, wait_ready

    rng = random.Random(seed)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = b.new_page(viewport={"width": 1440, "height": 900})
        while time.monotonic() < deadline:
            key = rng.choice(USER_PAGES)
            t0 = time.perf_counter()
            try:
                page.goto(f"{url}/{key}", timeout=60_000)
                wait_ready(page, timeout_ms=60_000)
                tabs = page.locator('[data-baseweb="tab"]')
                if tabs.count() > 1:
                    tabs.nth(rng.randrange(tabs.count())).click()
                    page.wait_for_timeout(500)
                    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached",
                                           timeout=60_000)
                exc = page.locator('[data-testid="stException"]').count()
                with stats.lock:
                    stats.browser_runs.append((key, time.perf_counter() - t0, exc == 0))
                    if exc:
                        stats.browser_errors[f"{key}: exception on page"] += 1
            except Exception as e:  # a timeout is a finding, not a crash of the benchmark
                with stats.lock:
                    stats.browser_runs.append((key, time.perf_counter() - t0, False))
                    stats.browser_errors[f"{key}: {type(e).__name__}"] += 1
        b.close()


def rss_mb(pids: list[int]) -> float:
    """Resident memory of the server processes and their children, MB."""
    total = 0
    seen = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            todo.extend(int(c) for c in children)
        except OSError:
            pass
    return total / 1024


def monitor(url: str, pids: list[int], deadline: float, stats: Stats, stop: threading.Event) -> None:
    while not stop.is_set() and time.monotonic() < deadline + 5:
        t0 = time.monotonic()
        stats.health.append(health(url, HEALTH_TIMEOUT))
        if pids:
            stats.rss_mb.append(rss_mb(pids))
        stop.wait(max(0.0, 1.0 - (time.monotonic() - t0)))


def longest_silence(health_log: list[float | None]) -> float:
    """Longest run of missed health checks, in seconds (one check a second)."""
    best = cur = 0
    for h in health_log:
        cur = cur + 1 if h is None else 0
        best = max(best, cur)
    return float(best)


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 3)


def summary(stats: Stats, args, seconds: float) -> dict:
    times = [s for _, s, ok, st in stats.runs if st == "finished"]
    errors = Counter(f"{p}: {st}" for p, _, ok, st in stats.runs if st != "finished")
    answered = [h for h in stats.health if h is not None]
    per_page = {}
    for p in sorted({p for p, *_ in stats.runs}):
        ts = [s for q, s, ok, st in stats.runs if q == p and st == "finished"]
        per_page[p] = {"runs": len(ts), "p50_s": pct(ts, 0.5), "p95_s": pct(ts, 0.95)}
    btimes = [s for _, s, ok in stats.browser_runs if ok]
    silence = longest_silence(stats.health)
    return {
        "users": args.users, "browsers": args.browsers, "wall": not args.no_wall,
        "seconds": round(seconds, 1), "url": args.url or "(own server)",
        "runs": len(stats.runs), "errors": sum(errors.values()), "error_kinds": dict(errors),
        "exceptions": sum(stats.exceptions.values()), "exception_kinds": dict(stats.exceptions),
        "page_p50_s": pct(times, 0.5), "page_p95_s": pct(times, 0.95), "page_max_s": pct(times, 1.0),
        "per_page": per_page,
        "browser_runs": len(stats.browser_runs), "browser_errors": dict(stats.browser_errors),
        "browser_p50_s": pct(btimes, 0.5), "browser_p95_s": pct(btimes, 0.95),
        "health_checks": len(stats.health), "health_missed": len(stats.health) - len(answered),
        "health_max_s": round(max(answered), 3) if answered else None,
        "longest_silence_s": silence, "hangs": int(silence >= HUNG_AFTER),
        "rss_mb_start": round(stats.rss_mb[0]) if stats.rss_mb else None,
        "rss_mb_max": round(max(stats.rss_mb)) if stats.rss_mb else None,
        "rss_mb_end": round(stats.rss_mb[-1]) if stats.rss_mb else None,
    }


def start_server(db: str, port: int) -> subprocess.Popen:
    env = os.environ | ({"WAREHOUSE_DB": db} if db else {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.serving", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if health(url, 1.0) is not None:
            return proc
        time.sleep(0.25)
    proc.kill()
    raise SystemExit("streamlit did not start")


async def drive(args, url: str, pids: list[int], stats: Stats) -> float:
    deadline = time.monotonic() + args.minutes * 60
    stop = threading.Event()
    mon = threading.Thread(target=monitor, args=(url, pids, deadline, stats, stop), daemon=True)
    mon.start()
    browsers = [threading.Thread(target=browser_user, args=(url, 1000 + i, deadline, stats), daemon=True)
                for i in range(args.browsers)]
    for b in browsers:
        b.start()
    t0 = time.monotonic()
    tasks = [ws_user(url, args.seed + i, deadline, stats, args.think) for i in range(args.users)]
    if not args.no_wall:
        tasks.append(wall_user(url, deadline, stats, args.wall_refresh))
    progress = asyncio.create_task(report_progress(stats, deadline))
    await asyncio.gather(*tasks)
    progress.cancel()
    for b in browsers:
        b.join(timeout=90)
    stop.set()
    return time.monotonic() - t0


async def report_progress(stats: Stats, deadline: float) -> None:
    while True:
        await asyncio.sleep(30)
        h = stats.health[-30:]
        print(f"  … {max(0, deadline - time.monotonic()):.0f} s left: {len(stats.runs)} runs, "
              f"health missed {sum(x is None for x in h)}/{len(h)} in the last 30 s"
              + (f", RSS {stats.rss_mb[-1]:.0f} MB" if stats.rss_mb else ""), file=sys.stderr, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=30, help="websocket users (default 30)")
    ap.add_argument("--browsers", type=int, default=2, help="real Chromium sessions (default 2)")
    ap.add_argument("--minutes", type=float, default=10, help="duration (default 10)")
    ap.add_argument("--url", help="an already running app (else one is started on --db)")
    ap.add_argument("--db", default=os.environ.get("WAREHOUSE_DB", ""), help="warehouse for the own server")
    ap.add_argument("--server-pids", default="", help="PIDs whose RSS to sample with --url, comma-separated")
    ap.add_argument("--no-wall", action="store_true", help="no wall session")
    ap.add_argument("--wall-refresh", type=int, default=10, help="wall refresh seconds (default 10)")
    ap.add_argument("--think", type=float, default=2.0, help="max seconds a user pauses between pages")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)

    proc = None
    if args.url:
        url, pids = args.url.rstrip("/"), [int(p) for p in args.server_pids.split(",") if p]
    else:
        from tests.browser import free_port

        port = free_port()
        print(f"starting streamlit on :{port} (db {args.db or 'default'})", file=sys.stderr)
        proc = start_server(args.db, port)
        url, pids = f"http://127.0.0.1:{port}", [proc.pid]
    print(f"{args.users} users + {args.browsers} browsers{'' if args.no_wall else ' + wall'} "
          f"for {args.minutes} min against {url}", file=sys.stderr)
    stats = Stats()
    try:
        seconds = asyncio.run(drive(args, url, pids, stats))
    finally:
        if proc:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    out = summary(stats, args, seconds)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        for k, v in out.items():
            if k != "per_page":
                print(f"{k:>18}: {v}")
        for p, v in out["per_page"].items():
            print(f"{'':>10}{p:>10}: {v}")
    bad = out["hangs"] or out["errors"] or out["exceptions"] or out["browser_errors"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
