"""Write the bad-input corpus tests/data/bad/ (synthetic data only) and its manifest.

Run `python tests/data/make_bad_corpus.py` after changing it; the outputs are committed.
Every file is loaded by tests/test_load_corpus.py into the fixture warehouse of
tests/load_fixture.py (county 320813, town 320813001, village 320813001001, grids …001/…002,
case E1) and must give the outcome its manifest entry states.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from etl.identity import check_digit  # noqa: E402

OUT = Path(__file__).with_name("bad")
G1, G2 = "320813001001001", "320813001001002"


def idn(seq: int, birth: str = "19800101") -> str:
    f = f"320813{birth}{seq:03d}"
    return f + check_digit(f)


def bad_check(seq: int) -> str:
    good = idn(seq)
    return good[:17] + ("0" if good[17] != "0" else "1")


P_HEAD = ["公民身份号码", "姓名", "联系电话", "性别", "人口类型", "户编号", "网格编码", "社区矫正对象"]


def persons(rows: list[list[str]], head=P_HEAD, sep=",") -> str:
    return "\n".join(sep.join(r) for r in [head, *rows]) + "\n"


def p_row(i: int, grid=G1, id_number=None) -> list[str]:
    return [id_number or idn(i), f"张某{i}", f"1380000{i:04d}", "男" if i % 2 else "女", "户籍", f"H{i}", grid, "否"]


GOOD_P = persons([p_row(i) for i in range(1, 4)])
C_HEAD = ["事件编号", "事件类型", "事件大类", "来源渠道", "网格编码", "事件描述", "上报人", "上报时间", "受理时间", "办结时间"]


def cases(rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [C_HEAD, *rows]) + "\n"


def c_row(cid: str, rep="2025-03-05 08:05", acc="2025-03-05 09:00", close="2025-03-06 10:00",
          desc="邻里因噪声发生口角", grid=G1) -> list[str]:
    return [cid, "邻里纠纷", "矛盾纠纷", "网格员巡查", grid, desc, "李某华", rep, acc, close]


def xlsx(rows: list[list], merges=(), title: str | None = None) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("台账")
    r0 = 0
    if title:
        ws.merge_range(0, 0, 0, len(rows[0]) - 1, title)
        ws.write_row(1, 0, ["填报单位：洪泽区综治中心", None, "填报日期：2025-06-30"])
        r0 = 2
    for i, row in enumerate(rows):
        ws.write_row(r0 + i, 0, row)
    for (a, b, c, d) in merges:
        ws.merge_range(r0 + a, b, r0 + c, d, rows[a][b])
    wb.close()
    return buf.getvalue()


def corpus() -> list[dict]:
    """(file, kind, bytes, expected) – expected: exit code, rows read/loaded, quarantine by reason."""
    out = []

    def add(name, kind, data, exit_code, read=None, loaded=None, quarantined=None, what="", **extra):
        out.append({"file": name, "kind": kind, "data": data.encode("utf-8") if isinstance(data, str) else data,
                    "expect": {"exit": exit_code, "rows_read": read, "loaded": loaded,
                               "quarantined": quarantined or {}, **extra}, "what": what})

    add("persons_utf8.csv", "persons", GOOD_P, 0, 3, 3, what="clean UTF-8 baseline")
    add("persons_utf8_bom.csv", "persons", b"\xef\xbb\xbf" + GOOD_P.encode(), 0, 3, 3, what="UTF-8 with BOM (Excel)")
    add("persons_gbk.csv", "persons", GOOD_P.encode("gbk"), 0, 3, 3, what="GBK headers and body")
    add("persons_gb18030_bom.csv", "persons", b"\x84\x31\x95\x33" + GOOD_P.encode("gb18030"), 0, 3, 3,
        what="GB18030 with its BOM")
    add("persons_utf8bom_gbk_body.csv", "persons", b"\xef\xbb\xbf" + GOOD_P.encode("gbk"), 0, 3, 3,
        what="UTF-8 BOM followed by a GBK body")
    add("persons_utf16.csv", "persons", GOOD_P.encode("utf-16"), 2, what="wrong encoding (UTF-16)")
    add("persons_missing_id_column.csv", "persons",
        persons([r[1:] for r in [p_row(1)]], head=P_HEAD[1:]), 2,
        what="required column 公民身份号码 missing", error="公民身份号码")
    add("persons_extra_columns.csv", "persons",
        persons([p_row(1) + ["备注一", "x"]], head=P_HEAD + ["备注", "民族"]), 0, 1, 1,
        what="extra columns are ignored")
    add("empty.csv", "persons", b"", 2, what="empty file")
    add("persons_header_only.csv", "persons", persons([]), 0, 0, 0, what="header only: nothing to load")
    add("persons_truncated_last_line.csv", "persons", GOOD_P + ",".join(p_row(4)[:3]) + "\n", 1, 4, 3,
        {"missing_value": 1}, what="last line cut off mid-row")
    add("persons_bad_check_digit.csv", "persons", persons([p_row(1), p_row(2, id_number=bad_check(2))]), 1, 2, 1,
        {"id_check_digit": 1}, what="ID number with a wrong GB 11643 check digit")
    add("persons_bad_id_format.csv", "persons", persons([p_row(1), p_row(2, id_number="3208131980")]), 1, 2, 1,
        {"id_format": 1}, what="ID number too short")
    add("persons_unknown_grid.csv", "persons", persons([p_row(1), p_row(2, grid="320813001001099")]), 1, 2, 1,
        {"unknown_area": 1}, what="grid code not in area")
    add("persons_duplicate_ids.csv", "persons", persons([p_row(1), p_row(2), p_row(1)]), 1, 3, 2,
        {"duplicate_key": 1}, what="same ID number twice in the file")
    add("persons_merged_cells.xlsx", "persons",
        xlsx([P_HEAD, p_row(1), p_row(2), p_row(3)], merges=[(1, 6, 3, 6)]), 0, 3, 3,
        what="grid code merged down three rows")
    add("cases_chinese_dates.csv", "cases", cases([
        c_row("C1", rep="2025年3月5日", acc="2025年3月5日 9时30分", close="2025/3/6 8:05"),
        c_row("C2", rep="45721.5", acc="45721.75", close="2025-03-07T10:00:00"),
        c_row("C3", rep="2025.3.5 08:05", acc="20250306", close="")]), 0, 3, 3,
        what="2025年3月5日, 2025/3/6 8:05, Excel serial dates, 20250306")
    add("cases_bad_dates.csv", "cases", cases([c_row("C1"), c_row("C2", rep="三月五日"),
                                               c_row("C3", acc="2025-13-45")]), 1, 3, 1, {"bad_date": 2},
        what="dates that cannot be read")
    add("cases_future_dates.csv", "cases", cases([c_row("C1"), c_row("C2", rep="2099-01-01 08:00",
                                                                       acc="2099-01-01 09:00", close="")]),
        1, 2, 1, {"future_date": 1}, what="reported in 2099")
    add("cases_steps_out_of_order.csv", "cases", cases([c_row("C1"), c_row("C2", acc="2025-03-04 08:00")]),
        1, 2, 1, {"steps_out_of_order": 1}, what="accepted before reported")
    add("cases_duplicate_keys.csv", "cases", cases([c_row("C1"), c_row("C2"), c_row("C2")]), 1, 3, 2,
        {"duplicate_key": 1}, what="same case number twice")
    add("cases_formula_injection.csv", "cases",
        cases([c_row("C1", desc="\"=cmd|' /C calc'!A0\""), c_row("C2", desc="@SUM(1+1)")]), 0, 2, 2,
        what="formula text loads as text and stays inert on export", formula=True)
    add("cases_12345_semicolon.csv", "cases",
        "工单编号;诉求类型;诉求大类;网格编码;诉求内容;来电人;来电号码;来电时间;受理时间;办结时间;满意度\n"
        f"H1;邻里纠纷;矛盾纠纷;{G2};楼上漏水;王某;13900001111;2025-05-01 10:00;2025-05-01 10:20;2025-05-02 09:00;满意\n",
        0, 1, 1, what="12345 work orders, semicolon-separated: profile hotline_12345 picked by headers",
        profile="hotline_12345")
    add("cases_unknown_type.csv", "cases", cases([c_row("C1"), ["C2", "新型事件", "", "网格员巡查", G1, "x", "李某",
                                                               "2025-03-05 08:05", "", ""]]),
        1, 2, 1, {"unknown_case_type": 1}, what="case type not registered and no deadline given")
    ev_head = "事件编号,序号,环节,发生时间,处理单位\n"
    add("events_out_of_order.csv", "case_events", ev_head +
        "E1,1,上报,2025-03-05 08:00,网格员巡查\nE1,2,受理,2025-03-05 09:00,中心\nE1,3,派遣,2025-03-05 07:00,中心\n",
        1, 3, 2, {"steps_out_of_order": 1}, what="dispatch time before the accept time")
    add("events_unknown_case.csv", "case_events", ev_head + "E1,1,上报,2025-03-05 08:00,x\nE404,1,上报,2025-03-05 08:00,x\n",
        1, 2, 1, {"unknown_case": 1}, what="event for a case that is not in cases")
    add("staff_negative_counts.csv", "grid_staff",
        f"网格编码,岗位,人数,统计日期\n{G1},网格员,1,2025-06-30\n{G2},网格员,-2,2025-06-30\n", 1, 2, 1,
        {"negative_count": 1}, what="negative head count")
    add("staff_title_row.xlsx", "grid_staff",
        xlsx([["网格编码", "岗位", "人数", "统计日期"], [G1, "网格员", 1, "2025-06-30"], [G1, "网格志愿者", 2, "2025-06-30"]],
             title="洪泽区网格力量配备统计表"), 0, 2, 2, what="two title rows above the header")
    add("staff_bad_role.csv", "grid_staff", f"网格编码,岗位,人数,统计日期\n{G1},网格员,1,2025-06-30\n{G1},厨师,3,2025-06-30\n",
        1, 2, 1, {"bad_value": 1}, what="role not in the allowed list")
    add("not_a_workbook.xlsx", "grid_staff", b"PK\x03\x04 this is not really a zip", 2, what="corrupt XLSX")
    add("surveys_tab.tsv", "surveys", "问卷编号\t调查季度\t网格编码\t安全感\t网格服务满意度\n"
        f"S1\t2025Q2\t{G1}\t安全\t满意\nS2\t2025年第2季度\t{G2}\t比较安全\t一般\nS3\t2025Q2\t{G2}\t还行\t满意\n",
        1, 3, 2, {"bad_value": 1}, what="tab-separated; quarters as 2025Q2 / 2025年第2季度; an unknown answer")
    return out


def write_corpus(entries: list[dict], manifest: Path, generator: str, note: str = "") -> None:
    """Write each entry's bytes into OUT and its expected outcome into `manifest` (YAML)."""
    OUT.mkdir(parents=True, exist_ok=True)
    listed = []
    for entry in entries:
        (OUT / entry["file"]).write_bytes(entry["data"])
        listed.append({"file": entry["file"], "kind": entry["kind"], "what": entry["what"],
                       "expect": {k: v for k, v in entry["expect"].items() if v is not None}})
    manifest.write_text(
        "# Expected outcome of loading each file into the fixture warehouse (tests/load_fixture.py).\n"
        f"# Generated by {generator}.{(' ' + note) if note else ''}\n"
        + yaml.safe_dump(listed, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    print(f"wrote {len(listed)} files to {OUT}")


def main() -> None:
    write_corpus(corpus(), OUT / "manifest.yaml", "tests/data/make_bad_corpus.py")


if __name__ == "__main__":
    main()
