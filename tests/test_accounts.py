"""Local accounts, sessions, kiosk tokens, the users CLI and the append-only audit log."""

from __future__ import annotations

import io
import sqlite3
from datetime import datetime, timedelta

import pytest

from warehouse import accounts, audit, db
from warehouse.__main__ import main
from warehouse.scope import FULL, OutOfScope, for_role

PW = "correct horse battery"


@pytest.fixture()
def acc_path(tmp_path, monkeypatch):
    path = tmp_path / "accounts.sqlite"
    monkeypatch.setenv("WAREHOUSE_ACCOUNTS", str(path))
    monkeypatch.setenv("WAREHOUSE_AUDIT", str(tmp_path / "audit.sqlite"))
    return path


def test_no_accounts_means_demo_mode(acc_path):
    assert not accounts.has_accounts()
    assert not acc_path.exists()  # asking does not create the file
    accounts.add("root", "admin", password=PW)
    assert accounts.has_accounts()


def test_password_is_stored_hashed_and_checked(acc_path):
    accounts.add("hz_town", "town", ["320813103"], PW)
    raw = acc_path.read_bytes()
    assert PW.encode() not in raw
    stored = sqlite3.connect(acc_path).execute("SELECT password_hash FROM account").fetchone()[0]
    assert stored.startswith("$argon2id$")
    acc = accounts.login("hz_town", PW)
    assert acc.scope.areas == ("320813103",) and acc.scope.role == "town" and acc.scope.person_level
    with pytest.raises(accounts.LoginRefused) as e:
        accounts.login("hz_town", "wrong password")
    assert e.value.reason == "bad"
    with pytest.raises(accounts.LoginRefused) as e:
        accounts.login("nobody", PW)
    assert e.value.reason == "bad"  # unknown names are not told apart from wrong passwords


def test_lockout_after_repeated_failures(acc_path):
    accounts.add("a1", "analyst", ["320813103", "320813104"], PW)
    for _ in range(accounts.MAX_FAILURES - 1):
        with pytest.raises(accounts.LoginRefused, match="bad"):
            accounts.login("a1", "nope")
    with pytest.raises(accounts.LoginRefused) as e:
        accounts.login("a1", "nope")
    assert e.value.reason == "locked"
    with pytest.raises(accounts.LoginRefused) as e:  # even the right password, while locked
        accounts.login("a1", PW)
    assert e.value.reason == "locked"
    accounts.set_password("a1", PW + "!")  # an administrator's reset unlocks
    assert accounts.login("a1", PW + "!").name == "a1"


def test_a_success_resets_the_failure_count(acc_path):
    accounts.add("a2", "county", [], PW)
    for _ in range(accounts.MAX_FAILURES - 1):
        with pytest.raises(accounts.LoginRefused):
            accounts.login("a2", "nope")
    accounts.login("a2", PW)
    with pytest.raises(accounts.LoginRefused, match="bad"):
        accounts.login("a2", "nope")


def test_sessions_expire_when_idle_and_end_at_logout(acc_path):
    accounts.add("v1", "village", ["320813103205"], PW)
    sid = accounts.start_session("v1")
    assert accounts.session_account(sid).name == "v1"
    assert PW.encode() not in acc_path.read_bytes() and sid.encode() not in acc_path.read_bytes()
    with sqlite3.connect(acc_path) as con:  # an hour of silence
        con.execute("UPDATE session SET last_seen = ?", [(datetime.now() - timedelta(hours=1)).isoformat()])
    assert accounts.session_account(sid, idle_minutes=30) is None
    assert accounts.session_account(sid) is None  # and it is gone for good
    sid = accounts.start_session("v1")
    accounts.end_session(sid)
    assert accounts.session_account(sid) is None


def test_disabling_ends_sessions(acc_path):
    accounts.add("t1", "town", ["320813103"], PW)
    sid = accounts.start_session("t1")
    accounts.set_disabled("t1")
    assert accounts.session_account(sid) is None
    with pytest.raises(accounts.LoginRefused, match="disabled"):
        accounts.login("t1", PW)


