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
    p.add_argument("--month", default="last",
                   help="report month: 'last' (default: the last complete month of the data) or YYYY-MM")
    p.add_argument("--partial", action="store_true",
                   help="allow a month still in progress (the report says it is incomplete)")
    p.add_argument("--doc-number", help="文号 printed under the issuing office, e.g. 洪综治〔2026〕12号")
    p.add_argument("--classification", help="密级 printed top left, e.g. 内部 or 秘密★1年")
    p.add_argument("--area", help="area code: the county (default) or a town")
    p.add_argument("--format", choices=["docx", "pdf"], default="pdf")
    p.add_argument("--out", help="output file (default 治安形势分析_<area>_<month>.<format>)")
    p.add_argument("--db", help="warehouse file (default $WAREHOUSE_DB or data/warehouse.duckdb)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from warehouse import areas
    from warehouse.report import MonthInProgress, generate, resolve_month

    area = args.area or areas.root_codes(FULL, path=args.db)[0]
    t0 = time.perf_counter()
    try:
        month = resolve_month(args.month, args.db)[0].key
        data = generate(FULL, area, month, args.format, path=args.db, doc_number=args.doc_number,
                        classification=args.classification, partial=args.partial)
    except (MonthInProgress, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out or f"治安形势分析_{area}_{month}.{args.format}")
    out.write_bytes(data)
    from warehouse import audit

    audit.record("report", audit.cli_user(), FULL.role, what=f"report {args.month} {args.format}", area=area,
                 warehouse=args.db)
    print(f"wrote {out} ({len(data) / 1024:.0f} KB) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0
