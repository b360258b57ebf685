"""Roles on the query layer: what each scope reads, and what it is refused (never widened)."""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest

from warehouse import areas, datasets, report
from warehouse import caseloop as cl
from warehouse.scope import FULL, WALL, OutOfScope, Scope, for_role

OCT = {"start": date(2026, 10, 1), "end": date(2026, 10, 31)}
CODE_COLUMNS = ("area_code", "code", "town_code", "village_code", "grid_code", "grid")


# ---------------------------------------------------------------- the scope itself


def test_roles_build_their_scopes():
    assert for_role("county") == Scope(None, True, "county", "county")
    assert for_role("county", ["320813"]).areas == ("320813",)
    town = for_role("town", ["320813103"], "t103")
    assert town.areas == ("320813103",) and town.person_level and not town.is_admin
    assert for_role("village", ["320813103205"]).areas == ("320813103205",)
    assert for_role("analyst", ["320813103", "320813104001"]).areas == ("320813103", "320813104001")
    wall = for_role("wall")
    assert not wall.person_level and wall.areas is None
    assert for_role("admin").is_admin and FULL.is_admin and not WALL.is_admin
    for role, codes in (("town", ["320813"]), ("village", ["320813103"]), ("analyst", []), ("x", [])):
        with pytest.raises(ValueError):
            for_role(role, codes)


def test_within_is_the_one_predicate_and_refuses_outside():
    town = for_role("town", ["320813103"])
    assert town.within() == "(starts_with(area_code, '320813103'))"
    assert town.within("320813103205", "c.area_code") == \
        "(starts_with(c.area_code, '320813103')) AND starts_with(c.area_code, '320813103205')"
    for outside in ("320813104", "320813", "320813104205001"):  # another town, the county, a grid
        with pytest.raises(OutOfScope) as e:
            town.within(outside)
        assert e.value.key == "area" and e.value.params["area"] == outside
    two = for_role("analyst", ["320813103", "320813104"])
    assert two.within() == "(starts_with(area_code, '320813103') OR starts_with(area_code, '320813104'))"
    assert FULL.within() == "TRUE" and FULL.within("320813", unlocated=True) == \
        "(area_code IS NULL OR starts_with(area_code, '320813'))"
    assert town.within(unlocated=True) == town.within()  # posts that name no place: county-wide only
    with pytest.raises(ValueError):
        Scope(("1' OR 1=1 --",)).within()


def test_under_reaches_a_derived_parent_only_as_far_as_the_scope():
    grid_analyst = for_role("analyst", ["320813103205001"])
    assert grid_analyst.under("320813103205") == "(starts_with(area_code, '320813103205001'))"
    with pytest.raises(OutOfScope):
        grid_analyst.under("320813104")


def test_frame_applies_the_same_rule_in_memory():
    df = pl.DataFrame({"area_code": ["320813103001", "320813104001", "320813103"]})
    town = for_role("town", ["320813103"])
    assert town.frame(df)["area_code"].to_list() == ["320813103001", "320813103"]
    assert town.frame(df, "320813103001")["area_code"].to_list() == ["320813103001"]
    with pytest.raises(OutOfScope):
        town.frame(df, "320813104")
    assert Scope(()).frame(df).height == 0  # no areas at all: nothing, not everything


# ---------------------------------------------------------------- on the small demo


@pytest.fixture(scope="module")
def towns(small_db):
    t = areas.areas(FULL, level="town", path=small_db)["code"].to_list()
    return t[0], t[1]


def _codes(df: pl.DataFrame) -> list[str]:
    out = []
    for col in CODE_COLUMNS:
        if col in df.columns and df[col].dtype == pl.Utf8:
            out += [c for c in df[col].drop_nulls().unique().to_list() if c.isdigit() and len(c) >= 9]
    return out


@pytest.fixture
def few_monte_carlo_runs(monkeypatch):
    """risk_sensitivity with 10 runs instead of 300 (its scope filter is what is checked here;
    tests/test_risk.py checks the runs), its month cache emptied before and after."""
    from warehouse import risk

    monkeypatch.setitem(risk.config()["sensitivity"], "runs", 10)
    risk._sensitivity_of_month.cache_clear()
    yield
    risk._sensitivity_of_month.cache_clear()


