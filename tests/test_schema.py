"""Schema contract: the table and column names other parts and outside checks rely on."""

import duckdb
import pytest

from warehouse import schema

CONTRACT = {
    "area": {"code", "name", "level", "parent_code", "geometry", "lon", "lat", "area_km2"},
    "grid_staff": {"area_code", "role", "staff_count"},
    "person": {"person_key", "sex", "birth_month", "residence_type", "household_key", "area_code",
               "is_corrections", "is_released", "is_mental", "is_drug", "is_youth", "lives_alone",
               "is_dibao", "is_disabled", "is_left_behind"},
    "cases": {"case_id", "case_type", "category", "source_channel", "area_code", "reported_at",
              "accepted_at", "dispatched_at", "handled_at", "verified_at", "closed_at", "deadline_at",
              "status", "resolved_level", "returned_count", "escalated", "satisfaction", "is_collective"},
    "case_event": {"case_id", "seq", "step", "occurred_at", "unit", "outcome", "activity", "process", "attributes"},
    "opinion_post": {"platform", "published_at", "author_hash", "content", "place_text", "area_code",
                     "sentiment", "topic", "engagement", "handling_status"},
    "ssra": {"project_name", "area_code", "submitted_at", "decided_at", "legality", "rationality",
             "feasibility", "controllability", "risk_level", "decision", "status"},
    "survey_response": {"survey_period", "area_code", "sense_of_security", "grid_satisfaction"},
    "etl_run": {"run_id", "kind", "file_name", "sha256", "rows_read", "rows_loaded", "rows_updated",
                "rows_quarantined", "outcome", "seconds"},
    "quarantine": {"file_name", "line_no", "column_name", "reason_key", "reason_zh", "raw_row"},
    "schema_version": {"version"},
    "case_type": {"case_type", "category", "deadline_hours"},
}


def test_schema_has_contract_tables_and_columns():
    con = duckdb.connect()
    schema.create(con)
    for table, cols in CONTRACT.items():
        have = {r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()}
        assert cols <= have, f"{table} lacks {cols - have}"
    assert schema.current_version(con) == schema.SCHEMA_VERSION


def test_no_clear_personal_columns():
    con = duckdb.connect()
    schema.create(con)
    cols = {r[0] for r in con.sql("DESCRIBE person").fetchall()}
    assert not cols & {"id_number", "name", "phone", "id_card"}


def test_checks_reject_bad_values():
    con = duckdb.connect()
    schema.create(con)
    try:
        con.execute("INSERT INTO area (code, name, level) VALUES ('1', 'x', 'planet')")
    except duckdb.ConstraintException:
        return
    raise AssertionError("a bad level was accepted")


def test_v2_big_tables_lose_their_keys_and_keep_their_rows(tmp_path):
    """v2 → v3: case_event and person are rebuilt without their PRIMARY KEYs, rows kept, in
    the order that clusters them."""
    path = tmp_path / "v2.duckdb"
    con = duckdb.connect(str(path))
    schema.create(con)
    con.execute("DROP TABLE case_event; DROP TABLE person")
    con.execute("CREATE TABLE case_event (case_id VARCHAR NOT NULL, seq INTEGER NOT NULL, step VARCHAR NOT NULL, "
                "occurred_at TIMESTAMP NOT NULL, unit VARCHAR, outcome VARCHAR, PRIMARY KEY (case_id, seq))")
    con.execute("INSERT INTO case_event VALUES ('E2', 1, 'report', '2026-01-02 08:00', NULL, NULL), "
                "('E1', 2, 'accept', '2026-01-01 09:00', '街道', NULL), ('E1', 1, 'report', '2026-01-01 08:00', NULL, NULL)")
    keyed_person = schema.table_statements()["person"].replace(
        "person_key        VARCHAR NOT NULL,", "person_key        VARCHAR PRIMARY KEY,")
    assert keyed_person != schema.table_statements()["person"]
    con.execute(keyed_person)
    con.execute("INSERT INTO person (person_key, sex, birth_month, residence_type, household_key, area_code) VALUES "
                "('k1', 'M', '1980-01-01', '户籍', 'h1', '320813002'), ('k2', 'F', '1990-01-01', '流动', 'h2', '320813001')")
    con.execute("DELETE FROM schema_version; INSERT INTO schema_version VALUES (2, now())")
    con.close()
    assert schema.upgrade(path) == ["person", "case_event"]
    con = duckdb.connect(str(path), read_only=True)
    assert schema.current_version(con) == schema.SCHEMA_VERSION
    assert con.sql("SELECT count(*) FROM duckdb_constraints() WHERE table_name IN ('case_event', 'person') "
                   "AND constraint_type = 'PRIMARY KEY'").fetchall() == [(0,)]
    assert con.sql("SELECT case_id, seq, step, unit, activity, process FROM case_event").fetchall() == [
        ("E1", 1, "report", None, "发现上报", "综治中心事件闭环"), ("E1", 2, "accept", "街道", "统一受理", "综治中心事件闭环"),
        ("E2", 1, "report", None, "发现上报", "综治中心事件闭环")]
    assert con.sql("SELECT person_key, area_code FROM person").fetchall() == [("k2", "320813001"), ("k1", "320813002")]
    con.close()
    assert schema.upgrade(path) == []  # already current


