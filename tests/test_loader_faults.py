"""Loader faults of issue #18 that the bad-input corpus (tests/data/bad) cannot hold as a file:
sizes too big to commit, a full disk, a killed writer, a load order. Each ends in exit 2 with a
JSON summary and a load record and leaves no temp file, or loads what it should."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import uuid
import zipfile
from pathlib import Path

import duckdb
import pytest

from etl.__main__ import main as etl_main
from etl.load import load_file
from tests.data.make_bad_corpus import G1, G2, c_row, cases, p_row, persons
from tests.data.make_hostile_corpus import sheet_with_far_cell
from warehouse import db

ROOT = Path(__file__).resolve().parent.parent




def temps(folder: Path) -> list[str]:
    return sorted(f.name for f in folder.iterdir() if f.name.endswith((".tmp", ".tmp.wal")))


def runs(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql("SELECT file_name, outcome, message FROM etl_run WHERE kind <> 'demo' "
                       "ORDER BY started_at").fetchall()
    finally:
        con.close()


def cli_json(capsys, *argv) -> tuple[int, dict]:
    code = etl_main(["load", "--json", *argv])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1])


def test_ten_megabyte_line_exits_2_with_json_and_a_record(wh, tmp_path, capsys):
    f = tmp_path / "one_line.csv"
    f.write_bytes(b"a," * 5_000_000)  # 10 MB, no line break: csv.Error in the sniffer before
    code, summary = cli_json(capsys, "--kind", "persons", "--db", str(wh), str(f))
    assert code == 2 and summary["outcome"] == "failed"
    assert "no line break" in summary["message"]
    assert runs(wh)[-1][:2] == ("one_line.csv", "failed")
    assert temps(tmp_path) == []


def test_very_wide_header_is_refused_clearly(wh, tmp_path):
    f = tmp_path / "wide.csv"
    f.write_text(",".join(f"c{i}" for i in range(60_000)) + "\n1,2\n", encoding="utf-8")  # 400 KB header
    res = load_file(f, "persons", wh)
    assert res.exit_code == 2 and "no line break in the first 200 KB" in res.message
    f.write_text(",".join(f"c{i}" for i in range(20_000)) + "\n1,2\n", encoding="utf-8")  # 130 KB header
    res = load_file(f, "persons", wh)
    assert res.exit_code == 2 and "header (line 1) is longer than 64 K" in res.message


def test_far_cell_workbook_is_refused_fast_and_small(wh, tmp_path):
    """The 6 KB workbook with one cell at XFD1048576 (before: > 6 GiB, 77 s). Also without its
    <dimension> tag, where only the streamed row count can stop it."""
    staff = [["网格编码", "岗位", "人数", "统计日期"], [G1, "网格员", 1, "2025-06-30"]]
    bomb = sheet_with_far_cell(staff)
    assert len(bomb) < 7_000
    plain = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bomb)) as src, zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                body = re.sub(rb"<dimension[^>]*/>", b"", body)
            out.writestr(info.filename, body)
    import openpyxl  # noqa: F401  (imported before memory is traced)

    for name, data, error in (("bomb.xlsx", bomb, "16384 columns"),
                              ("bomb_no_dimension.xlsx", plain.getvalue(), "row 1048576 makes the sheet at least 16384")):
        f = tmp_path / name
        f.write_bytes(data)
        tracemalloc.start()
        t0 = time.perf_counter()
        res = load_file(f, "grid_staff", wh)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert res.exit_code == 2 and error in res.message, res.message
        assert peak < 100 * 2**20, f"{name}: {peak / 2**20:.0f} MB"
        assert seconds < 60, f"{name}: {seconds:.1f} s"  # a hang guard, not a timing (seconds when quiet)
    assert [r[1] for r in runs(wh)] == ["failed", "failed"]
    assert temps(tmp_path) == []


def test_extra_unquoted_comma_quarantines_the_row_with_its_line(wh, tmp_path):
    f = tmp_path / "cases.csv"
    f.write_text(cases([c_row("C1"), c_row("C2", desc="吵架,已调解"), c_row("C3")]), encoding="utf-8")
    res = load_file(f, "cases", wh)
    assert (res.exit_code, res.rows_read, res.loaded, res.quarantined) == (1, 3, 2, {"too_many_fields": 1})
    con = duckdb.connect(str(wh), read_only=True)
    try:
        q = con.sql("SELECT line_no, reason_key, reason_zh FROM quarantine").fetchall()
        loaded = con.sql("SELECT case_id FROM cases WHERE case_id LIKE 'C%' ORDER BY 1").fetchall()
    finally:
        con.close()
    assert q == [(3, "too_many_fields", q[0][2])] and "未加引号的逗号" in q[0][2]
    assert loaded == [("C1",), ("C3",)]  # C2 is not loaded with its fields shifted


def test_duplicate_header_is_refused_with_the_columns(wh, tmp_path):
    f = tmp_path / "dup.csv"
    head = ["公民身份号码", "姓名", "联系电话", "性别", "人口类型", "户编号", "网格编码", "社区矫正对象", "网格编码"]
    f.write_text(persons([p_row(1) + [G2]], head=head), encoding="utf-8")
    res = load_file(f, "persons", wh)
    assert res.exit_code == 2
    assert "duplicate header '网格编码' in columns 7, 9" in res.message and "area_code" in res.message


def test_nul_byte_deep_in_the_file_is_refused_with_its_line(wh, tmp_path):
    f = tmp_path / "nul.csv"
    body = persons([p_row(i) for i in range(1, 300)])
    at = body.index("\n", 5_000) + 5  # past the first 4 KB (UTF-8: 3 bytes a character)
    f.write_text(body[:at] + "\x00" + body[at:], encoding="utf-8")
    res = load_file(f, "persons", wh)
    assert res.exit_code == 2
    assert f"NUL byte at line {body[:at].count(chr(10)) + 1}" in res.message


def quarantined(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql("SELECT file_name, line_no, reason_key FROM quarantine ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_a_file_loaded_before_its_areas_loads_again_after_them(wh, tmp_path):
    """cases before their grid's area: that row is quarantined as unknown_area. Loading the same
    file after the area must load it (before: 'skipped: already loaded' forever); once fully
    ok, a repeat is skipped. The same file's bad rows are not piled up by repeats."""
    g3 = "320813001001003"
    case_file = tmp_path / "cases.csv"
    case_file.write_text(cases([c_row("C1"), c_row("C2", grid=g3)]), encoding="utf-8")
    first = load_file(case_file, "cases", wh)
    assert (first.outcome, first.loaded, first.quarantined) == ("partial", 1, {"unknown_area": 1})
    again = load_file(case_file, "cases", wh)  # still no such grid: judged again, same result
    assert (again.outcome, again.updated, again.quarantined) == ("partial", 1, {"unknown_area": 1})
    assert quarantined(wh) == [("cases.csv", 3, "unknown_area")]
    areas = tmp_path / "areas.csv"
    areas.write_text(f"区划代码,区划名称,层级,上级代码\n{g3},第三网格,grid,320813001001\n", encoding="utf-8")
    assert load_file(areas, "areas", wh).outcome == "ok"
    third = load_file(case_file, "cases", wh)
    assert (third.outcome, third.loaded, third.updated) == ("ok", 1, 1)
    assert quarantined(wh) == []  # the file's bad row is loaded now
    assert load_file(case_file, "cases", wh).outcome == "skipped"


