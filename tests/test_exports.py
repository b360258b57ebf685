"""Exports for people: Chinese headers and words, rounded numbers, minutes, title rows, frozen
header and autofilter, the full result set, the suppression rule kept."""

from __future__ import annotations

import io
from datetime import datetime
from functools import partial

import openpyxl
import pandas as pd
import polars as pl
import pytest

from warehouse import caseloop, datasets
from warehouse.db import FULL
from warehouse.export_format import HEADER_ROW, present
from warehouse.files import sheet_csv, sheet_xlsx


def _cli(*args) -> int:
    import argparse

    from warehouse import export

    p = argparse.ArgumentParser()
    export.add_parser(p.add_subparsers())
    ns = p.parse_args(["export", *args])
    return ns.func(ns)


def test_cli_xlsx_case_list_has_every_row_title_rows_frozen_header_and_filter(small_db, tmp_path):
    out = tmp_path / "cases.xlsx"
    assert _cli("cases", "--db", str(small_db), "--area", "320813103", "--format", "xlsx", "--out", str(out)) == 0
    ws = openpyxl.load_workbook(out).active
    assert ws.title == "事件清单"
    assert ws["A1"].value == "事件清单"
    assert ws["A2"].value == "区域：岔河镇；期间：全部"
    assert ws["A3"].value.startswith("数据截至：2026-11-24")
    assert ws["A4"].value.startswith("来源：") and "cases" in ws["A4"].value
    header = [c.value for c in ws[HEADER_ROW + 1]]
    assert header[:4] == ["事件编号", "事件类型", "事件类别", "来源渠道"]
    assert "办理时长（小时）" in header and "上报时间" in header and "当前环节" in header
    assert ws.freeze_panes == f"A{HEADER_ROW + 2}"
    assert ws.auto_filter.ref.startswith(f"A{HEADER_ROW + 1}:")
    n = caseloop.case_count(FULL, "320813103", path=small_db)
    assert ws.max_row - (HEADER_ROW + 1) == n > 50  # every case, not one page
    first = [c for c in ws[HEADER_ROW + 2]]
    col = {h: i for i, h in enumerate(header)}
    reported = first[col["上报时间"]]
    assert isinstance(reported.value, datetime) and reported.value.second == 0 and reported.value.microsecond == 0
    assert reported.number_format == "yyyy-mm-dd hh:mm"
    assert first[col["办理时长（小时）"]].number_format == "0.0"
    statuses = {r[col["当前环节"]] for r in ws.iter_rows(min_row=HEADER_ROW + 2, values_only=True)}
    assert statuses <= {"待受理", "待派遣", "处置中", "待核查", "待评价", "已归档"}


