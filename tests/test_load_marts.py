"""A load refreshes only the marts that read what it wrote (declared dependencies), and the
refreshed marts equal a full rebuild."""

from __future__ import annotations

import shutil

import duckdb

from etl.load import CHANGES, load_file
from tests.load_fixture import G1
from warehouse import marts, schema


def test_declared_dependencies_name_tables_or_earlier_marts():
    known = set(schema.TABLES)
    for f in marts.mart_files():
        sql = f.read_text(encoding="utf-8")
        deps = marts.depends_on(sql) or set()
        assert deps <= known, (f.name, deps - known)
        known |= set(marts.CREATES.findall(sql))
    flow, transition = (marts.depends_on((marts.MARTS_DIR / f"20_case_{n}.sql").read_text(encoding="utf-8"))
                        for n in ("flow", "transition"))
    assert flow == {"cases", "case_event", "process_deadline"} and transition == {"case_event", "mart_case_flow"}


def test_depends_on_header():
    assert marts.depends_on("-- one row per x\n-- depends on: cases, case_event\nCREATE ...") == {
        "cases", "case_event"}
    assert marts.depends_on("-- one row per x\nCREATE OR REPLACE TABLE mart_x AS SELECT 1") is None


def test_only_marts_reading_changed_tables_are_rebuilt(template, tmp_path, monkeypatch):
    monkeypatch.setattr(marts, "PYTHON_MARTS", ())  # the SQL marts alone: their dependencies are declared
    wh = tmp_path / "wh.duckdb"
    shutil.copy(template, wh)
    con = duckdb.connect(str(wh))
    try:
        case_marts = {"20_case_flow", "20_case_transition"}
        assert not case_marts & set(marts.rebuild(con, changed={"person"}))
        assert not case_marts & set(marts.rebuild(con, changed={"ssra"}))
        # a cases change reaches the transition mart through mart_case_flow
        assert case_marts <= set(marts.rebuild(con, changed={"cases"}))
        assert case_marts <= set(marts.rebuild(con, changed={"case_event"}))
        assert set(marts.rebuild(con)) == {f.stem for f in marts.mart_files()}
    finally:
        con.close()


def test_undeclared_python_mart_is_always_rebuilt(template, tmp_path, monkeypatch):
    calls = []

    def build(con):
        calls.append(1)
        return ["mart_probe"]

    def declared(con):
        calls.append(2)
        return ["mart_declared"]
    declared.depends_on = ("cases",)

    import sys
    import types
    probe = types.ModuleType("probe_marts")
    probe.build, probe.declared = build, declared
    monkeypatch.setitem(sys.modules, "probe_marts", probe)
    monkeypatch.setattr(marts, "PYTHON_MARTS", ("probe_marts:build", "probe_marts:declared"))
    wh = tmp_path / "wh.duckdb"
    shutil.copy(template, wh)
    con = duckdb.connect(str(wh))
    try:
        assert marts.rebuild(con, changed={"ssra"}) == ["mart_probe"]
        assert marts.rebuild(con, changed={"cases"})[-2:] == ["mart_probe", "mart_declared"]
    finally:
        con.close()
    assert calls == [1, 1, 2]


def test_cases_load_refreshes_case_marts_and_persons_load_does_not(template, tmp_path, monkeypatch):
    assert {"cases", "case_event", "case_type"} <= CHANGES["cases"] and CHANGES["persons"] == {"person"}
    monkeypatch.setattr(marts, "PYTHON_MARTS", ())
    wh = tmp_path / "wh.duckdb"
    shutil.copy(template, wh)
    f = tmp_path / "cases.csv"
    f.write_text("事件编号,事件类型,来源渠道,网格编码,上报时间,受理时间\n"
                 f"C7,邻里纠纷,网格员巡查,{G1},2025-03-05 08:00,2025-03-05 09:00\n", encoding="utf-8")
    assert load_file(f, "cases", wh).exit_code == 0
    con = duckdb.connect(str(wh))
    try:
        flow = con.sql("SELECT variant, n_events FROM mart_case_flow WHERE case_id = 'C7'").fetchall()
        pairs = con.sql("SELECT from_step, to_step FROM mart_case_transition WHERE case_id = 'C7'").fetchall()
    finally:
        con.close()
    assert flow == [("report>accept", 2)] and pairs == [("report", "accept")]