def test_every_dataset_as_a_town_holds_no_row_of_another_town(small_db, towns, few_monte_carlo_runs):
    own, other = towns
    town = for_role("town", [own], "t-own")
    grid = areas.areas(town, level="grid", path=small_db)["code"][0]
    checked, refused = 0, []
    for name, ds in datasets.all_datasets().items():
        if ds.admin_only:
            continue
        try:
            df = datasets.get(name, town, area=grid if name == "grid_profile" else None, **OCT, path=small_db)
        except OutOfScope:  # county-wide only (quarantined rows carry no trusted area)
            refused.append(name)
            continue
        bad = [c for c in _codes(df) if not c.startswith(own)]
        assert not bad, f"{name}: rows of {sorted(set(bad))[:3]}"
        checked += 1
        with pytest.raises(OutOfScope):  # --area of another town: refused
            datasets.get(name, town, area=other, **OCT, path=small_db)
    every = [n for n, ds in datasets.all_datasets().items() if not ds.admin_only]
    assert checked == len(every) - 2 >= 20 and refused == ["quarantine", "town_ranking"]  # the ranking: county-wide


def test_person_level_and_admin_datasets_are_refused_where_they_must_be(small_db, towns):
    own, _ = towns
    for name, ds in datasets.all_datasets().items():
        if ds.person_level:
            with pytest.raises(OutOfScope):
                datasets.get(name, WALL, **OCT, path=small_db)
    for scope in (for_role("town", [own]), for_role("county"), WALL):
        with pytest.raises(OutOfScope):
            datasets.get("audit_log", scope, path=small_db)


def test_a_case_of_another_town_is_refused(small_db, towns):
    own, other = towns
    theirs = cl.case_list(FULL, other, **OCT, limit=1, path=small_db)["case_id"][0]
    town = for_role("town", [own])
    with pytest.raises(OutOfScope) as e:
        cl.case_detail(town, theirs, path=small_db)
    assert e.value.key == "case" and e.value.params["case_id"] == theirs
    mine = cl.case_list(town, None, **OCT, limit=5, path=small_db)
    assert mine.height and mine["area_code"].str.starts_with(own).all()
    assert cl.case_detail(town, mine["case_id"][0], path=small_db)["case_id"] == mine["case_id"][0]


def test_a_towns_own_report_holds_no_other_town(small_db, towns):
    """The monthly report as a town account, read back from the DOCX (paragraphs and tables):
    its own town's name is there, no other town's name or code is."""
    import io

    from docx import Document

    own, _ = towns
    names = areas.names(small_db)
    others = {c: n for c, n in names.items() if len(c) == 9 and c != own}
    doc = Document(io.BytesIO(report.generate(for_role("town", [own]), own, "2026-10", "docx", path=small_db)))
    text = "\n".join([p.text for p in doc.paragraphs]
                     + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    assert names[own] in text
    assert not [n for n in others.values() if n in text]
    assert not [c for c in re.findall(r"\d{9,}", text) if c[:9] in others]


def test_the_report_is_refused_outside_the_scope(small_db, towns):
    own, other = towns
    town = for_role("town", [own])
    with pytest.raises(OutOfScope):
        report.generate(town, other, "2026-10", "docx", path=small_db)
    with pytest.raises(OutOfScope):
        report.generate(town, own[:6], "2026-10", "docx", path=small_db)  # nor the county's


def test_village_sees_its_village_only(small_db, towns):
    own, _ = towns
    village = areas.areas(FULL, parent=own, path=small_db)["code"][0]
    v = for_role("village", [village])
    cases = cl.case_list(v, None, **OCT, limit=500, path=small_db)
    assert cases["area_code"].str.starts_with(village).all()
    with pytest.raises(OutOfScope):
        cl.case_list(v, own, **OCT, path=small_db)  # its own town is wider than the village
