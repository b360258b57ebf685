"""Watchdog: runs the app processes and restarts any that is stuck.

    python scripts/watchdog.py --ports 8501                 # one process (scripts/start.sh --watchdog)
    python scripts/watchdog.py --ports 8601,8602 --log-dir data/logs   # what serve_prod.sh runs

Each process is `python -m ui.serving run app.py --server.port PORT`. Every --interval seconds
the watchdog asks /_stcore/health; the answer time is the event loop's lag (the health route
runs on the loop that also serves every websocket). A process is restarted when it died, or
when health has not answered for --stuck-after seconds (after a --grace start-up period).
Before killing a stuck process it sends SIGUSR1, so the app log gets every thread's stack
(ui/serving.py). Every start, slow answer and restart is logged to LOG_DIR/watchdog.log.
Browsers reconnect on their own: Streamlit's frontend retries the websocket, and on a new
server it reruns the page, so the wall comes back without anyone touching it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("watchdog")


def health_seconds(port: int, timeout: float) -> float | None:
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=timeout) as r:
            return time.monotonic() - t0 if r.read() == b"ok" else None
    except OSError:
        return None


class App:
    def __init__(self, port: int, log_dir: Path, extra: list[str]):
        self.port, self.log_dir, self.extra = port, log_dir, extra
        self.proc: subprocess.Popen | None = None
        self.started = self.last_ok = 0.0
        self.restarts = 0

    def start(self) -> None:
        out = open(self.log_dir / f"app-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ui.serving", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", *self.extra],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        self.started = self.last_ok = time.monotonic()
        log.info("started app on :%d (pid %d)", self.port, self.proc.pid)

    def stop(self, reason: str) -> None:
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)   # a stopped process cannot dump or exit
                os.kill(p.pid, signal.SIGUSR1)   # thread stacks into the app log
                time.sleep(1)
                p.terminate()
                p.wait(10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                p.kill()
                p.wait()
        log.warning("stopped app on :%d (pid %d): %s", self.port, p.pid, reason)
        self.proc = None

    def check(self, args) -> None:
        now = time.monotonic()
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            self.restarts += 1
            log.error("RESTART app on :%d: process exited (code %s), restart #%d", self.port, code,
                      self.restarts)
            self.proc = None
            self.start()
            return
        lag = health_seconds(self.port, args.timeout)
        if lag is not None:
            if lag > args.slow:
                log.warning("app on :%d answered health in %.1f s (event loop lagging)", self.port, lag)
            self.last_ok = now
            return
        silent = now - self.last_ok
        booting = now - self.started < args.grace and self.last_ok == self.started
        if silent >= args.stuck_after and not booting:
            self.restarts += 1
            log.error("RESTART app on :%d: health unanswered for %.0f s (stuck), restart #%d",
                      self.port, silent, self.restarts)
            self.stop(f"health unanswered for {silent:.0f} s")
            self.start()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ports", default="8501", help="comma-separated ports, one app process each")
    ap.add_argument("--log-dir", default=str(ROOT / "data" / "logs"))
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between health checks")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds a health check may take")
    ap.add_argument("--slow", type=float, default=2.0, help="log answers slower than this (lag)")
    ap.add_argument("--stuck-after", type=float, default=30.0,
                    help="restart after this many seconds without a health answer")
    ap.add_argument("--grace", type=float, default=180.0, help="start-up time before checks count")
    ap.add_argument("streamlit_args", nargs="*", help="extra `streamlit run` options (after --)")
    args = ap.parse_args(argv)

    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        handlers=[logging.FileHandler(log_dir / "watchdog.log"), logging.StreamHandler()])
    apps = [App(int(p), log_dir, args.streamlit_args) for p in args.ports.split(",") if p]
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    for a in apps:
        a.start()
    try:
        while not stopping:
            for a in apps:
                a.check(args)
            time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    for a in apps:
        a.stop("watchdog shutting down")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
