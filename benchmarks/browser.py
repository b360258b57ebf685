"""What the person waits for: time in a real browser until every chart of a page is drawn.

    python benchmarks/browser.py [--scale county|city] [--db PATH] [--runs N] [--pages P ...] [--json]

Starts the app (`streamlit run app.py`) on the scale's demo warehouse and opens it in
Debian's headless Chromium (Playwright). For each page:
  nav          navigation to the page's URL until the script run has finished and every
               chart is on screen: each Plotly chart has its SVG, each pydeck map its canvas,
               no skeleton and no element still marked stale (greyed out while rerunning)
  filter       the sidebar's period switched to another period, until the same holds again
The first navigation of each page is its cold one (a new server: nothing cached); --runs more
navigations and filter changes follow. p50/p95 are over every navigation and filter change.
The wall's own refresh (a fragment rerunning every few seconds) is watched for visible
redraws: the count of chart or panel nodes removed from the DOM during a refresh.

--json prints a list of rows: page, p50_ms, p95_ms, cold_ms, nav_p50_ms, filter_p50_ms, runs.
The warehouse is built with `python -m etl demo --scale SCALE` on first use and kept in
data/bench_<scale>.duckdb (shared with benchmarks/pages.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pages import ensure_db  # noqa: E402
from tests.browser import browser, streamlit_server  # noqa: E402

PAGES = ["home", "overview", "map", "grid", "cases", "risk", "ssra", "opinion", "population",
         "data", "wall"]
NO_FILTER = {"wall", "data"}  # pages without the sidebar's period filter

# True once the run is over and everything it drew is on screen.
DRAWN = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-stale="true"]')) return false;
  for (const p of document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    if (!p.querySelector('.main-svg')) return false;
  for (const d of document.querySelectorAll('[data-testid="stDeckGlJsonChart"]'))
    if (!d.querySelector('canvas')) return false;
  return document.querySelectorAll('[data-testid="stElementContainer"]').length > 0;
}"""
RUNNING = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') === 'running';
}"""
# Counts nodes of charts/panels removed while the wall refreshes (a visible redraw).
WATCH_REDRAWS = """() => {
  window.__removed = 0;
  new MutationObserver(ms => { for (const m of ms) for (const n of m.removedNodes)
    if (n.nodeType === 1 && (n.matches?.('svg, canvas, [data-testid="stElementContainer"]')
        || n.querySelector?.('svg, canvas'))) window.__removed++; })
    .observe(document.body, {childList: true, subtree: true});
}"""


def url_of(base: str, page: str) -> str:
    if page == "wall":
        return f"{base}/?view=wall&refresh=5"
    return f"{base}/" if page == "home" else f"{base}/{page}"  # home is the default page


def wait_drawn(pg, timeout_ms: int = 120_000) -> None:
    pg.wait_for_function(DRAWN, timeout=timeout_ms, polling=50)


def timed_nav(pg, url: str) -> float:
    t0 = time.perf_counter()
    pg.goto(url)
    wait_drawn(pg)
    return (time.perf_counter() - t0) * 1000


def timed_filter(pg, label: str, option_index: int) -> float | None:
    """Pick the option_index-th entry of the sidebar select labelled `label`; None if absent."""
    box = pg.locator(f'[data-testid="stSidebar"] [data-testid="stSelectbox"]:has-text("{label}")').first
    if box.count() == 0:
        return None
    box.click()
    options = pg.locator('[role="listbox"] [role="option"]')
    options.first.wait_for(timeout=10_000)
    n = options.count()
    t0 = time.perf_counter()
    options.nth(option_index % max(n, 1)).click()
    try:
        pg.wait_for_function(RUNNING, timeout=2_000, polling=20)
    except Exception:  # the rerun may already be over: the drawn check below still holds
        pass
    wait_drawn(pg)
    return (time.perf_counter() - t0) * 1000


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def wall_redraws(pg, seconds: float) -> int:
    pg.evaluate(WATCH_REDRAWS)
    pg.wait_for_timeout(seconds * 1000)
    return pg.evaluate("() => window.__removed")


def measure(base: str, pages: list[str], runs: int, size: tuple[int, int]) -> list[dict]:
    from ui.i18n import t

    period_label = t("filter.period", "zh")
    rows = []
    with browser() as b:
        ctx = b.new_context(viewport={"width": size[0], "height": size[1]})
        pg = ctx.new_page()
        for page in pages:
            url = url_of(base, page)
            cold = timed_nav(pg, url)
            navs, filters = [], []
            for i in range(runs):
                navs.append(timed_nav(pg, url))
                if page not in NO_FILTER:
                    ms = timed_filter(pg, period_label, 1 + i % 2)
                    if ms is not None:
                        filters.append(ms)
            every = navs + filters
            row = {"page": page, "p50_ms": round(statistics.median(every)), "p95_ms": round(pct(every, 0.95)),
                   "cold_ms": round(cold), "nav_p50_ms": round(statistics.median(navs)),
                   "filter_p50_ms": round(statistics.median(filters)) if filters else None,
                   "runs": len(every)}
            if page == "wall":
                row["wall_refresh_redraws"] = wall_redraws(pg, 12)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), file=sys.stderr)
        ctx.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["small", "county", "city"], default="county")
    ap.add_argument("--db", help="use this warehouse instead of data/bench_<scale>.duckdb")
    ap.add_argument("--runs", type=int, default=5, help="navigations and filter changes per page (default 5)")
    ap.add_argument("--pages", nargs="+", default=PAGES, choices=PAGES)
    ap.add_argument("--size", default="1920x1080", help="viewport, WIDTHxHEIGHT (default 1920x1080)")
    ap.add_argument("--json", action="store_true", help="print the rows as one JSON list")
    args = ap.parse_args()
    db = ensure_db(args.scale, args.db)
    size = tuple(int(x) for x in args.size.split("x"))
    with streamlit_server(db) as base:
        rows = measure(base, args.pages, args.runs, size)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    print(f"{'page':<12}{'p50 ms':>8}{'p95 ms':>8}{'cold':>8}{'nav p50':>9}{'filter p50':>12}")
    for r in rows:
        print(f"{r['page']:<12}{r['p50_ms']:>8}{r['p95_ms']:>8}{r['cold_ms']:>8}{r['nav_p50_ms']:>9}"
              f"{r['filter_p50_ms'] if r['filter_p50_ms'] is not None else '–':>12}")


if __name__ == "__main__":
    main()
