"""Create the warehouse schema (schema.sql), record its version, and bring an older
warehouse up to date (tables added since it was built, and the steps listed in migrate)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import duckdb

# 2: opinion_case (stage times of warned opinion topics)
# 3: case_event and person without their PRIMARY KEYs (the loader keeps the keys unique)
# 4: petition and key_petitioner (the 信访 register)
SCHEMA_VERSION = 4
SCHEMA_SQL = Path(__file__).with_name("schema.sql")

TABLES = (
    "schema_version", "area", "grid_staff", "person", "case_type", "cases", "case_event",
    "opinion_post", "opinion_case", "ssra", "survey_response", "petition", "key_petitioner", "etl_run",
    "quarantine",
)


def create(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
    con.execute("INSERT INTO schema_version VALUES (?, ?)", [SCHEMA_VERSION, datetime.now()])


def current_version(con: duckdb.DuckDBPyConnection) -> int | None:
    try:
        row = con.sql("SELECT max(version) FROM schema_version").fetchall()
    except duckdb.CatalogException:
        return None
    return row[0][0]


def table_statements() -> dict[str, str]:
    """Each `CREATE TABLE name (...);` of schema.sql by table name."""
    text = SCHEMA_SQL.read_text(encoding="utf-8")
    return {m.group(1): m.group(0) for m in re.finditer(r"CREATE TABLE (\w+) \(.*?\n\);", text, re.S)}


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create the tables schema.sql has and this warehouse lacks, rebuild those whose
    definition changed in place (see _drop_key), record the new version.

    Returns the tables added or rebuilt."""
    have = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    added = [name for name in table_statements() if name not in have]
    for name in added:
        con.execute(table_statements()[name])
    added += [t for t, order in UNKEYED.items() if t not in added and _drop_key(con, t, ", ".join(order))]
    if (current_version(con) or 0) < SCHEMA_VERSION:
        con.execute("INSERT INTO schema_version VALUES (?, ?)", [SCHEMA_VERSION, datetime.now()])
    return added


# v3: big tables whose key the loader keeps instead of an index, with the order that clusters
# them (rows are written in it: area filters and case look-ups skip row groups)
UNKEYED = {"person": ("area_code",), "case_event": ("case_id", "seq")}


def _drop_key(con: duckdb.DuckDBPyConnection, table: str, order: str) -> bool:
    """Copy `table` into its new, key-less definition (DuckDB cannot drop a key in place).
    True when it was rebuilt."""
    keyed = con.sql("SELECT count(*) FROM duckdb_constraints() WHERE table_name = ? "
                    "AND constraint_type = 'PRIMARY KEY'", params=[table]).fetchall()[0][0]
    if not keyed:
        return False
    con.execute(f"ALTER TABLE {table} RENAME TO {table}_keyed")
    con.execute(table_statements()[table])
    con.execute(f"INSERT INTO {table} SELECT * FROM {table}_keyed ORDER BY {order}")
    con.execute(f"DROP TABLE {table}_keyed")
    return True


def needs_upgrade(path=None) -> bool:
    """The warehouse file is older than this code."""
    from warehouse import db

    return (current_version(db.reader(path)) or 0) < SCHEMA_VERSION


def upgrade(path=None) -> list[str]:
    """Migrate the warehouse file in place (private copy + atomic swap) when it is older than
    this code; a no-op read otherwise. Returns the tables added or rebuilt."""
    from warehouse import db

    if not needs_upgrade(path):
        return []
    with db.writing(path) as con:
        return migrate(con)
