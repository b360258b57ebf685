"""The monthly 《治安形势分析》: builds for the county and a town, numbers equal the warehouse."""

import re

import pytest

from warehouse.db import FULL
from warehouse.periods import parse
from warehouse.report import compose, figures, generate
from warehouse.report.figures import DISPUTE, PETITION, PUBLIC_SECURITY

OCT = parse("2026-10", "month")


@pytest.fixture(scope="module")
def county_report(small_db):
    return compose.build(FULL, "320813", OCT, path=small_db, with_charts=False)


def test_every_number_in_the_text_is_a_recorded_figure(county_report):
    allowed = {s for s, _, _ in county_report.facts}
    text = county_report.text
    for block in county_report.blocks:
        if block.kind in ("title", "subtitle"):  # dates and the month
            continue
        if block.kind == "table" and block.header[0].startswith("指标"):
            rows = [r[1] for r in block.rows]  # the value column; targets come from the catalogue
        else:
            rows = [block.text, *[" ".join(r) for r in block.rows]]
        for row in rows:
            row = re.sub(r"\d{4}年\d{1,2}月", "", row)  # the report month
            row = re.sub(r"^图\d+ |近1[23]个月|95%的目标|100%的目标|12345|1\+2|每400人", "", row)  # captions, windows, names
            for num in re.findall(r"\d+(?:\.\d+)?[%‰]?", row):
                assert num in allowed, f"{num!r} in {row!r} is not a warehouse figure"
    assert "{" not in text and "None" not in text


def test_stated_counts_equal_independent_queries(county_report, small_db):
    facts = {k: v for _, k, v in county_report.facts}
    assert facts["disputes"] == figures.case_count(FULL, "320813", OCT, DISPUTE, small_db)
    assert facts["public_security"] == figures.case_count(FULL, "320813", OCT, PUBLIC_SECURITY, small_db)
    assert facts["petitions"] == figures.case_count(FULL, "320813", OCT, PETITION, small_db)
    assert facts["cases_total"] == figures.case_count(FULL, "320813", OCT, "TRUE", small_db)
    sep = figures.case_count(FULL, "320813", OCT.previous(), DISPUTE, small_db)
    m = county_report.measures["disputes"]
    assert m.previous == sep
    # the month-on-month phrase states the change computed from those two counts
    rel = abs(m.current - m.previous) / m.previous
    assert f"{rel * 100:.1f}%" in county_report.text


def test_children_add_up_to_the_area(county_report):
    m = county_report.measures["disputes"]
    assert m.by_child["current"].sum() == m.current
    assert m.by_child.height == 10


def test_town_report_and_pdf_render(small_db, artifacts):
    pdf = generate(FULL, "320813103", "2026-10", "pdf", path=small_db, doc_number="洪综治〔2026〕12号",
                   classification="内部")
    assert pdf[:4] == b"%PDF" and b"/FontFile" in pdf  # the CJK font is embedded
    fonts_used = _pdf_fonts(pdf, artifacts / "report_town_2026-10.pdf")
    assert fonts_used and all("SC" in f for f in fonts_used), fonts_used  # Simplified faces only
    assert not any("JP" in f for f in fonts_used)
    (artifacts / "report_town_2026-10.pdf").write_bytes(pdf)
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    assert len(doc) >= 2
    text = doc[0].get_textpage().get_text_range()
    assert "岔河镇" in text and "治安形势分析" in text
    doc[0].render(scale=1.3).to_pil().save(artifacts / "report_town_page1.png")


def test_docx_builds(small_db):
    data = generate(FULL, "320813", "2026-10", "docx", path=small_db)
    assert data[:2] == b"PK"


def test_town_scope_gets_its_town_only(small_db):
    from warehouse.db import Scope
    town = Scope(("320813001",), name="town")
    with pytest.raises(PermissionError):
        compose.build(town, "320813", OCT, path=small_db, with_charts=False)
    r = compose.build(town, "320813001", OCT, path=small_db, with_charts=False)
    assert r.measures["cases_total"].current == figures.case_count(FULL, "320813001", OCT, "TRUE", small_db)


