"""Rows per second of `python -m etl load` for each kind, on the demo exported as raw files.

    python benchmarks/load.py [--scale city|county|small] [--json] [--keep DIR] [--reuse] [--floor]

The demo is exported with `--export-raw` (Chinese headers, GB18030/UTF-8 CSV, XLSX, Parquet)
and loaded kind by kind into an empty warehouse. Two rates per kind:
- end to end: the whole load (read, validate, write in a private copy, marts, atomic swap);
- pipeline: read + map + validate + transform only (the vectorised hot path, no warehouse);
  the other stages (copy, write incl. the case log, marts, swap) are printed too, in wall
  seconds and in CPU seconds of all threads (on a shared, busy machine the CPU seconds are the
  steadier measure; wall seconds include waiting for the cores).
With --floor, a third rate for context: DuckDB copying the same file into a table of a new
database (`CREATE TABLE AS SELECT * FROM read_csv/read_parquet`), typed by sniffing, with no
mapping, checks, hashing, case log or marts: the most a load on this machine could reach.
Goal: ≥ 200,000 rows/s for cases.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("WAREHOUSE_HASH_KEY", "benchmark-key-not-secret")

from etl.demo.export_raw import LOAD_ORDER, export_raw  # noqa: E402
from etl.load import load_file  # noqa: E402

PIPELINE = ("read", "map", "validate", "transform")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="city", choices=["small", "county", "city"])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", help="export the raw files here and keep them (default: a temp dir)")
    ap.add_argument("--floor", action="store_true",
                    help="also time DuckDB's bare copy of each file into a table (no checks)")
    ap.add_argument("--reuse", action="store_true",
                    help="with --keep: load the raw files already exported there (same --scale) instead "
                         "of exporting again (a city export takes minutes)")
    args = ap.parse_args()
    if args.reuse and not args.keep:
        ap.error("--reuse needs --keep DIR")
    with tempfile.TemporaryDirectory() as tmp:
        raw_dir = Path(args.keep or tmp) / "raw"
        t0 = time.perf_counter()
        files = [(kind, raw_dir / name) for kind, name, _ in LOAD_ORDER]
        if not (args.reuse and all(p.exists() for _, p in files)):
            files = export_raw(raw_dir, seed=20261124, scale=args.scale)
        export_s = time.perf_counter() - t0
        wh = Path(tmp) / "loaded.duckdb"
        results = []
        for kind, path in files:
            res = load_file(path, kind, wh, progress=not args.json)
            pipe = sum(res.stages.get(k, 0.0) for k in PIPELINE)
            results.append({"kind": kind, "file": path.name, "mb": round(path.stat().st_size / 2**20, 1),
                            "rows": res.rows_read, "outcome": res.outcome, "seconds": res.seconds,
                            "rows_per_s": round(res.rows_read / res.seconds) if res.seconds else None,
                            "pipeline_seconds": round(pipe, 3),
                            "pipeline_rows_per_s": round(res.rows_read / pipe) if pipe else None,
                            "stages": res.stages, "cpu": res.cpu})
            if args.floor:
                results[-1]["floor_rows_per_s"] = floor_rate(path, Path(tmp) / "floor.duckdb")
    if args.json:
        print(json.dumps({"scale": args.scale, "export_seconds": round(export_s, 1), "kinds": results},
                         ensure_ascii=False, indent=1))
        return
    print(f"scale {args.scale}: raw export {export_s:.1f} s")
    print(f"{'kind':<12}{'rows':>11}{'MB':>8}{'load s':>9}{'rows/s':>11}{'pipeline s':>12}{'rows/s':>11}  outcome")
    for r in results:
        print(f"{r['kind']:<12}{r['rows']:>11,}{r['mb']:>8}{r['seconds']:>9.2f}{r['rows_per_s'] or 0:>11,}"
              f"{r['pipeline_seconds']:>12.2f}{r['pipeline_rows_per_s'] or 0:>11,}  {r['outcome']}  "
              + " ".join(f"{k}={v:.2f}" for k, v in r["stages"].items()))
        print(f"{'':<12}{'cpu s':>11}{'':>8}{sum(r['cpu'].values()):>9.2f}{'':>11}{'':>12}{'':>11}  "
              + " ".join(f"{k}={v:.2f}" for k, v in r["cpu"].items()))
        if "floor_rows_per_s" in r:
            print(f"{'':<12}{'floor':>11}{'':>8}{'':>9}{format(r['floor_rows_per_s'] or 0, ',') if r['floor_rows_per_s'] else '—':>11}  "
                  "DuckDB bare copy of the file into a table (no checks)")


def floor_rate(path: Path, db: Path) -> int | None:
    """Rows/s of DuckDB copying the file into a table of a new database: no mapping, checks,
    hashing, log or marts. None for what DuckDB cannot read offline (XLSX, GB18030 text)."""
    reader = {".parquet": "read_parquet"}.get(path.suffix.lower(), "read_csv")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return None
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    try:
        t0 = time.perf_counter()
        con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}(?)", [str(path)])
        con.execute("CHECKPOINT")
        rows = con.sql("SELECT count(*) FROM t").fetchall()[0][0]
        return round(rows / (time.perf_counter() - t0))
    except duckdb.Error:  # not UTF-8: DuckDB's reader has no GB18030 offline
        return None
    finally:
        con.close()
        db.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
