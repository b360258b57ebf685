"""Server-side render time of every page, cold and warm, against the naive way.

    python benchmarks/pages.py [--scale county|city] [--db PATH] [--runs N] [--json]

For each page, in a fresh process (so caches and DuckDB instances start empty):
  cold_ms      first render after start: the libraries (streamlit, pandas, plotly, pydeck,
               duckdb…) imported, nothing of ours run: our modules, the first connection
               and every query count (every render is a new session on the page's URL
               running app.py and that page only, as a click does: tests/apptest.session)
  warm_p50/p95 the same URL rendered again, --runs times
  filter_ms    a changed filter (the previous month) rendered once, uncached
  naive_ms     the page's main data computed the naive way: pandas from the base tables,
               no marts (see NAIVE below), read from the same warehouse
Also reports the peak RSS (VmHWM) of each page process: the app server's memory for that page.
The warehouse is built with `python -m etl demo --scale SCALE` on first use and kept in
data/bench_<scale>.duckdb.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["home", "overview", "map", "grid", "cases", "risk", "ssra", "opinion", "population",
         "data", "wall"]


def _pd(con, sql):
    return con.sql(sql).df()


def naive_cases(con):
    """Funnel and dwell from the raw event log in pandas."""
    ev = _pd(con, "SELECT case_id, step, occurred_at FROM case_event")
    ev = ev.sort_values(["case_id", "occurred_at"])
    ev["next_at"] = ev.groupby("case_id")["occurred_at"].shift(-1)
    ev["hours"] = (ev["next_at"] - ev["occurred_at"]).dt.total_seconds() / 3600
    funnel = ev.groupby("step")["case_id"].nunique()
    dwell = ev.groupby("step")["hours"].quantile([0.5, 0.9])
    variants = ev.groupby("case_id")["step"].agg(">".join).value_counts().head(20)
    return len(funnel) + len(dwell) + len(variants)


def naive_map(con):
    """Cases per 1,000 residents and overdue share per grid, pandas from base tables."""
    cases = _pd(con, "SELECT area_code, handled_at, deadline_at FROM cases")
    people = _pd(con, "SELECT area_code FROM person")
    now = cases["handled_at"].max()
    cases["overdue"] = cases["handled_at"].fillna(now) > cases["deadline_at"]
    g = cases.groupby("area_code").agg(n=("overdue", "size"), overdue=("overdue", "mean"))
    pop = people.groupby("area_code").size().rename("pop")
    g = g.join(pop, how="left")
    g["per_1000"] = g["n"] / g["pop"] * 1000
    return len(g)


def naive_risk(con):
    """Grid × month dispute counts, overdue-open and negative posts, then min-max scores."""
    cases = _pd(con, "SELECT area_code, category, reported_at, status, deadline_at, source_channel, is_collective FROM cases")
    posts = _pd(con, "SELECT area_code, sentiment, published_at FROM opinion_post")
    people = _pd(con, "SELECT area_code, is_corrections, is_released, is_mental, is_drug, is_youth FROM person")
    cases["month"] = cases["reported_at"].dt.to_period("M")
    d = cases[cases["category"] == "矛盾纠纷"].groupby(["area_code", "month"]).size().rename("disputes")
    pet = cases[cases["source_channel"] == "信访"].groupby(["area_code", "month"]).size().rename("petitions")
    neg = posts[posts["sentiment"] == "negative"].dropna(subset=["area_code"])
    neg = neg.groupby("area_code").size().rename("neg")
    sg = people.groupby("area_code")[["is_corrections", "is_released", "is_mental", "is_drug", "is_youth"]].sum().sum(axis=1)
    df = d.to_frame().join(pet, how="outer").fillna(0).reset_index()
    df = df.merge(neg, left_on="area_code", right_index=True, how="left").merge(
        sg.rename("sg"), left_on="area_code", right_index=True, how="left").fillna(0)
    for c in ("disputes", "petitions", "neg", "sg"):
        lo, hi = df[c].quantile(0.05), df[c].quantile(0.95)
        df[c] = (df[c].clip(lo, hi) - lo) / ((hi - lo) or 1) * 10
    df["score"] = df[["disputes", "petitions", "neg", "sg"]].mean(axis=1)
    return len(df)


def naive_overview(con):
    cases = _pd(con, "SELECT area_code, reported_at, satisfaction, resolved_level, category, handled_at, deadline_at FROM cases")
    cases["town"] = cases["area_code"].str[:9]
    cases["month"] = cases["reported_at"].dt.to_period("M")
    cases["sat"] = cases["satisfaction"].isin(["满意", "基本满意"])
    return len(cases.groupby(["town", "month"]).agg(sat=("sat", "mean"), n=("sat", "size")))


def naive_population(con):
    p = _pd(con, "SELECT area_code, residence_type, sex, birth_month FROM person")
    p["town"] = p["area_code"].str[:9]
    p["band"] = (2026 - p["birth_month"].dt.year) // 5
    return len(p.groupby(["town", "residence_type", "sex", "band"]).size())


def naive_opinion(con):
    p = _pd(con, "SELECT area_code, topic, sentiment, published_at, platform FROM opinion_post")
    p["day"] = p["published_at"].dt.date
    return len(p.groupby(["day", "platform", "topic"]).agg(n=("sentiment", "size")))


NAIVE = {"cases": naive_cases, "map": naive_map, "risk": naive_risk, "overview": naive_overview,
         "home": naive_overview, "population": naive_population, "opinion": naive_opinion,
         "wall": naive_map, "grid": naive_map}

CHILD = r"""
import json, os, statistics, sys, time
def peak_rss_mb():
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would report the
    # benchmark parent's peak (the naive pandas runs) instead of this page process's
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
sys.path.insert(0, {root!r})
from tests.apptest import session
errors = []
def render(p):
    # a new session on the page's URL: app.py and that page run, as after a click (see
    # tests/apptest.session: the harness's per-session component scan is shared, as on a server)
    at = session({page!r}, 600, **p)
    t0 = time.perf_counter(); at.run()
    ms = (time.perf_counter() - t0) * 1000
    errors.extend(str(e.value) for e in at.exception)
    return ms
