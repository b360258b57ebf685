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
# 5: case_event keeps the county's own activity names (activity, process, attributes; step is
#    the mapped stage, NULL when unmapped, side events widened); process_stage
# 6: the registers the seeds' targets need: person.is_linked / is_helped (刑释解教 衔接管控,
#    帮教), grid_staff roles for village and town-centre staffing, survey items (治安满意度,
#    知晓, 参与), cases.sweep_type / mediation_kind (矛盾纠纷排查 and 调解)
# 7: process_deadline (per-stage deadlines of the process definitions)
SCHEMA_VERSION = 7
SCHEMA_SQL = Path(__file__).with_name("schema.sql")

TABLES = (
    "schema_version", "area", "grid_staff", "person", "case_type", "cases", "case_event", "process_stage", "process_deadline",
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
    definition changed in place (see _rebuild), record the new version.

    Returns the tables added or rebuilt."""
    have = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    added = [name for name in table_statements() if name not in have]
    for name in added:
        con.execute(table_statements()[name])
    added += [t for t, order in UNKEYED.items() if t not in added and _rebuild(con, t, ", ".join(order), unkey=True)]
    added += [t for t, order in KEYED_REBUILT.items() if t not in added and _rebuild(con, t, order)]
    if (current_version(con) or 0) < SCHEMA_VERSION:
        con.execute("INSERT INTO schema_version VALUES (?, ?)", [SCHEMA_VERSION, datetime.now()])
    return added


# v3: big tables whose key the loader keeps instead of an index, with the order that clusters
# them (rows are written in it: area filters and case look-ups skip row groups)
UNKEYED = {"person": ("area_code",), "case_event": ("case_id", "seq")}


# v5, v6: columns an older table lacks, with the value its rows get (SQL over the old row)
NEW_COLUMNS = {"case_event": {"activity": lambda: _process().default_activity_sql("step"),
                              "process": lambda: f"'{_process().default().name}'",
                              "attributes": lambda: "NULL"},
               "person": {"is_linked": lambda: "NULL", "is_helped": lambda: "NULL"},
               "survey_response": {"security_satisfaction": lambda: "NULL", "aware": lambda: "NULL",
                                   "participated": lambda: "NULL"},
               "cases": {"sweep_type": lambda: "NULL", "mediation_kind": lambda: "NULL"}}
# v6: keyed tables rebuilt (keys kept) when they lack a NEW_COLUMNS column or their CHECK lacks
# a value added since (WIDENED_CHECKS: a value only the new CHECK names); DuckDB can neither add
# a column with a CHECK nor alter a CHECK in place. Order: the key.
KEYED_REBUILT = {"cases": "case_id", "survey_response": "response_id", "grid_staff": "area_code, role"}
WIDENED_CHECKS = {"grid_staff": "political_officer"}


def _process():
    from warehouse import process

    return process


def _rebuild(con: duckdb.DuckDBPyConnection, table: str, order: str, unkey: bool = False) -> bool:
    """Copy `table` into its current definition when it lacks columns added since
    (NEW_COLUMNS: filled for old rows), a CHECK value added since (WIDENED_CHECKS) or, with
    unkey, still has its v2 key (DuckDB cannot drop a key in place). True when it was rebuilt."""
    keyed = unkey and con.sql("SELECT count(*) FROM duckdb_constraints() WHERE table_name = ? "
                              "AND constraint_type = 'PRIMARY KEY'", params=[table]).fetchall()[0][0]
    have = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()]
    fill = {c: f() for c, f in NEW_COLUMNS.get(table, {}).items() if c not in have}
    marker = WIDENED_CHECKS.get(table)
    narrow = marker is not None and not any(
        marker in e for (e,) in con.sql("SELECT expression FROM duckdb_constraints() WHERE table_name = ? "
                                        "AND constraint_type = 'CHECK'", params=[table]).fetchall())
    if not keyed and not fill and not narrow:
        return False
    con.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
    con.execute(table_statements()[table])
    select = ", ".join(have + [f"{sql} AS {c}" for c, sql in fill.items()])
    con.execute(f"INSERT INTO {table} BY NAME SELECT {select} FROM {table}_old ORDER BY {order}")
    con.execute(f"DROP TABLE {table}_old")
    return True


def needs_upgrade(path=None) -> bool:
    """The warehouse file is older than this code."""
    from warehouse import db

    return (current_version(db.reader(path)) or 0) < SCHEMA_VERSION


def upgrade_locked(path=None) -> list[str]:
    """upgrade() one process at a time (the app's sessions and the CLIs take the same lock):
    without it every session of a fresh server copied and migrated the warehouse at once
    (issue 17: 6 GB, nothing served). A missing file is left alone."""
    import fcntl

    from warehouse import db

    p = db.db_path(path)
    if not p.exists() or not needs_upgrade(p):
        return []
    with open(p.with_name(p.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits without holding the GIL
        return upgrade(p)  # re-checks: another process may have done it meanwhile


def upgrade_before_command(args) -> None:
    """A CLI command on a warehouse from an older release first brings it up to date, as the
    app does on first start (else `export` failed on a column a later release added)."""
    import duckdb

    if getattr(args, "command", None) == "demo" or not hasattr(args, "db"):
        return  # demo writes a new warehouse; commands without --db touch none
    try:
        upgrade_locked(args.db)
    except duckdb.Error:
        pass  # an unreadable file: the command itself reports it with its own exit code


def upgrade(path=None) -> list[str]:
    """Migrate the warehouse file in place (private copy + atomic swap) when it is older than
    this code; a no-op read otherwise. Returns the tables added or rebuilt."""
    from warehouse import db

    if not needs_upgrade(path):
        return []
    with db.writing(path) as con:
        return migrate(con)
