"""Marts: pre-aggregated tables rebuilt after every build or load.

Each `marts/*.sql` file starts with a header comment stating its grain ("one row per …")
and creates or replaces exactly one table named like the file (mart_<name>). Files run in
name order, so a mart may read one with a smaller prefix number; the PYTHON_MARTS run last.

A load changes a few tables, so it refreshes only the marts that read them: a SQL file may
declare what it reads in a header line `-- depends on: cases, case_event` (tables or other
marts), a Python mart function in a `depends_on` attribute (a tuple of names). A mart that
declares nothing is rebuilt after every load; one that declares wrongly goes stale, so list
every table the SQL reads.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

MARTS_DIR = Path(__file__).with_name("marts")
# marts computed in Python after the SQL ones (module:function(con) -> tables built), for
# SQL that is generated (the indicator catalogue's) or work SQL says badly (the risk index's
# per-month winsorising and its main drivers)
PYTHON_MARTS = ("warehouse.indicators:build_marts", "warehouse.risk:build_marts",
                "warehouse.forecast:build_marts", "warehouse.early_warning:build_marts")


def mart_files() -> list[Path]:
    return sorted(MARTS_DIR.glob("*.sql"))


DEPENDS = re.compile(r"^--\s*depends on:\s*(.+)$", re.M | re.I)
CREATES = re.compile(r"CREATE\s+OR\s+REPLACE\s+TABLE\s+(\w+)", re.I)


def depends_on(sql: str) -> set[str] | None:
    """The tables a mart file declares it reads (None: not declared, so always rebuilt)."""
    m = DEPENDS.search(sql)
    return {t.strip() for t in m.group(1).split(",") if t.strip()} if m else None


def replace_tables(con, frames: dict, names: tuple[str, ...]) -> list[str]:
    """A Python mart's frames as tables of their names; with no frames, drop `names`, so a
    warehouse with nothing to build them from keeps no stale mart. Returns the tables built."""
    if not frames:
        for name in names:
            con.execute(f"DROP TABLE IF EXISTS {name}")
        return []
    for name, df in frames.items():
        con.register("_python_mart", df.to_arrow())
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _python_mart")
        con.unregister("_python_mart")
    return list(frames)


def rebuild(con, changed: set[str] | None = None) -> list[str]:
    """Rebuild the marts; with `changed` (the tables a load wrote) only those that read one
    of them, directly or through a mart rebuilt before them."""
    built = []
    changed = None if changed is None else set(changed)

    def stale(deps) -> bool:
        return changed is None or deps is None or bool(set(deps) & changed)

    for f in mart_files():
        sql = f.read_text(encoding="utf-8")
        if not stale(depends_on(sql)):
            continue
        con.execute(sql)
        built.append(f.stem)
        if changed is not None:
            changed |= set(CREATES.findall(sql))
    for ref in PYTHON_MARTS:
        module, fn = ref.split(":")
        build = getattr(importlib.import_module(module), fn)
        if not stale(getattr(build, "depends_on", None)):
            continue
        tables = build(con)
        built += tables
        if changed is not None:
            changed |= set(tables)
    return built
