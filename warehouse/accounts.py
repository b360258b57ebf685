"""Local accounts, sessions and wall kiosk tokens, in a small SQLite file beside the warehouse.

The file is not the warehouse: a demo build or a load swaps `warehouse.duckdb` and never
touches it. Default `data/accounts.sqlite` next to the warehouse; `$WAREHOUSE_ACCOUNTS`
or an explicit path wins. Passwords are stored only as argon2id hashes (argon2-cffi);
session and kiosk tokens only as SHA-256 of a 256-bit random token, so a copy of the file
logs nobody in. After MAX_FAILURES wrong passwords in a row an account is locked for
LOCK_MINUTES; a session ends after IDLE_MINUTES without a request, or at logout.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from warehouse import db
from warehouse.scope import ROLES, Scope, for_role
from warehouse.sidestore import open_store

MAX_FAILURES = int(os.environ.get("ACCOUNTS_MAX_FAILURES", "5"))
LOCK_MINUTES = int(os.environ.get("ACCOUNTS_LOCK_MINUTES", "15"))
IDLE_MINUTES = int(os.environ.get("ACCOUNTS_IDLE_MINUTES", "30"))
# argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes);
# ACCOUNTS_TEST_HASH=1 (the test suite only) uses the cheapest settings to keep tests fast
_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) \
    if os.environ.get("ACCOUNTS_TEST_HASH") == "1" else PasswordHasher()
_DUMMY = _hasher.hash("not a password")  # verify against it for unknown names (same timing)

SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    areas TEXT NOT NULL DEFAULT '[]',      -- JSON list of area codes
    password_hash TEXT,                     -- argon2id; NULL for wall accounts
    token_hash TEXT,                        -- sha256 of the kiosk token (wall accounts)
    disabled INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    last_login TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS session (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL REFERENCES account(name),
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
"""


class LoginRefused(Exception):
    """reason: 'bad' (unknown name or wrong password: not told apart), 'locked', 'disabled'."""

    def __init__(self, reason: str, name: str):
        super().__init__(f"login refused for {name!r}: {reason}")
        self.reason, self.name = reason, name


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    areas: tuple[str, ...]
    disabled: bool = False
    locked_until: str | None = None
    last_login: str | None = None

    @property
    def scope(self) -> Scope:
        return for_role(self.role, self.areas, self.name)


def accounts_path(path: str | os.PathLike | None = None) -> Path:
    return db.beside("accounts.sqlite", "WAREHOUSE_ACCOUNTS", path)


@contextlib.contextmanager
def _connect(path=None, create: bool = True):
    p = accounts_path(path)
    if not create and not p.exists():
        yield None
        return
    with open_store(p, SCHEMA) as con:
        yield con


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(row) -> Account:
    return Account(row[0], row[1], tuple(json.loads(row[2])), bool(row[3]), row[4], row[5])


_COLS = "name, role, areas, disabled, locked_until, last_login"


# ---------------------------------------------------------------- administration (CLI)


def has_accounts(path=None) -> bool:
    """Whether any account exists; with none the app runs as a localhost-only demo."""
    with _connect(path, create=False) as con:
        return bool(con and con.execute("SELECT count(*) FROM account").fetchone()[0])


def add(name: str, role: str, areas=(), password: str | None = None, path=None) -> str | None:
    """Create an account; returns the kiosk token for a wall account (shown once), else None."""
    if not name or not name.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise ValueError("a user name is letters, digits, '-', '_' or '.'")
    for_role(role, areas, name)  # checks the role and its areas
    token = secrets.token_urlsafe(32) if role == "wall" else None
    if role != "wall" and not password:
        raise ValueError("a password is needed (wall accounts get a token instead)")
    now = _now().isoformat()
    with _connect(path) as con:
        try:
            con.execute("INSERT INTO account (name, role, areas, password_hash, token_hash, created_at, "
                        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [name, role, json.dumps(list(areas)), _hasher.hash(password) if password else None,
                         _sha(token) if token else None, now, now])
        except sqlite3.IntegrityError:
            raise ValueError(f"account {name!r} exists already") from None
    return token


def get(name: str, path=None) -> Account | None:
    with _connect(path, create=False) as con:
        row = con and con.execute(f"SELECT {_COLS} FROM account WHERE name = ?", [name]).fetchone()
    return _account(row) if row else None


def all_accounts(path=None) -> list[Account]:
    with _connect(path, create=False) as con:
        rows = con.execute(f"SELECT {_COLS} FROM account ORDER BY name").fetchall() if con else []
    return [_account(r) for r in rows]


def _require(con, name: str) -> str:
    row = con.execute("SELECT role FROM account WHERE name = ?", [name]).fetchone()
    if not row:
        raise KeyError(f"no account {name!r}")
    return row[0]