def test_home_page_offers_the_report(small_db):
    from tests.apptest import open_page

    at = open_page("home", area="320813103", grain="month", period="2026-10")
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "下载 PDF" in labels and "下载 DOCX" in labels


def test_targets_missed_match_the_indicator_layer(county_report, small_db):
    from warehouse import indicators

    ind = indicators.values(FULL, "320813", OCT, path=small_db)
    missed = ind.filter(ind["rag"].is_in(["red", "amber"]))
    stated = {k.removeprefix("indicator."): v for _, k, v in county_report.facts if k.startswith("indicator.")}
    shown = missed.filter(missed["value"].is_not_null())  # suppressed values print as —
    # the table's indicators, plus the two the text quotes in its sections (same definition)
    assert shown.height > 0 and set(stated) - {"ssra_coverage", "disputes_local"} == set(shown["key"]) - {"ssra_coverage", "disputes_local"}
    values = dict(zip(ind["key"], ind["value"]))
    for key, v in stated.items():
        assert v == values[key]
    missed = missed.sort(missed["rag"] != "red", "key")  # red first
    table = next(b for b in county_report.blocks if b.kind == "table" and b.header[0].startswith("指标"))
    window = {"period": "本月", "trailing_12m": "近12个月", "snapshot": "月末时点", "latest_survey": "最近一次调查"}
    assert [r[0] for r in table.rows] == [f"{n}（{window[w]}）" for n, w in zip(missed["name_zh"], missed["window"])]
    assert [r[3] for r in table.rows] == [{"red": "红", "amber": "黄"}[x] for x in missed["rag"]]
    assert [r[1] for r in table.rows if r[1] == "—"] == ["—"] * (missed.height - shown.height)


def _pdf_fonts(pdf: bytes, path) -> list[str]:
    """Embedded font names, by pdffonts (poppler-utils) when installed, else from the bytes."""
    import shutil
    import subprocess

    path.write_bytes(pdf)
    if shutil.which("pdffonts"):
        out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        return [line.split()[0].split("+")[-1] for line in out.splitlines()[2:] if line.strip()]
    return sorted({m.decode().split("+")[-1] for m in re.findall(rb"/BaseFont\s*/([^\s/>]+)", pdf)})


def test_docx_is_a4_with_heading_styles_page_numbers_and_16pt_body(small_db, tmp_path):
    import io

    from docx import Document
    from docx.shared import Mm, Pt

    data = generate(FULL, "320813", "2026-10", "docx", path=small_db, doc_number="洪综治〔2026〕12号")
    doc = Document(io.BytesIO(data))
    sec = doc.sections[0]
    assert abs(sec.page_width - Mm(210)) < Mm(1) and abs(sec.page_height - Mm(297)) < Mm(1)
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads[0] == "一、总体形势" and "十、下步工作建议" in heads and len(heads) >= 10
    assert [p.text for p in doc.paragraphs if p.style.name == "Title"] == ["2026年10月洪泽区治安形势分析"]
    assert doc.styles["Normal"].font.size == Pt(16)
    assert doc.styles["Normal"].font.name == "仿宋" and doc.styles["Heading 1"].font.name == "黑体"
    assert "PAGE" in sec.footer.paragraphs[0]._p.xml  # page numbers
    assert any(p.text == "洪综治〔2026〕12号" for p in doc.paragraphs)


def _measures(**counts):
    m = {}
    for key in ("cases_total", "public_security", "disputes", "petitions", "accidents", "collective"):
        cur, prev = counts.get(key, (10, 10))
        m[key] = figures.Measure(key, "count", cur, prev, None)
    return m


def test_a_rise_in_collective_incidents_is_never_called_calm():
    rising = compose._judgement(_measures(collective=(5, 2)))
    assert "群体性事件增多" in rising and "平稳" not in rising and "警惕" in rising
    still = compose._judgement(_measures(collective=(3, 3)))
    assert "群体性事件3起" in still and "平稳" not in still
    calm = compose._judgement(_measures(collective=(0, 0)))
    assert "平稳" in calm


