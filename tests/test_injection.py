"""Issue #18: no formula reaches a spreadsheet, no data value renders as Markdown, no
traceback reaches a page."""

from __future__ import annotations

import io
import shutil
import tomllib
from contextlib import redirect_stdout
from pathlib import Path

import polars as pl

from etl.load import load_file
from tests.apptest import open_page
from tests.load_fixture import load_fixture
from warehouse.files import inert, inert_text, sheet_csv, to_csv

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"
FORMULAS = ("=", "+", "-", "@", "\t", "\r")


def _cells(csv_text: str) -> list[str]:
    import csv

    return [c for row in csv.reader(io.StringIO(csv_text)) for c in row]


def test_inert_covers_headers_lists_and_categoricals():
    df = pl.DataFrame({"=HYPERLINK(\"http://x\")": ["a"], "tags": [["@x", "ok"]],
                       "cat": pl.Series(["+1"], dtype=pl.Categorical), "n": [-1]})
    out = inert(df)
    assert out.columns[0].startswith("'=")
    assert out["tags"][0] == "'@x; ok" and out["cat"][0] == "'+1" and out["n"][0] == -1
    assert inert_text("-cmd") == "'-cmd" and inert_text("正常") == "正常"


def test_every_cli_csv_of_a_formula_file_is_inert(tmp_path):
    """`python -m warehouse export cases … --format csv`, raw and presented: no cell a
    spreadsheet would run."""
    import duckdb

    from warehouse.__main__ import main

    wh = load_fixture(tmp_path / "wh.duckdb")
    shutil.copy(BAD / "cases_formula_injection.csv", tmp_path / "f.csv")
    assert load_file(tmp_path / "f.csv", "cases", wh).exit_code in (0, 1)
    con = duckdb.connect(str(wh))  # a hostile area name travels into every case row
    con.execute("UPDATE area SET name = '=cmd|'' /C calc''!A0' WHERE code = '320813001'")
    con.close()
    for lang in ("raw", "zh"):
        buf = io.BytesIO()

        class Out(io.StringIO):
            buffer = buf

        out = Out()
        with redirect_stdout(out):
            assert main(["export", "cases", "--db", str(wh), "--format", "csv", "--lang", lang,
                         "--from", "2025-03-01", "--to", "2025-03-31"]) == 0
        text = out.getvalue() + buf.getvalue().decode("utf-8-sig")
        cells = _cells(text)
        assert any("cmd|" in c for c in cells)  # the value is there …
        assert not [c for c in cells if c.startswith(FORMULAS)], lang  # … and inert


def test_presented_csv_title_lines_are_inert():
    class Sheet:
        frame = pl.DataFrame({"a": ["=1+1"]})
        title = "=cmd|' /C calc'!A0"
        lines = ["@SUM(1)"]
        formats: dict = {}
        sheet_name = "x"

    text = sheet_csv(Sheet()).decode("utf-8-sig")
    assert not [c for c in _cells(text) if c.startswith(FORMULAS)]
    assert not [c for c in _cells(to_csv(Sheet.frame).decode("utf-8-sig")) if c.startswith(FORMULAS)]


def test_streamlit_table_download_is_off_and_errors_show_no_traceback():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["client"]["disableDataExport"] is True
    assert cfg["client"]["showErrorDetails"] == "none"


def test_page_error_shows_an_id_not_a_traceback():
    from streamlit.testing.v1 import AppTest

    def page():
        from ui.errors import shown_as_id

        with shown_as_id():
            raise RuntimeError("/srv/secret/path.py exploded")

    at = AppTest.from_function(page).run()
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert "编号" in text or "id" in text
    assert "/srv/secret" not in text and "Traceback" not in text


def test_bad_dates_in_the_url_show_no_traceback(small_db):
    at = open_page("cases", **{"grain": "custom", "from": "2026-13-45", "to": "../../etc/passwd"})
    assert not at.exception
    assert not [e for e in at.error if "Traceback" in e.value or ".py" in e.value]


def test_md_escapes_links_images_and_directives():
    from ui.mdtext import md

    out = md("![b](http://host/beacon.png) [点此重新登录](http://x) :red[x] <img src=x>")
    assert "](" not in out.replace("\\](", "").replace("\\]\\(", "")
    assert "\\!\\[b\\]\\(http\\:" in out and "\\<img" in out


def test_case_url_renders_as_text(small_db):
    at = open_page("cases", case="[点此重新登录](http://evil.example/login)")
    assert not at.exception
    shown = [e.value for e in [*at.warning, *at.title, *at.markdown, *at.caption]]
    assert any("点此重新登录" in v for v in shown)
    assert not [v for v in shown if "](http" in v]  # no live link: the brackets are escaped
