"""Small SQLite files kept beside the warehouse file (accounts, the audit log): state a rebuild
or a load must never drop, so it lives outside the DuckDB file that is swapped."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path


@contextlib.contextmanager
def open_store(path: Path, schema: str):
    """A connection in autocommit with WAL (readers never block the writer), the schema
    applied (idempotent CREATE … IF NOT EXISTS) and the file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(schema)
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        yield con
    finally:
        con.close()
