"""`python -m etl load --kind KIND FILE...`: load county export files into the warehouse."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

from etl.rules.kinds import KINDS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "load", help="load county export files (CSV/XLSX/Parquet) into the warehouse",
        description="Read each file (UTF-8/GBK/GB18030 CSV, XLSX, Parquet), map its headers through a "
                    "profile, validate every row, load the good rows and quarantine the bad ones. "
                    "Exit 0: all rows loaded (or file already loaded); 1: some rows quarantined; "
                    "2: a file could not be loaded at all (nothing from it was loaded).")
    p.add_argument("--kind", required=True, choices=[*KINDS, "boundaries"],
                   help="what the files contain (boundaries: GeoJSON or zipped shapefile outlines of loaded areas)")
    p.add_argument("--datum", choices=["gcj02", "wgs84"], default="gcj02",
                   help="boundaries only: the datum of the file's coordinates (default gcj02, as DataV outlines; "
                        "wgs84 files are shifted to GCJ-02, the warehouse's datum)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--db", help="warehouse file (default $WAREHOUSE_DB or data/warehouse.duckdb); "
                                "created with the schema if missing")
    p.add_argument("--profile", help="mapping profile name (default: best header match for the kind)")
    p.add_argument("--map", dest="mapping", metavar="表头=字段,...",
                   help="map the file's headers to fields by hand, e.g. --map 工单编号=case_id,事件类型=case_type "
                        "(wins over the automatic mapping, field by field)")
    p.add_argument("--save-profile", metavar="NAME",
                   help="save the mapping used as profile NAME in the profile directory "
                        "($ETL_PROFILE_DIR or profiles/ beside the warehouse), for --profile NAME next time")
    p.add_argument("--sheet", help="XLSX sheet name or 1-based number (default: the first)")
    p.add_argument("--process", metavar="PROCESS.yaml",
                   help="event_log: the process definition mapping each activity to a stage "
                        "(name: …, stages: {activity: report|accept|dispatch|handle|verify|close|return|"
                        "escalate|delay|supervise|cancel|other}); default: the demo flow's")
    p.add_argument("--json", action="store_true", help="print one JSON summary per file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from etl import profiles
    from etl.load import load_file
    from warehouse import audit

    try:
        mapping = profiles.parse_map(args.mapping, args.kind) if args.kind in KINDS else {}
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 2
    worst, changed = 0, False
    for f in args.files:
        if args.kind == "boundaries":
            from etl import boundaries

            res = boundaries.load(f, args.db, datum=args.datum)
        else:
            res = load_file(f, args.kind, args.db, profile=args.profile, sheet=args.sheet,
                            mapping=mapping, save_as=args.save_profile,
                            process=getattr(args, "process", None))
        worst = max(worst, res.exit_code)
        changed = changed or bool(res.loaded or res.updated)
        try:
            audit.record("load", audit.cli_user(), "admin", what=f"{args.kind} {res.file}", rows=res.rows_read,
                         warehouse=args.db, outcome=res.outcome, loaded=res.loaded, updated=res.updated,
                         quarantined=sum((res.quarantined or {}).values()), sha256=res.sha256)
        except (sqlite3.Error, OSError) as e:  # e.g. the disk that just refused the load is full
            print(f"warning: audit log not written: {e}", file=sys.stderr)
        if args.json:
            print(json.dumps({"file": res.file, "sha256": res.sha256, "rows_read": res.rows_read,
                              "loaded": res.loaded, "updated": res.updated,
                              "quarantined": res.quarantined, "seconds": res.seconds,
                              "outcome": res.outcome, "profile": res.profile, "message": res.message}
                             | ({"unmapped_activities": res.unmapped, "cases_created": res.cases_created}
                                if args.kind == "event_log" else {}),
                             ensure_ascii=False))
        else:
            q = ", ".join(f"{k} {n}" for k, n in res.quarantined.items()) or "0"
            line = (f"{res.file}: {res.outcome}; read {res.rows_read}, loaded {res.loaded}, "
                    f"updated {res.updated}, quarantined {q}; {res.seconds:.2f} s")
            print(line)
            if args.kind == "event_log" and res.outcome in ("ok", "partial"):
                print(f"  cases created {res.cases_created}; unmapped activities "
                      f"{len(res.unmapped)}: {', '.join(res.unmapped) or '-'}")
            if res.outcome in ("failed", "skipped"):
                print(f"  {res.message}", file=sys.stderr if res.outcome == "failed" else sys.stdout)
    if changed:  # alert rules see the new data; delivery problems are recorded, never fatal here
        from alerts import after_load
        after_load(args.db)
    return worst
