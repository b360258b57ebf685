"""The audit trail: an append-only SQLite file beside the warehouse (never inside it).

Every login (success and failure), page view with its filters, export, report download,
load and account change is one row: when, who, role, action, what, area, rows, detail.
Triggers refuse UPDATE and DELETE, and nothing in the app offers either: the log can only
grow. Default `data/audit.sqlite` next to the warehouse; `$WAREHOUSE_AUDIT` wins.
Read it with `python -m warehouse export audit_log --format csv` (admin) or on the data page.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
from datetime import date, datetime
from pathlib import Path

import polars as pl

from warehouse import db
from warehouse.datasets import dataset
from warehouse.scope import Scope
from warehouse.sidestore import open_store

ACTIONS = ("login", "login_failed", "logout", "view", "refused", "export", "report", "load", "account")

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    role TEXT,
    action TEXT NOT NULL,
    what TEXT,
    area TEXT,
    rows INTEGER,
    detail TEXT
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
COLUMNS = ["id", "at", "who", "role", "action", "what", "area", "rows", "detail"]


def audit_path(path: str | os.PathLike | None = None, warehouse=None) -> Path:
    """Explicit path, else $WAREHOUSE_AUDIT, else audit.sqlite beside the warehouse."""
    return db.beside("audit.sqlite", "WAREHOUSE_AUDIT", path, warehouse)


@contextlib.contextmanager
def _connect(path=None, warehouse=None):
    with open_store(audit_path(path, warehouse), SCHEMA) as con:
        yield con


def cli_user() -> str:
    """Who runs a command line: the operating-system user."""
    with contextlib.suppress(Exception):
        return f"cli:{getpass.getuser()}"
    return "cli"


def record(action: str, who: str, role: str | None = None, what: str | None = None,
           area: str | None = None, rows: int | None = None, path=None, warehouse=None,
           **detail) -> None:
    """Append one row. `detail` holds filters and the like (never a password)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    text = json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True) if detail else None
    with _connect(path, warehouse) as con:
        con.execute("INSERT INTO audit (at, who, role, action, what, area, rows, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [datetime.now().isoformat(timespec="seconds"), who, role, action, what, area,
                     None if rows is None else int(rows), text])


def entries(scope: Scope, start: date | None = None, end: date | None = None, limit: int | None = None,
            path=None, warehouse=None) -> pl.DataFrame:
    """Rows of the log, newest first (administrators only)."""
    scope.require_admin()
    where, params = [], []
    if start:
        where.append("at >= ?")
        params.append(start.isoformat())
    if end:
        where.append("at < ?")
        params.append(end.isoformat())
    sql = (f"SELECT {', '.join(COLUMNS)} FROM audit WHERE {' AND '.join(where) or '1'} ORDER BY id DESC"
           + (f" LIMIT {int(limit)}" if limit else ""))
    with _connect(path, warehouse) as con:
        rows = con.execute(sql, params).fetchall()
    return pl.DataFrame(rows, schema={"id": pl.Int64, "at": pl.Utf8, "who": pl.Utf8, "role": pl.Utf8,
                                      "action": pl.Utf8, "what": pl.Utf8, "area": pl.Utf8,
                                      "rows": pl.Int64, "detail": pl.Utf8}, orient="row")


@dataset("audit_log", "审计日志：登录（成功与失败）、页面浏览及筛选、导出、报告下载、导入、账号变更（仅管理员）",
         admin_only=True)
def audit_log_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    from datetime import timedelta

    df = entries(scope, start, end + timedelta(days=1) if end else None, warehouse=path)
    return df.filter(pl.col("area").str.starts_with(area)) if area else df
