"""Every file of the bad-input corpus gives the outcome its manifest states, and loses nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from etl.load import load_file

BAD = Path(__file__).parent / "data" / "bad"
MANIFEST = [*yaml.safe_load((BAD / "manifest.yaml").read_text(encoding="utf-8")),
            *yaml.safe_load((BAD / "manifest_hostile.yaml").read_text(encoding="utf-8"))]
DATA_TABLES = ["area", "grid_staff", "person", "case_type", "cases", "case_event", "opinion_post", "ssra",
               "survey_response"]



def counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in DATA_TABLES}
    finally:
        con.close()


def _tables_holding(path: Path, text: str) -> list[str]:
    """Tables (and the quarantine as the data page and `export quarantine` show it) holding text."""
    from warehouse import admin
    from warehouse.db import FULL

    con = duckdb.connect(str(path), read_only=True)
    try:
        found = []
        for table, column in con.sql("SELECT table_name, column_name FROM duckdb_columns() "
                                     "WHERE data_type = 'VARCHAR' AND NOT internal").fetchall():
            if con.sql(f'SELECT count(*) FROM "{table}" WHERE contains("{column}", ?)', params=[text]).fetchall()[0][0]:
                found.append(f"{table}.{column}")
    finally:
        con.close()
    rows = admin.quarantine_rows(FULL, path=path)
    shown = admin.raw_rows_table(rows)
    if any(text in str(v) for col in shown.columns for v in shown[col].to_list()) or \
            any(text in c for c in shown.columns):
        found.append("data page quarantine table")
    return found


def test_corpus_has_at_least_20_files():
    assert len(MANIFEST) >= 20
    assert all((BAD / e["file"]).exists() for e in MANIFEST)


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_corpus_file(entry, template, tmp_path):
    wh = tmp_path / "wh.duckdb"
    shutil.copy(template, wh)
    before = counts(wh)
    res = load_file(BAD / entry["file"], entry["kind"], wh)
    exp = entry["expect"]
    assert res.exit_code == exp["exit"], res.message
    for text in exp.get("clear_absent", []):  # personal data stored nowhere in clear
        assert not _tables_holding(wh, text), text
    assert not [f.name for f in tmp_path.iterdir() if f.name.startswith(".wh.duckdb.")]  # no temp left
    if exp["exit"] == 2:
        assert counts(wh) == before  # nothing loaded
        if "error" in exp:
            assert exp["error"] in res.message
        con = duckdb.connect(str(wh), read_only=True)
        try:  # … and the refusal is on record
            assert con.sql("SELECT outcome, message FROM etl_run WHERE run_id = ?",
                           params=[res.run_id]).fetchall() == [("failed", res.message)]
        finally:
            con.close()
        return
    assert res.rows_read == exp["rows_read"]
    assert res.loaded + res.updated == exp["loaded"]
    assert res.quarantined == exp["quarantined"]
    assert res.rows_read == res.loaded + res.updated + res.quarantined_total  # counts reconcile
    if "profile" in exp:
        assert res.profile == exp["profile"]
    con = duckdb.connect(str(wh), read_only=True)
    try:
        q = con.sql("SELECT line_no, column_name, reason_key, reason_zh, raw_row FROM quarantine").pl()
        run = con.sql("SELECT rows_read, rows_loaded, rows_updated, rows_quarantined, outcome, sha256 "
                      "FROM etl_run WHERE run_id = ?", params=[res.run_id]).fetchall()[0]
        described = con.sql("SELECT description FROM cases ORDER BY case_id").pl() if exp.get("formula") else None
    finally:
        con.close()
    assert q.height == res.quarantined_total
    for row in q.iter_rows(named=True):
        assert row["line_no"] >= 2 and row["reason_zh"] and row["column_name"]
        assert isinstance(json.loads(row["raw_row"]), dict) and json.loads(row["raw_row"])
    assert run == (res.rows_read, res.loaded, res.updated, res.quarantined_total,
                   "ok" if exp["exit"] == 0 else "partial", res.sha256)
    if described is not None:
        from ui.download import inert

        texts = described["description"].to_list()
        assert "=cmd|' /C calc'!A0" in texts  # stored exactly as given …
        safe = inert(described)["description"].to_list()
        assert all(not s.startswith(("=", "@", "+", "-")) for s in safe if s)  # … and inert on export


def test_quarantine_keeps_line_and_raw_row(template, tmp_path):
    wh = tmp_path / "wh.duckdb"
    shutil.copy(template, wh)
    res = load_file(BAD / "persons_bad_check_digit.csv", "persons", wh)
    con = duckdb.connect(str(wh), read_only=True)
    row = con.sql("SELECT file_name, line_no, column_name, reason_key, raw_row FROM quarantine").fetchall()
    con.close()
    assert res.exit_code == 1
    (file_name, line, column, reason, raw), = row
    assert (file_name, line, column, reason) == ("persons_bad_check_digit.csv", 3, "id_number", "id_check_digit")
    raw = json.loads(raw)  # the raw row as read, so a clerk can find and fix it …
    assert raw["网格编码"] == "320813001001001" and raw["人口类型"] == "户籍"
    assert raw["姓名"] == "张*2" and raw["联系电话"] == "138****0002"  # … with personal data masked
    assert raw["公民身份号码"].startswith("320813********") and len(raw["公民身份号码"]) == 18


def test_missing_columns_message_names_missing_and_found(template, tmp_path):
    wh = tmp_path / "wh.duckdb"
    shutil.copy(template, wh)
    res = load_file(BAD / "persons_missing_id_column.csv", "persons", wh)
    assert res.exit_code == 2
    assert "id_number" in res.message and "公民身份号码" in res.message  # what is missing
    assert "姓名" in res.message and "网格编码" in res.message            # what was found


def test_dates_in_chinese_formats_are_read(template, tmp_path):
    wh = tmp_path / "wh.duckdb"
    shutil.copy(template, wh)
    load_file(BAD / "cases_chinese_dates.csv", "cases", wh)
    con = duckdb.connect(str(wh), read_only=True)
    got = con.sql("SELECT case_id, reported_at, accepted_at, closed_at FROM cases WHERE case_id LIKE 'C%' "
                  "ORDER BY case_id").pl()
    con.close()
    from datetime import datetime as dt
    assert got.row(0) == ("C1", dt(2025, 3, 5), dt(2025, 3, 5, 9, 30), dt(2025, 3, 6, 8, 5))
    assert got.row(1) == ("C2", dt(2025, 3, 5, 12), dt(2025, 3, 5, 18), dt(2025, 3, 7, 10))  # Excel 45721.5
    assert got.row(2)[:3] == ("C3", dt(2025, 3, 5, 8, 5), dt(2025, 3, 6))


def test_merged_cells_are_filled(template, tmp_path):
    wh = tmp_path / "wh.duckdb"
    shutil.copy(template, wh)
    load_file(BAD / "persons_merged_cells.xlsx", "persons", wh)
    con = duckdb.connect(str(wh), read_only=True)
    grids = con.sql("SELECT DISTINCT area_code FROM person").pl()["area_code"].to_list()
    con.close()
    assert grids == ["320813001001001"]


def test_formula_cell_survives_xlsx_export_inert():
    from ui.download import inert, to_xlsx

    df = pl.DataFrame({"description": ["=cmd|' /C calc'!A0", "ok"]})
    assert inert(df)["description"][0] == "'=cmd|' /C calc'!A0"
    assert to_xlsx(df)[:2] == b"PK"