def test_app_upgrades_an_older_warehouse_on_first_start(small_db, tmp_path, monkeypatch):
    """The app opened on a v2 warehouse (keyed big tables) rebuilds it and shows the page."""
    import shutil

    from tests.apptest import open_page

    old = tmp_path / "v2.duckdb"
    shutil.copy(small_db, old)
    con = duckdb.connect(str(old))
    counts = {}
    for table, key in (("person", "person_key"), ("case_event", "case_id, seq")):
        counts[table] = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        keyed = schema.table_statements()[table].replace(f"CREATE TABLE {table} (", f"CREATE TABLE {table}_k (")
        keyed = keyed.rstrip().removesuffix(");").rstrip() + f",\n    PRIMARY KEY ({key})\n);"
        con.execute(keyed)
        con.execute(f"INSERT INTO {table}_k SELECT * FROM {table}; DROP TABLE {table}; "
                    f"ALTER TABLE {table}_k RENAME TO {table}")
    con.execute("DELETE FROM schema_version; INSERT INTO schema_version VALUES (2, now())")
    assert con.sql("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
                   "AND table_name IN ('person', 'case_event')").fetchall() == [(2,)]
    con.close()
    monkeypatch.setenv("WAREHOUSE_DB", str(old))
    assert schema.needs_upgrade(old)
    at = open_page("home", area="320813", grain="month", period="2026-10")
    assert not at.exception
    assert not schema.needs_upgrade(old)
    con = duckdb.connect(str(old), read_only=True)
    assert con.sql("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
                   "AND table_name IN ('person', 'case_event')").fetchall() == [(0,)]
    assert {t: con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in counts} == counts
    con.close()


def test_a_cli_command_upgrades_an_older_warehouse_first(small_db, tmp_path, capsys):
    """`python -m warehouse export` on a v4 file (case_event without activity/process) used to
    fail on the missing column until the app had been opened once."""
    import shutil

    from warehouse.__main__ import main

    old = tmp_path / "v4.duckdb"
    shutil.copy(small_db, old)
    con = duckdb.connect(str(old))
    con.execute("ALTER TABLE case_event DROP COLUMN activity; ALTER TABLE case_event DROP COLUMN process")
    con.execute("DELETE FROM schema_version; INSERT INTO schema_version VALUES (4, now())")
    con.close()
    assert schema.needs_upgrade(old)
    assert main(["export", "variants", "--level", "activity", "--db", str(old), "--format", "json",
                 "--lang", "raw"]) == 0
    assert "发现上报" in capsys.readouterr().out
    assert not schema.needs_upgrade(old)


def test_v5_gains_the_v6_registers_in_place(tmp_path):
    """v5 → v6: new columns on person, survey_response and cases, filled NULL for old rows; the
    grid_staff role CHECK widened for village and town-centre staffing; rows and keys kept."""
    path = tmp_path / "v5.duckdb"
    con = duckdb.connect(str(path))
    schema.create(con)
    for table, cols in (("person", ("is_linked", "is_helped")), ("cases", ("sweep_type", "mediation_kind")),
                        ("survey_response", ("security_satisfaction", "aware", "participated"))):
        for c in cols:
            con.execute(f"ALTER TABLE {table} DROP COLUMN {c}")
    old_staff = schema.table_statements()["grid_staff"].replace(
        ",\n                                                  'political_officer', 'community_police', "
        "'security_guard',\n                                                  'social_worker', 'centre_staff'", "")
    assert "political_officer" not in old_staff
    con.execute(f"DROP TABLE grid_staff; {old_staff}")
    con.execute("INSERT INTO grid_staff VALUES ('320813001001', 'mediator', 2, '2026-11-01')")
    con.execute("INSERT INTO cases (case_id, case_type, category, source_channel, area_code, reported_at, "
                "deadline_at, status) VALUES ('E1', '邻里纠纷', '矛盾纠纷', '12345', '320813001001001', "
                "'2026-10-01', '2026-10-05', 'reported')")
    con.execute("DELETE FROM schema_version; INSERT INTO schema_version VALUES (5, now())")
    con.close()
    assert set(schema.upgrade(path)) == {"person", "cases", "survey_response", "grid_staff"}
    con = duckdb.connect(str(path))
    assert con.sql("SELECT case_id, sweep_type, mediation_kind FROM cases").fetchall() == [("E1", None, None)]
    con.execute("INSERT INTO grid_staff VALUES ('320813001001', 'political_officer', 1, '2026-11-01')")
    assert con.sql("SELECT count(*) FROM grid_staff").fetchall() == [(2,)]
    with pytest.raises(duckdb.ConstraintException):  # the key is kept
        con.execute("INSERT INTO grid_staff VALUES ('320813001001', 'mediator', 3, '2026-11-01')")
    con.close()
    assert schema.upgrade(path) == []