params = {params!r}
# libraries a running server has imported once, for whichever page came first; our own
# modules, the first DuckDB connection, every query and the app shell's first run count as cold
import duckdb, numpy, pandas, plotly.express, plotly.graph_objects, polars, pyarrow, pydeck  # noqa: E401,F401
import streamlit as st  # noqa: F401
from streamlit import string_util
string_util.extract_leading_emoji("x")  # streamlit's emoji table and regex, built on first use
session("home")  # the server's one component scan, at start
cold = render(params)
warm = sorted(render(params) for _ in range({runs}))
filt = render(dict(params, period={prev!r}))
print(json.dumps(dict(cold_ms=cold, warm_p50_ms=statistics.median(warm),
      warm_p95_ms=warm[min(len(warm) - 1, int(round(0.95 * (len(warm) - 1))))], filter_ms=filt,
      errors=len(errors), rss_mb=peak_rss_mb())))
for e in errors[:3]:
    print(e[:300], file=sys.stderr)
"""


def measure_page(page: str, db: Path, runs: int, period: str, prev: str) -> dict:
    params = {"area": "320813", "grain": "month", "period": period, "lang": "zh"}
    if page == "wall":
        params = {"view": "wall", "lang": "zh"}
    code = CHILD.format(root=str(ROOT), page=page, params=params,
                        runs=runs, prev=prev)
    env = os.environ | {"WAREHOUSE_DB": str(db)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=3600, cwd=ROOT)
    if out.returncode:
        return {"page": page, "error": out.stderr.strip().splitlines()[-1:]}
    return {"page": page, **json.loads(out.stdout.strip().splitlines()[-1])}


def naive_ms(page: str, db: Path) -> float | None:
    fn = NAIVE.get(page)
    if fn is None:
        return None
    import duckdb
    con = duckdb.connect(str(db), read_only=True)
    try:
        t0 = time.perf_counter()
        fn(con)
        return (time.perf_counter() - t0) * 1000
    finally:
        con.close()


def ensure_db(scale: str, db: str | None) -> Path:
    path = Path(db) if db else ROOT / "data" / f"bench_{scale}.duckdb"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "etl", "demo", "--scale", scale, "--db", str(path)],
                       check=True, cwd=ROOT, stdout=sys.stderr)  # keep --json output clean
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["small", "county", "city"], default="county")
    ap.add_argument("--db", help="use this warehouse instead of building data/bench_<scale>.duckdb")
    ap.add_argument("--runs", type=int, default=10, help="warm renders per page (default 10)")
    ap.add_argument("--pages", nargs="+", default=PAGES, choices=PAGES)
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args()
    db = ensure_db(args.scale, args.db)
    os.environ["WAREHOUSE_DB"] = str(db)
    from warehouse import meta
    period = meta.default_period("month", db)
    results = []
    for page in args.pages:
        r = measure_page(page, db, args.runs, period.key, period.previous().key)
        r["naive_ms"] = naive_ms(page, db)
        if r.get("naive_ms") and r.get("warm_p95_ms"):
            r["naive_ratio"] = r["naive_ms"] / r["warm_p95_ms"]
        results.append(r)
        if not args.json:
            print(_line(r), flush=True)
    peak = max((r.get("rss_mb", 0) for r in results), default=0)
    if args.json:
        print(json.dumps({"scale": args.scale, "peak_rss_mb": round(peak, 1),
                          "pages": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items()}
                                    for r in results]}, ensure_ascii=False, indent=1))
    else:
        print(f"peak RSS of a page process: {peak:.0f} MB")


def _line(r: dict) -> str:
    if "error" in r:
        return f"{r['page']:<11} ERROR {r['error']}"
    naive = f"{r['naive_ms']:8.0f}" if r.get("naive_ms") else "       -"
    ratio = f"{r['naive_ratio']:6.1f}×" if r.get("naive_ratio") else "      -"
    return (f"{r['page']:<11} cold {r['cold_ms']:7.0f}  warm p50 {r['warm_p50_ms']:6.0f} p95 "
            f"{r['warm_p95_ms']:6.0f}  filter {r['filter_ms']:6.0f}  naive {naive}  {ratio}  "
            f"rss {r['rss_mb']:5.0f} MB  errors {r['errors']}")


if __name__ == "__main__":
    main()