def test_csv_funnel_in_chinese_with_percent_units_and_rounding(small_db, tmp_path):
    out = tmp_path / "funnel.csv"
    assert _cli("funnel", "--db", str(small_db), "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out)) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "事件闭环六步漏斗"
    assert lines[1] == "区域：全部；期间：2026-10-01 至 2026-10-31"
    df = pd.read_csv(out, skiprows=HEADER_ROW, encoding="utf-8-sig")
    assert list(df.columns[:4]) == ["环节", "到达数", "占上报（%）", "环节转化率（%）"]
    assert df["环节"].tolist() == ["发现上报", "统一受理", "指挥派遣", "处置反馈", "任务核查", "评价归档"]
    raw_df = datasets.get("funnel", FULL, start=pd.Timestamp("2026-10-01").date(),
                          end=pd.Timestamp("2026-10-31").date(), path=small_db)
    assert df["到达数"].tolist() == raw_df["reached"].to_list()
    # a share of 0.99637… reads 99.6 (%), not 0.9963746223564955
    assert df["占上报（%）"].tolist() == [round(v * 100, 1) for v in raw_df["share_of_reported"].to_list()]
    hours = df["滞留时长中位数（小时）"].dropna()
    assert all(round(h, 1) == h for h in hours)


def test_english_headers_and_words(small_db, tmp_path):
    out = tmp_path / "funnel_en.csv"
    assert _cli("funnel", "--db", str(small_db), "--lang", "en", "--out", str(out)) == 0
    df = pd.read_csv(out, skiprows=HEADER_ROW, encoding="utf-8-sig")
    assert list(df.columns[:3]) == ["Step", "Reached", "Of reported (%)"]
    assert df["Step"][0] == "Reported"


def test_raw_lang_keeps_the_machine_format(small_db, tmp_path, capsys):
    assert _cli("funnel", "--db", str(small_db), "--lang", "raw") == 0
    assert capsys.readouterr().out.startswith("step,reached,")
    assert _cli("funnel", "--db", str(small_db), "--format", "json") == 0  # json stays raw by default
    assert '"step"' in capsys.readouterr().out


def test_special_groups_keep_suppression_in_both_files(small_db):
    raw = datasets.get("special_groups", FULL, path=small_db)
    sheet = present(raw, "special_groups")
    back = pd.read_csv(io.BytesIO(sheet_csv(sheet)), skiprows=HEADER_ROW, encoding="utf-8-sig")
    assert "已隐藏（不足5人）" in back.columns and "社区矫正" in back.columns
    for c in ("社区矫正", "刑释解教", "严重精神障碍", "吸毒人员", "重点青少年"):
        vals = back[c].dropna()
        assert not vals.between(1, 4).any()
    # a hidden cell stays empty (not 0) and is named in the suppressed column
    hidden = raw.filter(pl.col("is_corrections").is_null())
    assert hidden.height and back["社区矫正"].isna().sum() == hidden.height
    ws = openpyxl.load_workbook(io.BytesIO(sheet_xlsx(sheet))).active
    header = [c.value for c in ws[HEADER_ROW + 1]]
    i = header.index("社区矫正")
    cells = [r[i] for r in ws.iter_rows(min_row=HEADER_ROW + 2, values_only=True)]
    assert cells.count(None) == hidden.height and not any(isinstance(v, int) and 1 <= v <= 4 for v in cells)


def test_formula_text_stays_inert_in_dressed_files():
    sheet = present(pl.DataFrame({"content": ["=cmd|' /C calc'!A0"]}), "opinion_posts")
    assert "'=cmd" in sheet_csv(sheet).decode("utf-8-sig")
    ws = openpyxl.load_workbook(io.BytesIO(sheet_xlsx(sheet))).active
    assert ws.cell(HEADER_ROW + 2, 1).value == "'=cmd|' /C calc'!A0"


def test_ui_case_list_download_is_the_full_selection(small_db):
    from ui.download import sheet

    sel = dict(area="320813", start=pd.Timestamp("2026-10-01").date(), end=pd.Timestamp("2026-11-01").date())
    full = partial(caseloop.case_list, FULL, **sel, limit=None, path=small_db)
    s = sheet(full, "cases_2026-10", "zh", filters={"区域": "洪泽区", "期间": "2026-10"})
    assert s.frame.height == caseloop.case_count(FULL, **sel, path=small_db) > 50
    assert s.lines[0] == "区域：洪泽区；期间：2026-10"
    assert s.title == "事件清单（2026-10）" and s.sheet_name == "事件清单（2026-10）"


@pytest.mark.parametrize("name", ["channels", "rates_12345", "map_values", "opinion_warnings", "staffing"])
def test_every_column_of_common_datasets_has_a_chinese_header(small_db, name):
    raw = datasets.get(name, FULL, path=small_db)
    sheet = present(raw, name)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c) or c.startswith("P90") for c in sheet.frame.columns), \
        sheet.frame.columns
    for c, dt in sheet.frame.schema.items():  # no raw 870.8974911833334
        if dt == pl.Float64:
            assert (sheet.frame[c].drop_nulls().round(2) == sheet.frame[c].drop_nulls()).all(), c
