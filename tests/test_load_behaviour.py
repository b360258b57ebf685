"""Load semantics: idempotence, updates, all-or-nothing, no clear IDs, cases ⇄ case_event, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from etl.identity import check_digit
from etl.load import load_file
from tests.load_fixture import G1, G2

ROOT = Path(__file__).resolve().parent.parent




def rows(path: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(sql, params=params).fetchall()
    finally:
        con.close()


def idn(seq: int) -> str:
    f = f"32081319800101{seq:03d}"
    return f + check_digit(f)


def persons_csv(path: Path, people: list[tuple[int, str, str]]) -> Path:
    lines = ["公民身份号码,姓名,联系电话,人口类型,网格编码"]
    lines += [f"{idn(i)},{name},13812345678,户籍,{grid}" for i, name, grid in people]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_same_file_twice_is_skipped_and_changes_nothing(wh, tmp_path):
    f = persons_csv(tmp_path / "p.csv", [(1, "张三丰", G1), (2, "李四", G1)])
    first = load_file(f, "persons", wh)
    table = rows(wh, "SELECT * FROM person ORDER BY person_key")
    second = load_file(f, "persons", wh)
    assert (first.outcome, first.loaded) == ("ok", 2)
    assert (second.outcome, second.loaded, second.updated, second.exit_code) == ("skipped", 0, 0, 0)
    assert rows(wh, "SELECT * FROM person ORDER BY person_key") == table
    assert rows(wh, "SELECT outcome FROM etl_run ORDER BY started_at") == [("ok",), ("skipped",)]


def test_newer_file_with_overlapping_keys_updates(wh, tmp_path):
    load_file(persons_csv(tmp_path / "a.csv", [(1, "张三丰", G1), (2, "李四", G1)]), "persons", wh)
    res = load_file(persons_csv(tmp_path / "b.csv", [(2, "李四", G2), (3, "王五", G2)]), "persons", wh)
    assert (res.rows_read, res.loaded, res.updated) == (2, 1, 1)
    assert rows(wh, "SELECT count(*) FROM person") == [(3,)]
    assert rows(wh, "SELECT area_code FROM person WHERE name_masked = '李*'") == [(G2,)]


def test_ids_hashed_names_and_phones_masked(wh, tmp_path):
    load_file(persons_csv(tmp_path / "a.csv", [(7, "欧阳娜娜", G1)]), "persons", wh)
    (key, name, phone, sex, birth), = rows(wh, "SELECT person_key, name_masked, phone_masked, sex, birth_month "
                                                "FROM person")
    assert (name, phone) == ("欧**娜", "138****5678")
    assert len(key) == 64 and idn(7) not in key
    assert (sex, str(birth)) == ("M", "1980-01-01")  # derived from the ID number (007: odd → male)
    con = duckdb.connect(str(wh), read_only=True)
    for (table,) in con.sql("SELECT table_name FROM information_schema.tables").fetchall():
        text = str(con.sql(f"SELECT * FROM {table}").fetchall())
        assert idn(7) not in text and "欧阳娜娜" not in text and "13812345678" not in text
    con.close()


def test_crash_half_way_leaves_the_warehouse_as_it_was(wh, tmp_path, monkeypatch):
    import etl.load

    before = rows(wh, "SELECT count(*) FROM person UNION ALL SELECT count(*) FROM etl_run")

    def boom(con, **_):
        raise KeyboardInterrupt  # Ctrl-C after the rows were written to the private copy

    monkeypatch.setattr(etl.load.marts, "rebuild", boom)
    with pytest.raises(KeyboardInterrupt):
        load_file(persons_csv(tmp_path / "a.csv", [(1, "张三", G1)]), "persons", wh)
    assert rows(wh, "SELECT count(*) FROM person UNION ALL SELECT count(*) FROM etl_run") == before
    assert not list(wh.parent.glob(".*.tmp"))


def test_case_events_rederive_case_steps_and_cases_add_missing_steps(wh, tmp_path):
    cases = tmp_path / "cases.csv"
    cases.write_text("事件编号,事件类型,来源渠道,网格编码,上报时间,受理时间,派遣时间,办结时间,责任单位\n"
                     f"C9,邻里纠纷,网格员巡查,{G1},2025-03-05 08:00,2025-03-05 09:00,2025-03-05 10:00,,临河社区\n",
                     encoding="utf-8")
    res = load_file(cases, "cases", wh)
    assert res.exit_code == 0
    # category and deadline come from the case-type catalogue (72 h)
    assert rows(wh, "SELECT category, deadline_at, status FROM cases WHERE case_id = 'C9'") == [
        ("矛盾纠纷", datetime(2025, 3, 8, 8), "dispatched")]
    # the file's step times became the case's log
    assert rows(wh, "SELECT seq, step FROM case_event WHERE case_id = 'C9' ORDER BY seq") == [
        (1, "report"), (2, "accept"), (3, "dispatch")]
    events = tmp_path / "events.csv"
    events.write_text("事件编号,序号,环节,发生时间\n"
                      "C9,1,上报,2025-03-05 08:00\nC9,2,受理,2025-03-05 09:00\nC9,3,派遣,2025-03-05 10:00\n"
                      "C9,4,处置,2025-03-06 10:00\nC9,5,退回,2025-03-06 12:00\nC9,6,处置,2025-03-07 10:00\n"
                      "C9,7,核查,2025-03-07 12:00\nC9,8,办结,2025-03-07 15:00\n", encoding="utf-8")
    res = load_file(events, "case_events", wh)
    assert res.exit_code == 0 and res.rows_read == 8
    assert rows(wh, "SELECT handled_at, closed_at, status, returned_count FROM cases WHERE case_id = 'C9'") == [
        (datetime(2025, 3, 7, 10), datetime(2025, 3, 7, 15), "closed", 1)]  # handled = the LAST handle
    assert rows(wh, "SELECT count(*) FROM case_event WHERE case_id = 'C9'") == [(8,)]


def test_new_database_gets_the_schema(tmp_path):
    f = tmp_path / "areas.csv"
    f.write_text("区划代码,名称\n320813,洪泽区\n320813001,高良涧街道\n", encoding="utf-8")
    res = load_file(f, "areas", tmp_path / "new.duckdb")
    assert (res.exit_code, res.loaded) == (0, 2)
    assert rows(tmp_path / "new.duckdb", "SELECT code, level, parent_code FROM area ORDER BY code") == [
        ("320813", "county", None), ("320813001", "town", "320813")]


def test_cli_json_summary_and_exit_codes(wh, capsys):
    from etl.__main__ import main

    bad = ROOT / "tests/data/bad"
    code = main(["load", "--kind", "persons", "--db", str(wh), "--json",
                 str(bad / "persons_utf8.csv"), str(bad / "persons_bad_check_digit.csv")])
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert [s["file"] for s in summaries] == ["persons_utf8.csv", "persons_bad_check_digit.csv"]
    assert set(summaries[1]) >= {"file", "sha256", "rows_read", "loaded", "updated", "quarantined", "seconds"}
    assert summaries[1]["quarantined"] == {"id_check_digit": 1}
    code = main(["load", "--kind", "persons", "--db", str(wh), str(bad / "persons_missing_id_column.csv")])
    assert code == 2 and "公民身份号码" in capsys.readouterr().err


def test_cli_help_runs():
    run = subprocess.run([sys.executable, "-m", "etl", "load", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0 and "--kind" in run.stdout and "--sheet" in run.stdout


def test_opinion_rows_without_sentiment_are_enriched(wh, tmp_path):
    f = tmp_path / "posts.csv"
    f.write_text("信息编号,来源平台,发布时间,内容,情感倾向\n"
                 "P1,微博,2025-05-01 10:00,高良涧街道路灯坏了好久没人修，太差了,\n"
                 "P2,微信,2025-05-01 11:00,今天天气不错,正面\n", encoding="utf-8")
    res = load_file(f, "opinion", wh)
    assert res.exit_code == 0, res.message
    got = dict(rows(wh, "SELECT post_id, sentiment FROM opinion_post"))
    assert got["P2"] == "positive"               # given sentiment kept
    assert got["P1"] in ("negative", "neutral", "positive")  # filled by etl.opinion when present


def test_case_events_without_seq_are_numbered_in_file_order(wh, tmp_path):
    f = tmp_path / "events.csv"
    f.write_text("事件编号,环节,发生时间\nE1,上报,2025-03-05 08:00\nE1,受理,2025-03-05 09:00\n", encoding="utf-8")
    res = load_file(f, "case_events", wh)
    assert res.exit_code == 0, res.message
    assert rows(wh, "SELECT seq, step FROM case_event WHERE case_id = 'E1' ORDER BY seq") == [
        (1, "report"), (2, "accept")]
    assert rows(wh, "SELECT status, accepted_at FROM cases WHERE case_id = 'E1'") == [
        ("accepted", datetime(2025, 3, 5, 9))]


def test_case_events_in_any_order_with_repeats_and_bad_seq(wh, tmp_path):
    """A shuffled log is put in (case, seq) order; a repeated (case, seq) is caught however far
    apart its lines are; a blank seq is numbered, an unreadable one is reported, not renumbered."""
    f = tmp_path / "events.csv"
    f.write_text("事件编号,序号,环节,发生时间\n"
                 "E1,2,受理,2025-03-05 09:00\n"   # line 2
                 "E1,1,上报,2025-03-05 08:00\n"   # line 3
                 "E1,二,派遣,2025-03-05 09:10\n"  # line 4: seq not a number
                 "E1,3,派遣,2025-03-05 10:00\n"   # line 5
                 "E1,2,受理,2025-03-05 09:30\n",  # line 6: (E1, 2) again
                 encoding="utf-8")
    res = load_file(f, "case_events", wh)
    assert res.rows_read == 5 and res.loaded + res.updated == 3
    assert res.quarantined == {"bad_number": 1, "duplicate_key": 1}
    assert rows(wh, "SELECT line_no, reason_key FROM quarantine ORDER BY line_no") == [
        (4, "bad_number"), (6, "duplicate_key")]
    assert rows(wh, "SELECT seq, step, occurred_at FROM case_event WHERE case_id = 'E1' ORDER BY seq") == [
        (1, "report", datetime(2025, 3, 5, 8)), (2, "accept", datetime(2025, 3, 5, 9)),
        (3, "dispatch", datetime(2025, 3, 5, 10))]
    blank = tmp_path / "blank.csv"
    blank.write_text("事件编号,序号,环节,发生时间\nE1,,上报,2025-03-06 08:00\nE1,,受理,2025-03-06 09:00\n",
                     encoding="utf-8")
    assert load_file(blank, "case_events", wh).exit_code == 0
    assert rows(wh, "SELECT seq, step FROM case_event WHERE case_id = 'E1' ORDER BY seq") == [
        (1, "report"), (2, "accept")]


def test_vectorised_hmac_equals_identity_person_key():
    import polars as pl

    from etl.identity import person_key
    from etl.transforms import hmac_hex

    ids = [idn(i) for i in range(1, 50)] + [None]
    for key in (b"k", b"x" * 64, b"long key " * 10):
        got = hmac_hex(pl.Series("id_number", ids), key).to_list()
        assert got == [None if v is None else person_key(v, key) for v in ids]
        assert hmac_hex(pl.Series("a", ids), key, 16).to_list() == [None if g is None else g[:16] for g in got]


def test_statement_alongside_raises_its_error_and_is_interrupted_by_the_body(tmp_path):
    import polars as pl

    from etl.load import _alongside

    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    con.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
    con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(duckdb.ConstraintException):
        with _alongside(con, "INSERT INTO t SELECT k FROM _f", _f=pl.DataFrame({"k": [1]})):
            pass
    with pytest.raises(KeyboardInterrupt):
        with _alongside(con, "INSERT INTO t SELECT range + 10 FROM range(1000)"):
            raise KeyboardInterrupt
    with _alongside(con, "INSERT INTO t SELECT k FROM _f", _f=pl.DataFrame({"k": [2, 3]})):
        con.execute("CREATE TABLE u AS SELECT 1 AS x")
    assert con.sql("SELECT count(*) FROM t WHERE k < 10").fetchall() == [(3,)]
    con.close()


def test_case_log_key_stays_unique_and_a_broken_write_rolls_back(wh, tmp_path, monkeypatch):
    """case_event has no key index (schema v3): reloading a case with more steps appends only
    the new ones, and a write that would store an event twice fails the whole load."""
    import etl.case_sync

    head = "事件编号,事件类型,来源渠道,网格编码,上报时间,受理时间,派遣时间,处置时间,责任单位\n"
    first = tmp_path / "c1.csv"
    first.write_text(head + f"C7,邻里纠纷,网格员巡查,{G1},2025-03-05 08:00,2025-03-05 09:00,,,临河社区\n",
                     encoding="utf-8")
    assert load_file(first, "cases", wh).exit_code == 0
    later = tmp_path / "c2.csv"
    later.write_text(head + f"C7,邻里纠纷,网格员巡查,{G1},2025-03-05 08:00,2025-03-05 09:00,"
                     "2025-03-05 10:00,2025-03-06 10:00,临河社区\n", encoding="utf-8")
    assert load_file(later, "cases", wh).exit_code == 0
    assert rows(wh, "SELECT seq, step FROM case_event WHERE case_id = 'C7' ORDER BY seq") == [
        (1, "report"), (2, "accept"), (3, "dispatch"), (4, "handle")]

    def twice(con, touched="_touched"):  # a faulty write: every event of the case again
        con.execute(f"INSERT INTO case_event SELECT * FROM case_event WHERE case_id IN (SELECT case_id FROM {touched})")

    monkeypatch.setattr(etl.case_sync, "append_missing_steps", twice)
    before = rows(wh, "SELECT count(*) FROM case_event UNION ALL SELECT count(*) FROM cases")
    again = tmp_path / "c3.csv"
    again.write_text(later.read_text(encoding="utf-8").replace("临河社区", "临河社区居委会"), encoding="utf-8")
    res = load_file(again, "cases", wh)
    assert res.outcome == "failed" and "C7" in res.message and "twice" in res.message
    assert rows(wh, "SELECT count(*) FROM case_event UNION ALL SELECT count(*) FROM cases") == before


def test_key_check_of_a_table_without_key_index():
    """person has no key index (schema v3): the loader's check after the write is the guard."""
    from etl import keys
    from warehouse import schema

    con = duckdb.connect()
    schema.create(con)
    con.execute("INSERT INTO person (person_key, sex, birth_month, residence_type, household_key, area_code) "
                "SELECT k, 'M', DATE '1980-01-01', '户籍', k, '320813001' FROM (VALUES ('a'), ('b'), ('b')) v(k)")
    con.execute("CREATE TEMP TABLE _rows AS SELECT 'a' AS person_key")
    keys.check_unique(con, "person", ("person_key",), keys.written(("person_key",)))  # 'a' once: fine
    con.execute("INSERT INTO _rows VALUES ('b')")
    with pytest.raises(duckdb.ConstraintException, match="person: key .*b.* twice"):
        keys.check_unique(con, "person", ("person_key",), keys.written(("person_key",)))