def test_bad_rows_of_their_own_still_make_a_repeat_a_skip(wh, tmp_path):
    """A partial load whose bad rows are bad in themselves (a date) is as complete as it gets."""
    f = tmp_path / "cases.csv"
    f.write_text(cases([c_row("C1"), c_row("C2", rep="三月五日")]), encoding="utf-8")
    assert load_file(f, "cases", wh).outcome == "partial"
    assert load_file(f, "cases", wh).outcome == "skipped"


# ---------------------------------------------------------------- temp files and a full disk

HOLD = """
import sys, time
from warehouse import db
with db.writing(sys.argv[1]) as con:
    print("holding", flush=True)
    time.sleep(120)
"""


def _writer(path: Path) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "holding"
    return p


def test_killed_writer_temp_is_swept_and_a_live_one_kept(wh, tmp_path):
    killed = _writer(wh)
    os.kill(killed.pid, signal.SIGKILL)  # kill -9: no cleanup runs
    killed.wait()
    left = temps(tmp_path)
    assert left and all(f".{killed.pid}." in n for n in left)
    alive = _writer(wh)  # the next writer sweeps the dead one's copy first …
    try:
        held = temps(tmp_path)
        assert held and not set(held) & set(left)
        assert db.sweep_stale(wh) == [] and temps(tmp_path) == held  # … and nobody sweeps a live one
    finally:
        alive.kill()
        alive.wait()
    f = tmp_path / "cases.csv"
    f.write_text(cases([c_row("C1")]), encoding="utf-8")
    assert load_file(f, "cases", wh).outcome == "ok"  # a load sweeps the second one
    assert temps(tmp_path) == []


@contextlib.contextmanager
def small_disk(size_bytes: int):
    """A tmpfs of this size (root only); skipped where mounting is not allowed."""
    mnt = Path(f"/tmp/j18-full-{uuid.uuid4().hex[:8]}")
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(mnt)],
                          capture_output=True)
    if done.returncode:
        mnt.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
        mnt.rmdir()


def test_disk_full_while_copying_exits_2_with_json_and_leaves_nothing(template, tmp_path, capsys):
    size = template.stat().st_size
    with small_disk(size + size // 2) as disk:  # room for the warehouse, not for its copy
        wh = disk / "wh.duckdb"
        shutil.copy(template, wh)
        f = tmp_path / "cases.csv"
        f.write_text(cases([c_row("C1")]), encoding="utf-8")
        code, summary = cli_json(capsys, "--kind", "cases", "--db", str(wh), str(f))
        assert code == 2 and summary["outcome"] == "failed"
        assert "disk full" in summary["message"] and "nothing was loaded" in summary["message"]
        assert temps(disk) == []
        assert runs(wh) == []  # no room to record it in the warehouse: it waits in the journal …
        journal = disk / "wh.duckdb.failed_runs.jsonl"
        assert json.loads(journal.read_text(encoding="utf-8"))["outcome"] == "failed"
        subprocess.run(["mount", "-o", f"remount,size={3 * size}", str(disk)], check=True)
        assert load_file(f, "cases", wh).outcome == "ok"
        assert [r[:2] for r in runs(wh)] == [("cases.csv", "failed"), ("cases.csv", "ok")]  # … until the next load
        assert not journal.exists()
