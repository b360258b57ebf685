"""Atomic swaps: readers keep the old warehouse until a new one is complete."""

import pytest

from tests.fixtures import empty_warehouse, insert
from warehouse import db


def count_areas(path):
    return db.reader(path).sql("SELECT count(*) FROM area").fetchall()[0][0]


def test_reader_sees_new_build_without_restart(tmp_path):
    path = empty_warehouse(tmp_path / "w.duckdb")
    assert count_areas(path) == 0
    old_cursor = db.reader(path)
    with db.writing(path) as con:
        con.execute("INSERT INTO area (code, name, level) VALUES ('320813', '洪泽区', 'county')")
    assert count_areas(path) == 1
    # a cursor opened before the swap still reads the old data, without errors
    assert old_cursor.sql("SELECT count(*) FROM area").fetchall()[0][0] == 0


def test_failed_write_leaves_live_file_untouched(tmp_path):
    path = empty_warehouse(tmp_path / "w.duckdb")
    insert(path, "area", [{"code": "320813", "name": "洪泽区", "level": "county"}])
    before = db.version(path)
    with pytest.raises(RuntimeError):
        with db.writing(path) as con:
            con.execute("DELETE FROM area")
            raise RuntimeError("crash half way")
    assert db.version(path) == before
    assert count_areas(path) == 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_scope_limits_areas_and_person_rows():
    town = db.Scope(("320813103",), person_level=False, name="town")
    assert town.allows_area("320813103205001") and not town.allows_area("320813001001")
    assert "starts_with(area_code, '320813103')" in town.area_clause()
    with pytest.raises(PermissionError):
        db.WALL.require_person_level()
    with pytest.raises(ValueError):
        db.Scope(("1' OR 1=1 --",)).area_clause()


def test_within_narrows_the_scope_and_refuses_outside_areas():
    town = db.Scope(("320813103",), name="town")
    clause = town.within("320813103205")
    assert "starts_with(area_code, '320813103')" in clause and "'320813103205'" in clause
    assert db.FULL.within(None) == "TRUE"
    with pytest.raises(PermissionError):
        town.within("320813001")
