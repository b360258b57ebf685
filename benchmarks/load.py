"""Rows per second of `python -m etl load` for each kind, on the demo exported as raw files.

    python benchmarks/load.py [--scale city|county|small] [--json] [--keep DIR]

The demo is exported with `--export-raw` (Chinese headers, GB18030/UTF-8 CSV, XLSX, Parquet)
and loaded kind by kind into an empty warehouse. Two rates per kind:
- end to end: the whole load (read, validate, write in a private copy, marts, atomic swap);
- pipeline: read + map + validate + transform only (the vectorised hot path, no warehouse).
Goal: ≥ 200,000 rows/s for cases.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("WAREHOUSE_HASH_KEY", "benchmark-key-not-secret")

from etl import profiles, transforms  # noqa: E402
from etl.demo.export_raw import export_raw  # noqa: E402
from etl.load import LoadContext, load_file  # noqa: E402
from etl.readers import read_file  # noqa: E402
from etl.rules import KINDS, validate  # noqa: E402


def pipeline_seconds(path: Path, kind: str, wh: Path) -> float:
    """Read → map → validate → transform against the loaded warehouse's codes, no write."""
    import duckdb

    con = duckdb.connect(str(wh), read_only=True)
    try:
        ctx = LoadContext(now=datetime.now(), key=b"k", con=con)
        ctx.area_codes = con.sql("SELECT code FROM area").pl()["code"]
        ctx.case_ids = con.sql("SELECT case_id FROM cases").pl()["case_id"]
        ctx.case_types = con.sql("SELECT case_type, category, deadline_hours::BIGINT AS deadline_hours "
                                 "FROM case_type").pl()
        t0 = time.perf_counter()
        raw = read_file(path, known=profiles.known_headers(kind))
        mapped = profiles.apply(profiles.pick(kind, raw.frame.columns), raw.frame)
        checked = validate(mapped, KINDS[kind], ctx)
        transforms.TRANSFORMS[kind](checked.good, ctx)
        return time.perf_counter() - t0
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="city", choices=["small", "county", "city"])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", help="export the raw files here and keep them (default: a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw_dir = Path(args.keep or tmp) / "raw"
        t0 = time.perf_counter()
        files = export_raw(raw_dir, seed=20261124, scale=args.scale)
        export_s = time.perf_counter() - t0
        wh = Path(tmp) / "loaded.duckdb"
        results = []
        for kind, path in files:
            res = load_file(path, kind, wh, progress=not args.json)
            pipe = pipeline_seconds(path, kind, wh)
            results.append({"kind": kind, "file": path.name, "mb": round(path.stat().st_size / 2**20, 1),
                            "rows": res.rows_read, "outcome": res.outcome, "seconds": res.seconds,
                            "rows_per_s": round(res.rows_read / res.seconds) if res.seconds else None,
                            "pipeline_seconds": round(pipe, 3),
                            "pipeline_rows_per_s": round(res.rows_read / pipe) if pipe else None})
    if args.json:
        print(json.dumps({"scale": args.scale, "export_seconds": round(export_s, 1), "kinds": results},
                         ensure_ascii=False, indent=1))
        return
    print(f"scale {args.scale}: raw export {export_s:.1f} s")
    print(f"{'kind':<12}{'rows':>11}{'MB':>8}{'load s':>9}{'rows/s':>11}{'pipeline s':>12}{'rows/s':>11}  outcome")
    for r in results:
        print(f"{r['kind']:<12}{r['rows']:>11,}{r['mb']:>8}{r['seconds']:>9.2f}{r['rows_per_s'] or 0:>11,}"
              f"{r['pipeline_seconds']:>12.2f}{r['pipeline_rows_per_s'] or 0:>11,}  {r['outcome']}")


if __name__ == "__main__":
    main()
