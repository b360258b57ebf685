"""`python -m etl demo`: build the demo warehouse (or export it as raw county files)."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build the synthetic demo county warehouse",
                       description="Generate a realistic synthetic county (or city) and swap it "
                                   "in as the warehouse. Same seed and --as-of, same warehouse.")
    p.add_argument("--db", help="warehouse file (default $WAREHOUSE_DB or data/warehouse.duckdb)")
    p.add_argument("--seed", type=int, default=20261124, help="random seed (default 20261124)")
    p.add_argument("--scale", choices=["small", "county", "city"], default="county",
                   help="county ≈ 洪泽区 (380k residents); city = ten counties; small = tests")
    p.add_argument("--as-of", help="the demo's 'now' (YYYY-MM-DD or YYYY-MM-DDTHH:MM); "
                                   "default: the current hour")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print rows per table as JSON")
    p.add_argument("--export-raw", metavar="DIR",
                   help="instead of building, write the demo as the raw files a county would send "
                        "(Chinese headers, CSV UTF-8/GB18030, XLSX, Parquet) into DIR; load them with "
                        "`python -m etl load`")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from etl.demo.build import build

    as_of = datetime.fromisoformat(args.as_of) if args.as_of else None
    t0 = time.perf_counter()
    if args.export_raw:
        from etl.demo.export_raw import export_raw

        files = export_raw(args.export_raw, seed=args.seed, scale=args.scale, as_of=as_of)
        for kind, path in files:
            print(f"python -m etl load --kind {kind} '{path}'")
        print(f"exported {len(files)} raw files in {time.perf_counter() - t0:.1f} s", flush=True)
        return 0
    counts = build(args.db, seed=args.seed, scale=args.scale, as_of=as_of,
                   show_progress=not args.quiet)
    secs = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"seconds": round(secs, 2), "rows": counts}, ensure_ascii=False))
    else:
        print(f"built {args.scale} demo in {secs:.1f} s: " +
              ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    return 0
