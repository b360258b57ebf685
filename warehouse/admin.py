"""Data-management queries: load runs, quarantined rows and freshness per table.

Quarantined raw rows can hold personal data (masked on load, but still row-level), so they
need a person-level scope covering the whole warehouse; run lists are for everyone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from warehouse.datasets import dataset
from warehouse.db import OutOfScope, Scope, query
from warehouse.periods import during
from warehouse.scrub import scrub_expr

# table → (domain, the column that says how recent its data is)
TABLE_CLOCK = {
    "area": ("areas", None), "grid_staff": ("areas", "as_of"), "person": ("population", "updated_at"),
    "cases": ("cases", "reported_at"), "case_event": ("cases", "occurred_at"),
    "opinion_post": ("opinion", "published_at"), "ssra": ("ssra", "submitted_at"),
    "survey_response": ("surveys", "survey_period"),
}
KIND_TABLE = {"areas": "area", "grid_staff": "grid_staff", "persons": "person", "cases": "cases",
              "case_events": "case_event", "opinion": "opinion_post", "ssra": "ssra", "surveys": "survey_response"}


def _require_admin(scope: Scope) -> None:
    """Quarantined rows carry no trusted area: only person-level viewers of everything."""
    scope.require_person_level()
    if scope.areas is not None:
        raise OutOfScope("area", scope, area="*")


def _dates(start: date | None, end: date | None) -> tuple[str, list]:
    where, params = during("started_at", start, end)
    return (" AND ".join(where) or "TRUE"), params


def recent_runs(scope: Scope, limit: int = 50, start: date | None = None, end: date | None = None,
                path=None) -> pl.DataFrame:
    """One row per load or build run, newest first."""
    where, params = _dates(start, end)
    return query(f"""
        SELECT started_at, kind, domain, file_name, outcome, rows_read, rows_loaded, rows_updated,
               rows_quarantined, seconds, run_by, message, sha256, run_id
        FROM etl_run WHERE {where} ORDER BY started_at DESC LIMIT {int(limit)}""", params, path=path)


def run_summary(scope: Scope, days: int = 30, now: datetime | None = None, path=None) -> dict:
    """Runs started in the last `days` days of the wall clock (a load is stamped when it runs,
    not with the data's dates), demo builds included, as the runs table lists them: runs,
    rows read, rows quarantined, failed runs."""
    since = (now or datetime.now()) - timedelta(days=days)
    row = query("""
        SELECT count(*) AS runs, coalesce(sum(rows_read), 0) AS rows_read,
               coalesce(sum(rows_quarantined), 0) AS rows_quarantined,
               count(*) FILTER (WHERE outcome = 'failed') AS failed
        FROM etl_run WHERE started_at >= ?""", [since], path=path).row(0, named=True)
    return {k: int(v) for k, v in row.items()}


@dataset("etl_runs", "数据导入记录：每次导入/生成一行（文件、哈希、读入/新增/更新/隔离行数、耗时、结果）")
def etl_runs(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return recent_runs(scope, limit=100_000, start=start, end=end, path=path)


def quarantine_summary(scope: Scope, path=None) -> pl.DataFrame:
    """One row per file and reason: how many rows, which lines, when."""
    _require_admin(scope)
    return query("""
        SELECT q.file_name, q.reason_key, any_value(q.reason_zh) AS reason_zh, count(*) AS rows,
               min(q.line_no) AS first_line, max(q.line_no) AS last_line, max(q.created_at) AS quarantined_at,
               any_value(r.kind) AS kind
        FROM quarantine q LEFT JOIN etl_run r USING (run_id)
        GROUP BY q.file_name, q.reason_key
        ORDER BY quarantined_at DESC, rows DESC""", path=path)


def quarantine_rows(scope: Scope, file_name: str | None = None, reason_key: str | None = None,
                    path=None) -> pl.DataFrame:
    """Quarantined rows with the raw row (JSON text), oldest line first."""
    _require_admin(scope)
    where, params = ["TRUE"], []
    if file_name:
        where.append("file_name = ?")
        params.append(file_name)
    if reason_key:
        where.append("reason_key = ?")
        params.append(reason_key)
    rows = query(f"""
        SELECT file_name, line_no, column_name, reason_key, reason_zh, raw_row, created_at, run_id
        FROM quarantine WHERE {' AND '.join(where)}
        ORDER BY created_at DESC, file_name, line_no""", params, path=path)
    # rows quarantined before the loader masked every value: phone and ID numbers masked here too
    return rows.with_columns(scrub_expr(pl.col("raw_row"), codes_inside=True).alias("raw_row"))


@dataset("quarantine", "隔离数据：未通过校验的原始行（文件、行号、列、原因、原始内容，个人信息已脱敏）",
         person_level=True)
def quarantine(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return quarantine_rows(scope, path=path)


def quarantine_table(scope: Scope, file_name: str, reason_key: str | None = None, path=None) -> pl.DataFrame:
    """Quarantined rows of one file spread back into the file's own columns, for fixing in a
    spreadsheet: file, line, column, reason, then the original columns as read."""
    return raw_rows_table(quarantine_rows(scope, file_name, reason_key, path=path))


def raw_rows_table(rows: pl.DataFrame) -> pl.DataFrame:
    if rows.is_empty():
        return pl.DataFrame({"line_no": [], "reason_zh": []}, schema={"line_no": pl.Int64, "reason_zh": pl.Utf8})
    decoded = rows["raw_row"].str.json_decode(infer_schema_length=None)
    spread = decoded.struct.unnest() if decoded.dtype == pl.Struct else pl.DataFrame()
    spread = spread.with_columns(pl.col(c).cast(pl.Utf8) for c in spread.columns)
    return pl.concat([rows.select("file_name", "line_no", "column_name", "reason_zh"), spread], how="horizontal")


def freshness_by_table(scope: Scope, path=None) -> pl.DataFrame:
    """One row per data table: rows, newest data date, last load run and its outcome."""
    parts = []
    for table, (domain, clock) in TABLE_CLOCK.items():
        newest = f"(SELECT max({clock})::TIMESTAMP FROM {table})" if clock else "NULL::TIMESTAMP"
        kinds = [k for k, t in KIND_TABLE.items() if t == table]
        kind_list = ", ".join(f"'{k}'" for k in kinds + ["demo"])
        parts.append(f"""
            SELECT '{table}' AS table_name, '{domain}' AS domain, (SELECT count(*) FROM {table}) AS rows,
                   {newest} AS newest_data,
                   (SELECT max(finished_at) FROM etl_run WHERE kind IN ({kind_list})
                      AND (kind <> 'demo' OR domain = '{domain}') AND outcome IN ('ok', 'partial')) AS last_loaded,
                   (SELECT arg_max(outcome, started_at) FROM etl_run WHERE kind IN ({kind_list})
                      AND (kind <> 'demo' OR domain = '{domain}')) AS last_outcome""")
    return query(" UNION ALL ".join(parts), path=path)
