"""`python -m warehouse export`: write a named dataset as CSV, JSON or XLSX."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from warehouse import accounts, audit, datasets
from warehouse.db import FULL, OutOfScope
from warehouse.files import inert, sheet_csv, sheet_xlsx, to_xlsx


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a dataset (see --list)",
                       description="Export a named dataset with the same scope rules as the app.")
    p.add_argument("name", nargs="?", help="dataset name")
    p.add_argument("--list", action="store_true", help="list datasets with a one-line description")
    p.add_argument("--db", help="warehouse file (default $WAREHOUSE_DB or data/warehouse.duckdb)")
    p.add_argument("--area", help="area code (county, town, village or grid)")
    p.add_argument("--from", dest="start", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=date.fromisoformat, help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("--level", choices=["stage", "activity"],
                   help="variants, transitions: the six stages and side events (default) or the "
                        "county's own activity names")
    p.add_argument("--format", choices=["csv", "json", "xlsx"], default="csv")
    p.add_argument("--out", help="output file (default: standard output; required for xlsx)")
    p.add_argument("--lang", choices=["zh", "en", "raw"],
                   help="headers and values: zh (default for csv/xlsx: Chinese headers and words, "
                        "units, rounded numbers, title/filter/as-of/source rows), en, or raw "
                        "(field names and codes, no title rows; the default for json)")
    p.add_argument("--user", help="export with this account's scope (default: the operator, who sees "
                                  "everything; audit_log needs an admin)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.list or not args.name:
        for name, ds in datasets.all_datasets().items():
            print(f"{name:<20} {ds.description}")
        return 0
    if args.format == "xlsx" and not args.out:
        print("--format xlsx needs --out FILE", file=sys.stderr)
        return 2
    scope, who = FULL, audit.cli_user()
    if args.user:
        acc = accounts.get(args.user)
        if acc is None or acc.disabled:
            print(f"error: no active account {args.user!r}", file=sys.stderr)
            return 2
        scope, who = acc.scope, f"{who} as {acc.name}"
    try:
        df = datasets.get(args.name, scope, area=args.area, start=args.start, end=args.end, path=args.db,
                          level=args.level)
    except TypeError:
        print(f"dataset {args.name} has no --level", file=sys.stderr)
        return 2
    except OutOfScope as e:
        audit.record("refused", who, scope.role, what=f"export {args.name}", area=args.area,
                     warehouse=args.db, reason=str(e))
        print(f"refused: {e}", file=sys.stderr)
        return 3
    audit.record("export", who, scope.role, what=args.name, area=args.area, rows=df.height,
                 warehouse=args.db, format=args.format, start=args.start, end=args.end)
    # the audit log is a record: exported as stored unless a language is asked for
    lang = args.lang or ("raw" if args.format == "json" or args.name == "audit_log" else "zh")
    if lang == "raw":
        if args.format == "xlsx":
            Path(args.out).write_bytes(to_xlsx(df, args.name))
        elif args.format == "json":
            _emit(df.write_json(), args.out)
        else:
            _emit(inert(df).write_csv(), args.out)  # formula-safe like every CSV (files.inert)
        return 0
    sheet = dressed(df, args.name, lang, args.area, args.start, args.end, args.db)
    if args.format == "xlsx":
        Path(args.out).write_bytes(sheet_xlsx(sheet))
    elif args.format == "json":
        _emit(sheet.frame.write_json(), args.out)
    else:
        data = sheet_csv(sheet)
        if args.out:
            Path(args.out).write_bytes(data)
        else:
            sys.stdout.buffer.write(data)
    return 0


def dressed(df, name: str, lang: str, area: str | None, start: date | None, end: date | None, path=None):
    """The dataset with its title lines: area (or the whole warehouse), dates, data as-of."""
    from warehouse import areas, meta
    from warehouse.export_format import filters_text, present

    area_name = areas.names(path).get(area, area) if area else None
    return present(df, name, lang, filters_text(area_name, start, end, lang), as_of=meta.data_now(path))


def _emit(text: str, out: str | None) -> None:
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