def test_wall_token_is_long_random_and_revocable(acc_path):
    token = accounts.add("wall1", "wall")
    assert len(token) >= 40
    acc = accounts.wall_account(token)
    assert acc.name == "wall1" and not acc.scope.person_level
    assert accounts.wall_account(token[:-1] + "x") is None
    with pytest.raises(accounts.LoginRefused):  # no password login for a wall account
        accounts.login("wall1", token)
    new = accounts.set_password("wall1")  # a new token replaces the old one
    assert accounts.wall_account(token) is None and accounts.wall_account(new).name == "wall1"
    accounts.set_disabled("wall1")
    assert accounts.wall_account(new) is None


@pytest.mark.parametrize("role, areas", [("town", []), ("town", ["320813"]), ("village", ["320813103"]),
                                         ("analyst", []), ("boss", [])])
def test_roles_need_areas_of_their_level(acc_path, role, areas):
    with pytest.raises(ValueError):
        accounts.add("x", role, areas, PW)


def test_accounts_survive_a_warehouse_rebuild(acc_path, tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    accounts.add("root", "admin", password=PW)
    before = acc_path.read_bytes()
    for start_empty in (True, False):  # a build, then a load: both swap the warehouse file
        with db.writing(wh, start_empty=start_empty) as con:
            con.execute("CREATE OR REPLACE TABLE t AS SELECT 1 AS x")
    assert acc_path.read_bytes() == before and accounts.login("root", PW).role == "admin"


def test_users_cli(acc_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    assert main(["users", "add", "hz_admin", "--role", "admin", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    assert main(["users", "add", "t103", "--role", "town", "--area", "320813103", "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["users", "add", "wall1", "--role", "wall"]) == 0
    token = capsys.readouterr().out.strip()
    assert accounts.wall_account(token).name == "wall1"
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "t103" in listing and "320813103" in listing and PW not in listing and "argon2" not in listing
    assert main(["users", "disable", "t103"]) == 0
    assert accounts.get("t103").disabled
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "passwd", "hz_admin", "--password-stdin"]) == 2  # too short: refused
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "2\n"))
    assert main(["users", "passwd", "hz_admin", "--password-stdin"]) == 0
    assert accounts.login("hz_admin", PW + "2").role == "admin"
    log = audit.entries(FULL)
    assert log.filter(log["action"] == "account")["what"].to_list()[::-1] == [
        "add hz_admin", "add t103", "add wall1", "disable t103", "passwd hz_admin"]
    assert PW not in audit.audit_path().read_bytes().decode("utf-8", "replace")


def test_audit_log_is_append_only(acc_path):
    audit.record("login", "t103", "town")
    audit.record("export", "t103", "town", what="cases.csv", area="320813103", rows=42)
    with sqlite3.connect(audit.audit_path()) as con:
        for sql in ("UPDATE audit SET who = 'x'", "DELETE FROM audit"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(sql)
    log = audit.entries(FULL)
    assert log["action"].to_list() == ["export", "login"] and log["rows"][0] == 42
    with pytest.raises(OutOfScope):
        audit.entries(for_role("county"))  # county leaders are not administrators


def test_audit_log_export_is_for_admins_only(acc_path, tmp_path, capsys):
    audit.record("login", "t103", "town")
    out = tmp_path / "audit.csv"
    assert main(["export", "audit_log", "--format", "csv", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("id,at,who,role,action,what,area,rows,detail") and "t103" in text
    accounts.add("t103", "town", ["320813103"], PW)
    assert main(["export", "audit_log", "--format", "csv", "--user", "t103"]) == 3
    assert "refused" in capsys.readouterr().err
    log = audit.entries(FULL)
    assert log["action"].to_list()[:2] == ["refused", "export"]  # the refusal is recorded too