def test_next_steps_follow_the_targets_missed(county_report):
    blocks = county_report.blocks
    i = next(k for k, b in enumerate(blocks) if b.kind == "h1" and b.text == "十、下步工作建议")
    items = [b.text for b in blocks[i + 1:] if b.kind == "p"]
    table = next(b for b in blocks if b.kind == "table" and b.header[0].startswith("指标"))
    for row in table.rows:
        name = row[0].rsplit("（", 1)[0]
        assert any(name in it for it in items), name
    assert items[0].startswith("（一）")


def test_one_definition_per_figure_with_its_window(county_report):
    text = county_report.text
    assert "近12个月应评尽评率" in text and "社会稳定风险评估覆盖率" in text
    facts = {k: s for s, k, _ in county_report.facts}
    assert "ssra_coverage" not in facts  # no second, month-only coverage figure


def test_month_last_and_a_month_in_progress(small_db):
    from warehouse.report import MonthInProgress, resolve_month

    assert resolve_month("last", small_db)[0].key == "2026-10"
    with pytest.raises(MonthInProgress):
        generate(FULL, "320813", "2026-11", "docx", path=small_db)
    with pytest.raises(ValueError, match="YYYY-MM"):
        resolve_month("10/2026", small_db)
    data = generate(FULL, "320813103", "2026-11", "docx", path=small_db, partial=True)
    assert "本月尚未结束".encode() in __import__("zipfile").ZipFile(__import__("io").BytesIO(data)).read("word/document.xml")


def test_trend_chart_axis_starts_at_zero(small_db):
    import matplotlib.pyplot as plt

    from warehouse.report import charts

    charts.trend_chart(figures.trend(FULL, "320813", OCT, small_db))
    # the chart closes its figure; draw again to inspect the axis
    fig_before = set(plt.get_fignums())
    orig = plt.close
    captured = []
    plt.close = lambda fig=None: captured.append(fig)
    try:
        charts.trend_chart(figures.trend(FULL, "320813", OCT, small_db))
    finally:
        plt.close = orig
    assert captured[0].axes[0].get_ylim()[0] == 0
    orig(captured[0])
    assert set(plt.get_fignums()) == fig_before


def test_petition_register_sentence_equals_the_petition_module(county_report, small_db):
    """The 信访 section's register figures are petition.summary's, for the same month."""
    from warehouse import petition

    s = petition.summary(FULL, "320813", OCT.start, OCT.end, path=small_db)
    facts = {k: v for _, k, v in county_report.facts}
    assert facts["petitions_beyond"] == s["beyond_county"]
    assert facts["petitions_beijing"] == s["beijing_irregular"]
    assert facts["petitions_repeat"] == pytest.approx(s["repeat_rate"])
    assert "越级上访" in county_report.text and "重复信访率" in county_report.text


def test_petitions_settled_counts_only_petitions_given_an_outcome(small_db):
    """化解率 = resolved / given an outcome; 办理中 and 正在化解 are not in the denominator."""
    import duckdb

    nov = parse("2026-11", "month")  # the demo's last month still has petitions being worked on
    with duckdb.connect(str(small_db), read_only=True) as con:
        statuses = [s for (s,) in con.execute(
            """SELECT petition_status FROM cases WHERE source_channel = '信访' AND area_code LIKE '320813%'
               AND reported_at >= ? AND reported_at < ?""", [nov.start, nov.end]).fetchall()]
    resolved = sum(s in ("已化解", "息诉罢访", "三级终结") for s in statuses)
    outcome = sum(s not in (None, "办理中", "正在化解") for s in statuses)
    assert resolved and outcome < len(statuses)  # the fixture has open petitions to leave out
    got = figures.monthly(FULL, "320813", nov, path=small_db)["petitions_settled"].current
    assert got == pytest.approx(resolved / outcome)
