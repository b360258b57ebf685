"""Schema contract: the table and column names other parts and outside checks rely on."""

import duckdb

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
    "case_event": {"case_id", "seq", "step", "occurred_at", "unit", "outcome"},
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
