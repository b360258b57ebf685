"""`python -m etl templates DIR`: write an XLSX template per kind (headers the loader knows)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("templates", help="write XLSX templates (expected headers) per kind",
                       description="Write one XLSX per kind with the headers the loader expects (required "
                                   "ones marked *) and a 说明 sheet: other accepted headers, allowed values. "
                                   "Numbered in the order a new county loads them.")
    p.add_argument("dir", help="directory to write into (created if missing)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from etl.rules.kinds import KINDS
    from etl.templates import LOAD_ORDER, template_xlsx

    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    kinds = [k for k in LOAD_ORDER if k in KINDS]
    for i, kind in enumerate(kinds, start=1):
        path = out / f"{i:02d}_{kind}.xlsx"
        path.write_bytes(template_xlsx(kind))
        print(path)
    return 0
