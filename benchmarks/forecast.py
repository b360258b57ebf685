"""Forecast and early-warning refresh time, and their backtest figures, on a demo warehouse.

    python benchmarks/forecast.py [--db PATH | --scale county|city] [--seed N] [--tile N] [--jobs N]
                                  [--boosting] [--json]

Builds the demo at --scale and --seed (into a temporary file) unless --db names a warehouse,
then times, on a copy, what a load pays after the risk marts: the forecast marts (every
county, town × case class series, monthly and weekly: counts, rolling-origin backtest of the four
statsforecast models, final forecasts) and the early-warning marts (panel, time-ordered backtest, current
scores and contributions). Prints wall and CPU seconds, peak memory, MASE per frequency and
level against seasonal naive, interval coverage, and the early-warning AUC / precision@10% /
lift against each baseline, and the load average before and after (a shared box inflates wall
times: compare CPU seconds). --jobs sets statsforecast's worker processes. --boosting adds histogram gradient boosting to the early-warning
comparison (slower; not served).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("WAREHOUSE_HASH_KEY", "benchmark-key-not-secret")

import duckdb  # noqa: E402
import polars as pl  # noqa: E402

from warehouse import early_warning as ew  # noqa: E402
from warehouse import forecast as wf  # noqa: E402
from warehouse import forecast_models as fm  # noqa: E402
from warehouse import risk  # noqa: E402


def cpu_seconds() -> float:
    """This process's and its finished workers' CPU seconds."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def timed(fn, *args):
    t0, c0 = time.perf_counter(), cpu_seconds()
    out = fn(*args)
    return out, round(time.perf_counter() - t0, 2), round(cpu_seconds() - c0, 2)


def tiled(work: Path, n: int, early_warning: bool = True) -> dict:
    """Seconds of the model work on n copies of every series (forecasts) and every grid (early
    warning): what a city of n such counties costs, less its SQL (one group-by per frequency)."""
    import numpy as np

    out = {"tile": n}
    con = duckdb.connect(str(work), read_only=True)
    total_fc = 0.0
    series = 0
    for freq in wf.FREQS:
        long, starts = wf.counts(con, freq)
        keys = long["series"].n_unique()
        Y = np.tile(long["actual"].to_numpy().reshape(keys, len(starts)), (n, 1))
        series += Y.shape[0]
        _, wall, cpu = timed(wf.fit_all, Y, starts, freq)
        out[f"tiled_{freq}_series"] = Y.shape[0]
        out[f"tiled_{freq}_wall_s"] = wall
        out[f"tiled_{freq}_cpu_s"] = cpu
        total_fc += wall
    con.close()
    out["tiled_forecast_wall_s"] = round(total_fc, 2)
    if not early_warning:
        return out
    values, scores = risk.scored(work)
    copies = [(values.with_columns(pl.col("area_code") + f"_{i}", pl.col("village") + f"_{i}"),
               scores.with_columns(pl.col("area_code") + f"_{i}")) for i in range(n)]
    v = pl.concat([c[0] for c in copies])
    s = pl.concat([c[1] for c in copies], how="diagonal_relaxed")
    _, wall, _ = timed(ew.compute, v, s)
    out["tiled_grids"] = v["area_code"].n_unique()
    out["tiled_early_warning_wall_s"] = wall
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", help="an existing warehouse (copied; not changed)")
    p.add_argument("--scale", choices=["small", "county", "city"], default="county")
    p.add_argument("--seed", type=int, default=20261124)
    p.add_argument("--as-of", default="2026-11-24T10:00")
    p.add_argument("--boosting", action="store_true", help="compare gradient boosting too")
    p.add_argument("--tile", type=int, default=0,
                   help="also time the model work on N copies of every series and grid (N=10: a "
                        "city's ten counties, without building one)")
    p.add_argument("--tile-forecast-only", action="store_true",
                   help="with --tile: time only the forecasts on the copies (not the early warning)")
    p.add_argument("--jobs", type=int, default=1, help="statsforecast worker processes for the fits")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    fm.N_JOBS = args.jobs
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench_forecast_"))
    try:
        work = tmp / "w.duckdb"
        if args.db:
            shutil.copy(args.db, work)
        else:
            from datetime import datetime

            from etl.demo.build import build
            print(f"building the {args.scale} demo (seed {args.seed}) …", file=sys.stderr)
            build(work, seed=args.seed, scale=args.scale, as_of=datetime.fromisoformat(args.as_of),
                  show_progress=True)
        con = duckdb.connect(str(work))
        _, fc_wall, fc_cpu = timed(wf.build_marts, con)
        series = con.sql("SELECT count(DISTINCT series) FROM mart_forecast").fetchall()[0][0]
        _, ew_wall, ew_cpu = timed(ew.build_marts, con)
        grids = con.sql("SELECT count(*) FROM area WHERE level = 'grid'").fetchall()[0][0]
        bt = con.sql(f"SELECT * FROM {wf.MART_BACKTEST}").pl()
        con.close()
        result = {"scale": args.scale if not args.db else args.db, "seed": args.seed, "series": series,
                  "grids": grids, "forecast_refresh_wall_s": fc_wall, "forecast_refresh_cpu_s": fc_cpu,
                  "early_warning_refresh_wall_s": ew_wall, "early_warning_refresh_cpu_s": ew_cpu,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        selected = bt.filter(pl.col("chosen")).with_columns(pl.lit("selected").alias("model"))
        rows = pl.concat([bt, selected])
        mase = (rows.group_by("freq", "level", "model").agg(pl.col("mase").mean().round(3))
                .pivot(on="model", index=["freq", "level"], values="mase").sort("freq", "level"))
        cov = (selected.group_by("freq", "level").agg(
            pl.col("coverage_80").mean().round(3), pl.col("coverage_95").mean().round(3),
            pl.col("beats_naive").mean().round(3).alias("share_beats_naive"), pl.len().alias("series"))
            .sort("freq", "level"))
        values, scores = risk.scored(work)
        models = ew.ALL_MODELS if args.boosting else ew.MODELS
        ewbt, ewbt_wall, _ = timed(ew.backtest_rows, ew.panel(values, scores), ew.TEST_MONTHS, ew.REFIT_EVERY, models)
        result["early_warning_backtest_wall_s"] = ewbt_wall
        if args.tile:
            result |= tiled(work, args.tile, early_warning=not args.tile_forecast_only)
        result["load_average_before"] = [round(x, 1) for x in load_before]
        result["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
        ewbt = ewbt.select("target", "model", pl.col("auc").round(3), pl.col("precision_top10").round(3),
                           pl.col("lift_top10").round(2), pl.col("base_rate").round(3))
        if args.json:
            print(json.dumps({**result, "mase": mase.to_dicts(), "coverage": cov.to_dicts(),
                              "early_warning": ewbt.to_dicts()}, ensure_ascii=False, default=str))
        else:
            with pl.Config(tbl_rows=60, tbl_cols=20, tbl_width_chars=200):
                print(json.dumps(result, ensure_ascii=False))
                print("MASE (mean over series; seasonal naive = snaive):")
                print(mase)
                print("Selected models: interval coverage and share beating seasonal naive:")
                print(cov)
                print("Early warning, time-ordered backtest:")
                print(ewbt)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
