"""Seconds each SQL mart takes to rebuild on a given warehouse (wall and CPU, median of runs).

    python benchmarks/marts.py [--db PATH] [--runs 3] [--sql FILE ...] [--in-place] [--threads N] [--json]

The marts (warehouse/marts/*.sql, in name order, as warehouse.marts.rebuild runs them after
every load) are rebuilt --runs times on a temporary COPY of the warehouse (rebuilding writes;
--in-place skips the copy for a scratch file). `--sql` times other files instead, e.g. an
older version of a mart to compare (they run in the order given, so list a mart's inputs
first). Wall seconds include waiting for the cores on a shared machine; CPU seconds (all
threads of this process) are the steadier measure. The Python marts are not timed here.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warehouse.marts import mart_files  # noqa: E402

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "bench_city.duckdb"


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def time_files(db: Path, files: list[Path], runs: int, threads: int | None = None) -> dict[str, dict[str, float]]:
    """{file stem: {wall_s, cpu_s, rows}} with the median of `runs` rebuilds of every file."""
    walls: dict[str, list[float]] = {f.stem: [] for f in files}
    cpus: dict[str, list[float]] = {f.stem: [] for f in files}
    rows: dict[str, int] = {}
    con = duckdb.connect(str(db))
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    try:
        with tqdm(total=runs * len(files), desc="rebuilding", file=sys.stderr) as bar:
            for _ in range(runs):
                for f in files:
                    sql = f.read_text(encoding="utf-8")
                    t0, c0 = time.perf_counter(), cpu_seconds()
                    con.execute(sql)
                    walls[f.stem].append(time.perf_counter() - t0)
                    cpus[f.stem].append(cpu_seconds() - c0)
                    tables = re.findall(r"CREATE\s+OR\s+REPLACE\s+TABLE\s+(\w+)", sql, re.I)
                    if tables:
                        rows[f.stem] = con.sql(f"SELECT count(*) FROM {tables[-1]}").fetchall()[0][0]
                    bar.update()
    finally:
        con.close()
    return {s: {"wall_s": round(statistics.median(walls[s]), 2), "cpu_s": round(statistics.median(cpus[s]), 2),
                "rows": rows.get(s)} for s in walls}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"warehouse to measure (default {DEFAULT_DB})")
    ap.add_argument("--runs", type=int, default=3, help="rebuilds per mart; the median is printed (default 3)")
    ap.add_argument("--sql", type=Path, nargs="+", help="time these SQL files instead of warehouse/marts/*.sql")
    ap.add_argument("--in-place", action="store_true", help="rebuild in --db itself (a scratch copy), no copy")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, one per core); 1 gives the "
                    "steadiest A/B comparison on a busy machine")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args()
    if not args.db.exists():
        ap.error(f"no warehouse at {args.db} (build one with: python -m etl demo --db {args.db} --scale city)")
    if args.in_place and DEFAULT_DB.parent in args.db.resolve().parents:
        ap.error("--in-place rewrites the marts of --db: not on the warehouses in data/, copy one first")
    files = args.sql or mart_files()
    if args.in_place:
        result = time_files(args.db, files, args.runs, args.threads)
    else:
        with tempfile.TemporaryDirectory(prefix="marts-bench-") as tmp:
            copy = Path(tmp) / args.db.name
            print(f"copying {args.db} to {copy}", file=sys.stderr)
            shutil.copyfile(args.db, copy)
            result = time_files(copy, files, args.runs, args.threads)
    if args.json:
        print(json.dumps({"db": str(args.db), "runs": args.runs, "marts": result}, ensure_ascii=False))
        return
    threads = f", {args.threads} thread(s)" if args.threads else ""
    print(f"{args.db}  (median of {args.runs} runs{threads})")
    print(f"{'mart file':32} {'wall s':>8} {'CPU s':>8} {'rows':>12}")
    for stem, r in result.items():
        print(f"{stem:32} {r['wall_s']:8.2f} {r['cpu_s']:8.2f} {r['rows'] or 0:12,}")
    total_wall = sum(r["wall_s"] for r in result.values())
    total_cpu = sum(r["cpu_s"] for r in result.values())
    print(f"{'total':32} {total_wall:8.2f} {total_cpu:8.2f}")


if __name__ == "__main__":
    main()
