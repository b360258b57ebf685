"""Delivery state outside the warehouse: one SQLite file (default next to the warehouse,
alerts_state.sqlite; $ALERT_STATE overrides). A row per (event, channel) says whether it was
sent, how many tries it took, the last error; a row per scheduled report month says it went.
A rebuilt or re-loaded warehouse leaves it alone, so a restart never sends twice."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery (
    event_key TEXT NOT NULL, channel TEXT NOT NULL, rule TEXT, level TEXT, area_code TEXT,
    title TEXT, link TEXT, status TEXT NOT NULL,        -- sent | failed | gave_up
    tries INTEGER NOT NULL DEFAULT 0, runs INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    first_at TEXT NOT NULL, last_at TEXT NOT NULL, sent_at TEXT,
    PRIMARY KEY (event_key, channel));
CREATE TABLE IF NOT EXISTS attempt (
    at TEXT NOT NULL, event_key TEXT NOT NULL, channel TEXT NOT NULL, ok INTEGER NOT NULL, error TEXT);
CREATE TABLE IF NOT EXISTS scheduled (
    job TEXT NOT NULL, period TEXT NOT NULL, status TEXT NOT NULL, detail TEXT, at TEXT NOT NULL,
    PRIMARY KEY (job, period));
"""


def default_path(db_path=None) -> Path:
    if os.environ.get("ALERT_STATE"):
        return Path(os.environ["ALERT_STATE"])
    from warehouse import db

    return Path(db.db_path(db_path)).with_name("alerts_state.sqlite")


class State:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(self.path, timeout=30, isolation_level=None)  # autocommit
        self.con.executescript(SCHEMA)

    def close(self) -> None:
        self.con.close()

    def status(self, event_key: str, channel: str) -> tuple[str, int] | None:
        row = self.con.execute("SELECT status, runs FROM delivery WHERE event_key=? AND channel=?",
                               (event_key, channel)).fetchone()
        return (row[0], row[1]) if row else None

    def attempt(self, event, channel: str, ok: bool, error: str | None) -> None:
        self.con.execute("INSERT INTO attempt VALUES (?,?,?,?,?)", (_now(), event.key, channel, int(ok), error))

    def record(self, event, channel: str, ok: bool, tries: int, error: str | None, gave_up: bool = False) -> None:
        now = _now()
        status = "sent" if ok else ("gave_up" if gave_up else "failed")
        self.con.execute(
            """INSERT INTO delivery (event_key, channel, rule, level, area_code, title, link, status, tries,
                                     runs, last_error, first_at, last_at, sent_at)
               VALUES (?,?,?,?,?,?,?,?,?,1,?,?,?,?)
               ON CONFLICT (event_key, channel) DO UPDATE SET status=excluded.status,
                   tries=delivery.tries + excluded.tries, runs=delivery.runs + 1,
                   last_error=excluded.last_error, last_at=excluded.last_at, sent_at=excluded.sent_at""",
            (event.key, channel, event.rule, event.level, event.area_code, event.title, event.link, status,
             tries, error, now, now, now if ok else None))

    def history(self, limit: int = 500) -> list[dict]:
        cur = self.con.execute(
            """SELECT last_at, rule, level, title, channel, status, tries, last_error, link, event_key
               FROM delivery ORDER BY last_at DESC, event_key LIMIT ?""", (limit,))
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def attempts(self) -> list[dict]:
        cur = self.con.execute("SELECT at, event_key, channel, ok, error FROM attempt ORDER BY rowid")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    # scheduled jobs (the monthly report): claimed before it is built, so two schedulers or a
    # restart in the middle never send it twice
    def claim(self, job: str, period: str) -> bool:
        cur = self.con.execute("INSERT OR IGNORE INTO scheduled VALUES (?,?,?,?,?)",
                               (job, period, "running", None, _now()))
        return cur.rowcount == 1

    def finish(self, job: str, period: str, status: str, detail: dict | str | None = None) -> None:
        self.con.execute("UPDATE scheduled SET status=?, detail=?, at=? WHERE job=? AND period=?",
                         (status, json.dumps(detail, ensure_ascii=False) if isinstance(detail, dict) else detail,
                          _now(), job, period))

    def release(self, job: str, period: str) -> None:
        """A failed job may be tried again on the next tick."""
        self.con.execute("DELETE FROM scheduled WHERE job=? AND period=? AND status!='sent'", (job, period))

    def job(self, job: str, period: str) -> dict | None:
        cur = self.con.execute("SELECT job, period, status, detail, at FROM scheduled WHERE job=? AND period=?",
                               (job, period))
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def history_frame(db_path=None, state_path=None, limit: int = 500):
    """The delivery log as polars (empty when nothing was ever sent); read only."""
    import polars as pl

    path = Path(state_path) if state_path else default_path(db_path)
    schema = {"last_at": pl.Utf8, "rule": pl.Utf8, "level": pl.Utf8, "title": pl.Utf8, "channel": pl.Utf8,
              "status": pl.Utf8, "tries": pl.Int64, "last_error": pl.Utf8, "link": pl.Utf8, "event_key": pl.Utf8}
    if not path.exists():
        return pl.DataFrame(schema=schema)
    st = State(path)
    try:
        return pl.DataFrame(st.history(limit), schema=schema, orient="row") if st.history(1) else pl.DataFrame(schema=schema)
    finally:
        st.close()
