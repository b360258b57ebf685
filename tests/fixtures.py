"""Hand-built fixture warehouses: an empty schema plus exactly the rows a test writes.

Metric tests use these so that the expected value can be computed by hand in the test.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from warehouse import marts, process, schema

# a county with two towns (三河镇 and 高良涧街道), for fixtures whose rows sit at town level
COUNTY_TWO_TOWNS = [{"code": "320813", "name": "洪泽区", "level": "county"},
                    {"code": "320813106", "name": "三河镇", "level": "town", "parent_code": "320813"},
                    {"code": "320813001", "name": "高良涧街道", "level": "town", "parent_code": "320813"}]


def empty_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    schema.create(con)
    con.close()
    return path


def insert(path: Path, table: str, rows: list[dict], rebuild_marts: bool = True) -> None:
    """Insert rows (dicts with column names) and rebuild the marts, as a load would."""
    con = duckdb.connect(str(path))
    try:
        if rows:
            df = pl.DataFrame(rows, infer_schema_length=None)
            if table == "case_event" and "activity" not in df.columns:  # logs written as step codes
                df = process.with_default_activity(df)
            con.register("_rows", df.to_arrow())
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
            con.unregister("_rows")
        if rebuild_marts:
            marts.rebuild(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def build_case_flow(path: Path) -> None:
    """Only mart_case_flow (the one overdue rule reads it), for fixtures that skip the marts."""
    con = duckdb.connect(str(path))
    try:
        con.execute((marts.MARTS_DIR / "20_case_flow.sql").read_text(encoding="utf-8"))
    finally:
        con.close()
