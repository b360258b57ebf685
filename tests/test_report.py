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
        if block.kind == "table" and block.header[0] == "指标":
            rows = [r[1] for r in block.rows]  # the value column; targets come from the catalogue
        else:
            rows = [block.text, *[" ".join(r) for r in block.rows]]
        for row in rows:
            row = re.sub(r"\d{4}年\d{1,2}月", "", row)  # the report month
            row = re.sub(r"^图\d+ |近13个月|95%的目标|100%的目标", "", row)  # captions and targets
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
    pdf = generate(FULL, "320813103", "2026-10", "pdf", path=small_db)
    assert pdf[:4] == b"%PDF" and b"/FontFile" in pdf  # the CJK font is embedded
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
    assert shown.height > 0 and set(stated) == set(shown["key"])
    for row in shown.iter_rows(named=True):
        assert stated[row["key"]] == row["value"]
    table = next(b for b in county_report.blocks if b.kind == "table" and b.header[0] == "指标")
    assert [r[0] for r in table.rows] == missed["name_zh"].to_list()
    assert [r[3] for r in table.rows] == [{"red": "红", "amber": "黄"}[x] for x in missed["rag"]]
    assert [r[1] for r in table.rows if r[1] == "—"] == ["—"] * (missed.height - shown.height)
