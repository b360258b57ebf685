"""`python -m warehouse report`: the monthly 《治安形势分析》 as PDF or DOCX."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from warehouse.db import FULL


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the monthly public-security situation report",
                       description="Generate 《治安形势分析》 for a county or a town from the warehouse.")
    p.add_argument("--month", required=True, help="report month, YYYY-MM (e.g. 2026-10)")
    p.add_argument("--area", help="area code: the county (default) or a town")
    p.add_argument("--format", choices=["docx", "pdf"], default="pdf")
    p.add_argument("--out", help="output file (default 治安形势分析_<area>_<month>.<format>)")
    p.add_argument("--db", help="warehouse file (default $WAREHOUSE_DB or data/warehouse.duckdb)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from warehouse import areas
    from warehouse.report import generate

    area = args.area or areas.root_codes(FULL, path=args.db)[0]
    t0 = time.perf_counter()
    data = generate(FULL, area, args.month, args.format, path=args.db)
    out = Path(args.out or f"治安形势分析_{area}_{args.month}.{args.format}")
    out.write_bytes(data)
    print(f"wrote {out} ({len(data) / 1024:.0f} KB) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0
