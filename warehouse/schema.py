"""Create the warehouse schema (schema.sql) and record its version."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

SCHEMA_VERSION = 1
SCHEMA_SQL = Path(__file__).with_name("schema.sql")

TABLES = (
    "schema_version", "area", "grid_staff", "person", "case_type", "cases", "case_event",
    "opinion_post", "ssra", "survey_response", "etl_run", "quarantine",
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
