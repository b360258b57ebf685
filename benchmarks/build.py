"""Build time, rows per table and file size of the demo warehouse at each scale.

    python benchmarks/build.py [--scale small|county|city ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.demo.build import build  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", nargs="+", default=["county"], choices=["small", "county", "city"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    for scale in args.scale:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / f"{scale}.duckdb"
            t0 = time.perf_counter()
            rows = build(path, scale=scale, as_of=None, show_progress=not args.json)
            secs = time.perf_counter() - t0
            results.append({"scale": scale, "seconds": round(secs, 1),
                            "mb": round(path.stat().st_size / 2**20, 1), "rows": rows})
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return
    for r in results:
        print(f"{r['scale']:>7}: {r['seconds']:6.1f} s  {r['mb']:8.1f} MB")
        for t, n in r["rows"].items():
            print(f"         {t:<16}{n:>12,}")


if __name__ == "__main__":
    main()
