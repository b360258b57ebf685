"""Issue #18: the hash key is refused when empty, short or not the warehouse's own; it is
created atomically; warehouse and key files are private (0600)."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from etl import identity
from etl.load import load_file
from tests.load_fixture import load_fixture

BAD = Path(__file__).parent / "data" / "bad"


@pytest.mark.parametrize("key", ["", "x", "short-key"])
def test_empty_or_short_key_is_refused(monkeypatch, key):
    monkeypatch.setenv("WAREHOUSE_HASH_KEY", key)
    with pytest.raises(identity.KeyProblem, match="at least"):
        identity.hash_key()


def test_a_different_key_is_refused_with_exit_2(monkeypatch, tmp_path):
    wh = load_fixture(tmp_path / "wh.duckdb")
    first = load_file(BAD / "persons_utf8.csv", "persons", wh)
    assert first.exit_code == 0
    monkeypatch.setenv("WAREHOUSE_HASH_KEY", "another-key-of-enough-length")
    again = load_file(BAD / "persons_gbk.csv", "persons", wh)  # same people, other bytes
    assert again.exit_code == 2 and "fingerprint" in again.message
    import duckdb

    con = duckdb.connect(str(wh), read_only=True)
    assert con.sql("SELECT count(*) FROM person").fetchall()[0][0] == 3  # not doubled
    assert con.sql("SELECT outcome FROM etl_run ORDER BY started_at DESC LIMIT 1").fetchall()[0][0] == "failed"
    con.close()


def test_warehouse_file_is_private(tmp_path):
    wh = load_fixture(tmp_path / "wh.duckdb")
    load_file(BAD / "persons_utf8.csv", "persons", wh)
    assert stat.S_IMODE(os.stat(wh).st_mode) == 0o600


def _read_key(path: str, out) -> None:
    os.environ.pop("WAREHOUSE_HASH_KEY", None)
    try:
        out.put(identity.hash_key(Path(path)).decode())
    except Exception as e:  # noqa: BLE001 – reported to the parent
        out.put(f"error: {e}")


def test_concurrent_creators_all_read_one_full_key(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for trial in range(25):
        path = tmp_path / f"key{trial}"
        out = ctx.Queue()
        procs = [ctx.Process(target=_read_key, args=(str(path), out)) for _ in range(4)]
        for p in procs:
            p.start()
        keys = {out.get(timeout=30) for _ in procs}
        for p in procs:
            p.join()
        assert len(keys) == 1 and len(keys.pop()) == 64
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert not list(tmp_path.glob(".*.tmp"))