def set_password(name: str, password: str | None = None, path=None) -> str | None:
    """New password (and unlock); for a wall account a new kiosk token, returned."""
    with _connect(path) as con:
        role = _require(con, name)
        token = secrets.token_urlsafe(32) if role == "wall" else None
        if role != "wall" and not password:
            raise ValueError("a password is needed")
        con.execute("UPDATE account SET password_hash = ?, token_hash = ?, failures = 0, locked_until = NULL, "
                    "updated_at = ? WHERE name = ?",
                    [_hasher.hash(password) if password else None, _sha(token) if token else None,
                     _now().isoformat(), name])
        con.execute("DELETE FROM session WHERE name = ?", [name])
    return token


def set_disabled(name: str, disabled: bool = True, path=None) -> None:
    """Disable (ends its sessions and revokes a kiosk token's use) or enable an account."""
    with _connect(path) as con:
        _require(con, name)
        con.execute("UPDATE account SET disabled = ?, updated_at = ? WHERE name = ?",
                    [int(disabled), _now().isoformat(), name])
        if disabled:
            con.execute("DELETE FROM session WHERE name = ?", [name])


# ---------------------------------------------------------------- logging in


def login(name: str, password: str, path=None) -> Account:
    """The account if the password is right; else LoginRefused. Counts failures, locks."""
    now = _now()
    with _connect(path) as con:
        row = con.execute("SELECT password_hash, disabled, failures, locked_until FROM account "
                          "WHERE name = ?", [name]).fetchone()
        if row is None or row[0] is None:  # unknown, or a wall account (no password)
            with contextlib.suppress(VerificationError):
                _hasher.verify(_DUMMY, password)
            raise LoginRefused("bad", name)
        hashed, disabled, failures, locked_until = row
        if disabled:
            raise LoginRefused("disabled", name)
        if locked_until and datetime.fromisoformat(locked_until) > now:
            raise LoginRefused("locked", name)
        try:
            _hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            failures += 1
            lock = (now + timedelta(minutes=LOCK_MINUTES)).isoformat() if failures >= MAX_FAILURES else None
            con.execute("UPDATE account SET failures = ?, locked_until = ? WHERE name = ?",
                        [0 if lock else failures, lock, name])
            raise LoginRefused("locked" if lock else "bad", name) from None
        if _hasher.check_needs_rehash(hashed):
            con.execute("UPDATE account SET password_hash = ? WHERE name = ?", [_hasher.hash(password), name])
        con.execute("UPDATE account SET failures = 0, locked_until = NULL, last_login = ? WHERE name = ?",
                    [now.isoformat(), name])
    return get(name, path)


def start_session(name: str, path=None) -> str:
    """A new session token for a logged-in account (kept by the browser; only its hash here)."""
    token = secrets.token_urlsafe(32)
    now = _now().isoformat()
    with _connect(path) as con:
        con.execute("INSERT INTO session VALUES (?, ?, ?, ?)", [_sha(token), name, now, now])
    return token


def session_account(token: str | None, path=None, idle_minutes: int | None = None) -> Account | None:
    """The account of a live session (and mark it seen); None if unknown, idle too long,
    or the account is disabled."""
    if not token:
        return None
    idle = timedelta(minutes=IDLE_MINUTES if idle_minutes is None else idle_minutes)
    now = _now()
    with _connect(path, create=False) as con:
        if con is None:
            return None
        row = con.execute(f"SELECT s.last_seen, {', '.join('a.' + c for c in _COLS.split(', '))} "
                          "FROM session s JOIN account a USING (name) WHERE s.token_hash = ?",
                          [_sha(token)]).fetchone()
        if row is None:
            return None
        if datetime.fromisoformat(row[0]) + idle < now or row[4]:
            con.execute("DELETE FROM session WHERE token_hash = ?", [_sha(token)])
            return None
        con.execute("UPDATE session SET last_seen = ? WHERE token_hash = ?", [now.isoformat(), _sha(token)])
    return _account(row[1:])


def end_session(token: str | None, path=None) -> None:
    if token:
        with _connect(path, create=False) as con:
            if con is not None:
                con.execute("DELETE FROM session WHERE token_hash = ?", [_sha(token)])


def wall_account(token: str | None, path=None) -> Account | None:
    """The enabled wall account whose kiosk token this is, else None."""
    if not token:
        return None
    with _connect(path, create=False) as con:
        row = con and con.execute(f"SELECT {_COLS} FROM account WHERE token_hash = ? AND role = 'wall' "
                                  "AND disabled = 0", [_sha(token)]).fetchone()
    return _account(row) if row else None


__all__ = ["ROLES", "Account", "LoginRefused", "accounts_path", "add", "all_accounts", "end_session",
           "get", "has_accounts", "login", "session_account", "set_disabled", "set_password",
           "start_session", "wall_account"]
