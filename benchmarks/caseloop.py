"""Server time of the case closed-loop page's warehouse calls, cold and warm, against the
same computation done naively in pandas from the raw event table.

    python benchmarks/caseloop.py [--scale county|city] [--db PATH] [--period 2026-10] [--repeat 3]

cold = every call the page makes, on a freshly opened warehouse connection (nothing cached);
warm = the same calls again on the open connection (DuckDB's buffers warm). The page itself
also caches results per warehouse version (ui.cache), so a warm re-render skips even these.
naive = funnel + dwell p50/p90 per step × type + variants + transitions, in pandas, from
case_event and cases loaded into memory (load time shown separately).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warehouse import caseloop as cl  # noqa: E402
from warehouse import db  # noqa: E402
from warehouse.db import FULL  # noqa: E402
from warehouse.periods import parse, shift  # noqa: E402


def page_calls(path, area: str, period) -> dict[str, float]:
    """Every warehouse call pages/cases.py makes for one view, timed one by one."""
    sel = {"area": area, "start": period.start, "end": period.end, "path": path}
    calls = {
        "summary": lambda: cl.summary(FULL, **sel),
        "funnel": lambda: cl.funnel(FULL, **sel),
        "dwell_steps": lambda: cl.dwell(FULL, **sel, by=None),
        "dwell_by_type": lambda: cl.dwell(FULL, **sel, by="case_type"),
        "overdue_by_type": lambda: cl.overdue_by_type(FULL, **sel),
        "overdue_open": lambda: cl.overdue_open(FULL, area, path=path),
        "rates_trend": lambda: cl.rates_12345(FULL, area, shift(period.end, -12), period.end, per_town=False,
                                              path=path),
        "rates_by_town": lambda: cl.rates_12345(FULL, **sel),
        "resolution": lambda: cl.resolution(FULL, **sel),
        "rework": lambda: cl.rework(FULL, **sel),
        "satisfaction": lambda: cl.satisfaction_mix(FULL, **sel),
        "variants": lambda: cl.variants(FULL, **sel, limit=20),
        "transitions": lambda: cl.transitions(FULL, **sel),
        "channels": lambda: cl.channels(FULL, **sel),
        "case_count": lambda: cl.case_count(FULL, **sel),
        "case_list": lambda: cl.case_list(FULL, **sel, limit=50),
    }
    out = {}
    for name, fn in calls.items():
        t0 = time.perf_counter()
        fn()
        out[name] = time.perf_counter() - t0
    return out


def naive_pandas(path, area: str, period) -> tuple[float, float]:
    """(load seconds, compute seconds) for the core figures done in pandas from raw tables."""
    import pandas as pd

    t0 = time.perf_counter()
    con = db.reader(path)
    events = con.sql("SELECT case_id, seq, step, occurred_at FROM case_event").df()
    cases = con.sql("SELECT case_id, case_type, area_code, reported_at FROM cases").df()
    t1 = time.perf_counter()
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    sel = cases[cases.area_code.str.startswith(area) & (cases.reported_at >= start) & (cases.reported_at < end)]
    ev = events[events.case_id.isin(sel.case_id)].sort_values(["case_id", "seq"])
    # funnel: cases reaching each main step
    reached = ev.groupby("step").case_id.nunique().reindex(list(cl.STEPS))
    # dwell: first/last occurrence per step as the schema derives them, then p50/p90 per step × type
    first = ev.groupby(["case_id", "step"]).occurred_at.agg(["first", "last"]).unstack("step")
    at = pd.DataFrame({"report": first["first"]["report"], "accept": first["first"]["accept"],
                       "dispatch": first["first"]["dispatch"], "handle": first["last"]["handle"],
                       "verify": first["first"]["verify"], "close": first["first"]["close"]})
    hours = pd.DataFrame({s: (at[cl.NEXT_STEP[s]] - at[s]).dt.total_seconds() / 3600 for s in cl.DWELL_STEPS})
    hours = hours.join(sel.set_index("case_id").case_type).melt(id_vars="case_type", var_name="step").dropna()
    dwell = hours.groupby(["step", "case_type"]).value.quantile([0.5, 0.9]).unstack()
    # variants and transitions
    per_case = ev.groupby("case_id").agg(variant=("step", ">".join), a=("occurred_at", "min"),
                                         b=("occurred_at", "max"))
    per_case["h"] = (per_case.b - per_case.a).dt.total_seconds() / 3600
    variants = per_case.groupby("variant").h.agg(["count", "mean"]).sort_values("count", ascending=False)
    ev["to"] = ev.groupby("case_id").step.shift(-1)
    ev["dt"] = (ev.groupby("case_id").occurred_at.shift(-1) - ev.occurred_at).dt.total_seconds() / 3600
    trans = ev.dropna(subset=["to"]).groupby(["step", "to"]).dt.agg(["count", "mean", "median"])
    assert len(reached) and len(dwell) and len(variants) and len(trans)
    return t1 - t0, time.perf_counter() - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="county", choices=["small", "county", "city"])
    ap.add_argument("--db", help="use this warehouse instead of building a demo")
    ap.add_argument("--period", default="2026-10", help="month to show (default 2026-10)")
    ap.add_argument("--repeat", type=int, default=3, help="warm repetitions (median reported)")
    args = ap.parse_args()
    tmp = None
    if args.db:
        path = Path(args.db)
    else:
        from etl.demo.build import build

        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / f"{args.scale}.duckdb"
        t0 = time.perf_counter()
        build(path, scale=args.scale, as_of=datetime(2026, 11, 24, 10), show_progress=True)
        print(f"built {args.scale} demo in {time.perf_counter() - t0:.1f} s")
    con = db.reader(path)
    n_events = con.sql("SELECT count(*) FROM case_event").fetchall()[0][0]
    area = con.sql("SELECT code FROM area WHERE level = 'county' ORDER BY code LIMIT 1").fetchall()[0][0]
    n_counties = con.sql("SELECT count(*) FROM area WHERE level = 'county'").fetchall()[0][0]
    area = area if n_counties == 1 else area[:4]  # city scale: every county of the city
    period = parse(args.period)
    print(f"{n_events:,} events; area {area}; period {period.key}")
    db.close_readers()
    cold = page_calls(path, area, period)
    warm_runs = [page_calls(path, area, period) for _ in range(args.repeat)]
    warm = {k: statistics.median(r[k] for r in warm_runs) for k in cold}
    print(f"{'call':<18}{'cold ms':>10}{'warm ms':>10}")
    for k in cold:
        print(f"{k:<18}{cold[k] * 1000:>10.0f}{warm[k] * 1000:>10.0f}")
    first = ("summary", "funnel")  # the tabs are lazy: a first view runs only these
    print(f"{'first view':<18}{sum(cold[k] for k in first) * 1000:>10.0f}{sum(warm[k] for k in first) * 1000:>10.0f}")
    print(f"{'all tabs':<18}{sum(cold.values()) * 1000:>10.0f}{sum(warm.values()) * 1000:>10.0f}")
    core = ("funnel", "dwell_by_type", "variants", "transitions")
    core_warm = sum(warm[k] for k in core)
    load, compute = naive_pandas(path, area, period)
    print(f"naive pandas: load raw tables {load * 1000:.0f} ms, compute {compute * 1000:.0f} ms; "
          f"warehouse same figures (warm) {core_warm * 1000:.0f} ms; "
          f"ratio pandas/warehouse {compute / core_warm:.1f}× (with load {(load + compute) / core_warm:.1f}×)")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
