"""Grid heatmap values and the grid profile: against polars on the demo, and by hand on fixtures."""

import json
from datetime import date, datetime

import duckdb
import h3
import polars as pl
import pytest
from shapely.geometry import shape
from shapely.ops import unary_union

from tests.fixtures import empty_warehouse, insert
from warehouse import datasets, geo
from warehouse import grid_profile as gp
from warehouse.db import FULL, WALL, OutOfScope, Scope

OCT = (date(2026, 10, 1), date(2026, 11, 1))
SPECIAL = ["is_corrections", "is_released", "is_mental", "is_drug", "is_youth"]


# ---------------------------------------------------------------- the demo against polars


@pytest.fixture(scope="module")
def base(small_db):
    con = duckdb.connect(str(small_db), read_only=True)
    try:
        t = {name: con.sql(f"SELECT * FROM {name}").pl()
             for name in ("area", "person", "cases", "opinion_post", "grid_staff")}
        # the one overdue rule's per-case columns (its own tests: tests/test_data_process.py)
        t["late"] = con.sql("SELECT case_id, left_late, open_stage, stage_deadline_at FROM mart_case_flow").pl()
        t["now"] = con.sql("SELECT max(occurred_at) FROM case_event").fetchall()[0][0]
    finally:
        con.close()
    return t


def polars_values(b, parent: str, length: int, start: date, end: date) -> pl.DataFrame:
    """The map's metrics recomputed with polars only (no SQL, no warehouse.geo)."""
    key = pl.col("area_code").str.slice(0, length).alias("code")
    s, e = datetime.combine(start, datetime.min.time()), datetime.combine(end, datetime.min.time())
    units = b["area"].filter(pl.col("parent_code") == parent).select("code")
    people = (b["person"].filter(pl.col("area_code").str.starts_with(parent))
              .group_by(key).agg(residents=pl.len(), special_raw=pl.sum_horizontal(SPECIAL).sum()))
    late = pl.col("left_late") | (pl.col("open_stage").is_not_null()
                                  & (pl.col("stage_deadline_at") < b["now"]).fill_null(False))
    cases = (b["cases"].filter(pl.col("area_code").str.starts_with(parent),
                               pl.col("reported_at") >= s, pl.col("reported_at") < e)
             .join(b["late"], on="case_id", how="left")
             .group_by(key).agg(cases=pl.len(), disputes=(pl.col("category") == "矛盾纠纷").sum(),
                                overdue=late.sum()))
    posts = (b["opinion_post"].filter(pl.col("area_code").str.starts_with(parent),
                                      pl.col("area_code").str.len_chars() >= length,
                                      pl.col("sentiment") == "negative",
                                      pl.col("published_at") >= s, pl.col("published_at") < e)
             .group_by(key).agg(negative_posts=pl.len()))
    staff = (b["area"].filter(pl.col("level") == "grid", pl.col("code").str.starts_with(parent)).select("code")
             .join(b["grid_staff"].pivot(on="role", index="area_code", values="staff_count",
                                         aggregate_function="sum"),
                   left_on="code", right_on="area_code", how="left")
             .with_columns(pl.col("grid_worker", "grid_volunteer").fill_null(0))
             .group_by(pl.col("code").str.slice(0, length))
             .agg(grids=pl.len(),
                  filled=(pl.col("grid_worker").clip(upper_bound=1) + pl.col("grid_volunteer").clip(upper_bound=2)).sum()))
    out = (units.join(people, on="code", how="left").join(cases, on="code", how="left")
           .join(posts, on="code", how="left").join(staff, on="code", how="left").fill_null(0))
    return out.with_columns(
        cases_per_1k=pl.col("cases") * 1000 / pl.col("residents"),
        overdue_share=pl.when(pl.col("cases") > 0).then(pl.col("overdue") / pl.col("cases")),
        staffing_fill=pl.col("filled") / (3 * pl.col("grids")),
    ).sort("code")


@pytest.mark.parametrize("area,length", [("320813", 9), ("320813001", 12), ("320813001001", 15)])
def test_map_values_equal_an_independent_polars_computation(small_db, base, area, length):
    got = geo.map_values(FULL, area, *OCT, path=small_db).sort("code")
    want = polars_values(base, area, length, *OCT)
    assert got["code"].to_list() == want["code"].to_list() and got.height > 3
    for col in ("residents", "cases", "disputes", "overdue", "grids"):
        assert got[col].to_list() == want[col].cast(pl.Int64).to_list(), col
    for col in ("cases_per_1k", "overdue_share", "staffing_fill"):
        for a, b in zip(got[col].to_list(), want[col].to_list()):
            assert (a is None and b is None) or a == pytest.approx(b), col
    if length < 15:
        assert got["negative_posts"].to_list() == want["negative_posts"].cast(pl.Int64).to_list()
    else:  # posts are linked to villages or towns at best: no grid-level opinion metric
        assert got["negative_posts"].null_count() == got.height
    # special groups: every shown count is the true count; every true 1..4 is hidden
    for shown, true in zip(got["special"].to_list(), want["special_raw"].to_list()):
        assert shown is None or shown == true
        if 1 <= true < 5:
            assert shown is None
    assert got["cases"].sum() > 0


def test_every_grid_of_a_town_at_once_equals_village_by_village(small_db):
    town = geo.map_values(FULL, "320813001", *OCT, path=small_db, level="grid").sort("code")
    one_by_one = pl.concat([geo.map_values(FULL, v, *OCT, path=small_db)
                            for v in town["parent_code"].unique().sort()]).sort("code")
    assert town.height > 100 and town.equals(one_by_one)
    assert geo.polygons(FULL, "320813001", path=small_db, level="grid")["code"].to_list() == town["code"].to_list()


def test_rank_among_siblings(small_db):
    v = geo.map_values(FULL, "320813", *OCT, path=small_db)
    top = v.sort("cases_per_1k", descending=True)
    assert top["rank_cases_per_1k"][0] == 1 and top["rank_cases_per_1k"].to_list() == sorted(top["rank_cases_per_1k"])


def test_grid_selection_shows_its_village_with_it_flagged(small_db):
    v = geo.map_values(FULL, "320813001001002", *OCT, path=small_db)
    assert v["code"].str.starts_with("320813001001").all() and v.height > 3
    assert v.filter(pl.col("selected"))["code"].to_list() == ["320813001001002"]


def test_scope_limits_the_map(small_db):
    town = Scope(("320813001",))
    with pytest.raises(OutOfScope):  # the county is wider than the town: refused, not narrowed
        geo.map_values(town, "320813", *OCT, path=small_db)
    v = geo.map_values(town, "320813001", *OCT, path=small_db)
    assert v.height > 1 and v["code"].str.starts_with("320813001").all()
    grid = v["code"][0] + "001"  # a grid's map shows its village's grids: the village is in scope
    assert geo.map_values(Scope((grid,)), grid, *OCT, path=small_db)["code"].to_list() == [grid]


@pytest.mark.parametrize("area", ["320813", "320813001", "320813001001"])
def test_polygons_nest_in_and_cover_the_parent(small_db, area):
    shapes = geo.polygons(FULL, area, path=small_db)
    parent = shape(json.loads(geo.outline(FULL, area, path=small_db)["geometry"][0]))
    kids = [shape(json.loads(g)) for g in shapes["geometry"]]
    assert len(kids) > 1 and all(k.is_valid and not k.is_empty for k in kids)
    for k in kids:
        assert k.difference(parent).area <= 0.005 * k.area
    assert unary_union(kids).area == pytest.approx(parent.area, rel=0.02)
    # every label point lies inside its own outline
    for (lon, lat), k in zip(shapes.select("lon", "lat").iter_rows(), kids):
        assert k.buffer(1e-4).contains(shape({"type": "Point", "coordinates": [lon, lat]}))


def test_hexagons_count_every_located_case(small_db, base):
    hexes = geo.hexagons(FULL, "320813001", date(2026, 1, 1), date(2026, 11, 1), resolution=8, path=small_db)
    c = base["cases"].filter(pl.col("area_code").str.starts_with("320813001"),
                             pl.col("reported_at") >= datetime(2026, 1, 1), pl.col("reported_at") < datetime(2026, 11, 1))
    assert hexes["count"].sum() == c.height > 100
    assert all(h3.is_valid_cell(x) and h3.get_resolution(x) == 8 for x in hexes["hex"])
    posts = geo.hexagons(FULL, "320813", *OCT, source="posts", path=small_db)
    assert posts["count"].sum() > 0


def test_datasets_registered(small_db):
    names = datasets.all_datasets()
    assert {"map_values", "map_hexagons", "grid_profile"} <= set(names)
    df = datasets.get("map_values", FULL, area="320813001", start=date(2026, 10, 1), end=date(2026, 10, 31),
                      path=small_db)
    assert df.equals(geo.map_values(FULL, "320813001", *OCT, path=small_db))


# ---------------------------------------------------------------- hand-built fixture

SQUARE = '{{"type":"Polygon","coordinates":[[[{0},0],[{1},0],[{1},1],[{0},1],[{0},0]]]}}'
T0 = datetime(2026, 10, 5, 9, 0)


def _person(i, grid, **flags):
    return {"person_key": f"p{i}", "sex": "M", "birth_month": date(1980, 1, 1), "residence_type": "户籍",
            "household_key": f"h{i}", "area_code": grid} | dict.fromkeys(SPECIAL + ["lives_alone"], False) | flags


def _case(i, grid, category="矛盾纠纷", handled=None, deadline=datetime(2026, 10, 10), status="handled"):
    return {"case_id": f"c{i}", "case_type": "邻里纠纷", "category": category, "source_channel": "12345",
            "area_code": grid, "reported_at": T0, "deadline_at": deadline, "handled_at": handled,
            "status": status}


@pytest.fixture()
def hand(tmp_path):
    """One town, three villages with one grid each.

    Village A (grid A1): 200 residents, 3 special; cases: 4 reported in October —
      handled on time, handled late, open past deadline (now = 2026-10-20), open not yet due.
    Village B: 500 residents, 10 special; 1 case, handled on time. Village C: 100 residents,
    7 special, no cases. Staff: A1 1+2, B1 1+1, C1 none.
    """
    p = empty_warehouse(tmp_path / "hand.duckdb")
    town = "320813001"
    vill = {"A": town + "001", "B": town + "002", "C": town + "003"}
    grid = {k: v + "001" for k, v in vill.items()}
    areas = [{"code": "320813", "name": "县", "level": "county", "geometry": SQUARE.format(0, 3)},
             {"code": town, "name": "镇", "level": "town", "parent_code": "320813", "geometry": SQUARE.format(0, 3)}]
    for i, k in enumerate("ABC"):
        g = SQUARE.format(i, i + 1)
        areas += [{"code": vill[k], "name": f"{k}村", "level": "village", "parent_code": town, "geometry": g,
                   "lon": i + 0.5, "lat": 0.5},
                  {"code": grid[k], "name": f"{k}村第1网格", "level": "grid", "parent_code": vill[k], "geometry": g,
                   "lon": i + 0.5, "lat": 0.5}]
    insert(p, "area", areas, rebuild_marts=False)
    people = [_person(f"a{i}", grid["A"], is_drug=i < 3) for i in range(200)]
    people += [_person(f"b{i}", grid["B"], is_mental=i < 10) for i in range(500)]
    people += [_person(f"c{i}", grid["C"], is_youth=i < 7, lives_alone=i < 2) for i in range(100)]
    insert(p, "person", people, rebuild_marts=False)
    cases = [_case(1, grid["A"], handled=datetime(2026, 10, 8)),
             _case(2, grid["A"], handled=datetime(2026, 10, 12)),
             _case(3, grid["A"], category="治安隐患", status="dispatched"),
             _case(4, grid["A"], status="dispatched", deadline=datetime(2026, 10, 30)),
             _case(5, grid["B"], handled=datetime(2026, 10, 6)),
             _case(6, grid["B"], handled=datetime(2026, 9, 6)) | {"reported_at": datetime(2026, 9, 1)}]
    insert(p, "cases", cases, rebuild_marts=False)
    # the data's clock: a side event, so c1 keeps the stages of its row
    insert(p, "case_event", [{"case_id": "c1", "seq": 1, "step": "other", "occurred_at": datetime(2026, 10, 20)}],
           rebuild_marts=False)
    insert(p, "grid_staff", [
        {"area_code": grid["A"], "role": "grid_worker", "staff_count": 1, "as_of": date(2026, 10, 1)},
        {"area_code": grid["A"], "role": "grid_volunteer", "staff_count": 2, "as_of": date(2026, 10, 1)},
        {"area_code": grid["B"], "role": "grid_worker", "staff_count": 1, "as_of": date(2026, 10, 1)},
        {"area_code": grid["B"], "role": "grid_volunteer", "staff_count": 1, "as_of": date(2026, 10, 1)}])
    return p, vill, grid


def test_cases_per_1000_and_overdue_share_by_hand(hand):
    p, vill, _ = hand
    v = {r["code"]: r for r in geo.map_values(FULL, "320813001", *OCT, path=p).iter_rows(named=True)}
    a, b, c = v[vill["A"]], v[vill["B"]], v[vill["C"]]
    # A: 4 October cases / 200 residents × 1000 = 20; overdue: the late one and the open past-due one = 2/4
    assert a["cases"] == 4 and a["cases_per_1k"] == pytest.approx(20.0)
    assert a["overdue"] == 2 and a["overdue_share"] == pytest.approx(0.5)
    assert a["disputes"] == 3
    # B: the September case is outside the window: 1 / 500 × 1000 = 2, none overdue
    assert b["cases_per_1k"] == pytest.approx(2.0) and b["overdue_share"] == 0.0
    assert c["cases_per_1k"] == 0.0 and c["overdue_share"] is None
    # staffing: A 3/3, B (1 + 1)/3, C 0/3
    assert (a["staffing_fill"], b["staffing_fill"], c["staffing_fill"]) == pytest.approx((1.0, 2 / 3, 0.0))
    assert (a["grids_full"], b["grids_full"]) == (1, 0)
    assert (a["rank_cases_per_1k"], b["rank_cases_per_1k"], c["rank_cases_per_1k"]) == (1, 2, 3)


def test_small_special_group_cells_are_suppressed(hand):
    p, vill, grid = hand
    v = {r["code"]: r for r in geo.map_values(FULL, "320813001", *OCT, path=p).iter_rows(named=True)}
    # A has 3 (hidden, < 5); with the town total 20 published one level up, C (7, the smallest
    # other) is hidden too, or A would be 20 − 10 − 7. B (10) stays: 10 / 500 × 1000 = 20 per 1,000.
    assert v[vill["A"]]["special"] is None and v[vill["A"]]["special_per_1k"] is None
    assert v[vill["C"]]["special"] is None
    assert v[vill["B"]]["special"] == 10 and v[vill["B"]]["special_per_1k"] == pytest.approx(20.0)
    groups = {r["group"]: r["count"] for r in gp.groups(FULL, grid["C"], path=p).iter_rows(named=True)}
    # the grid profile shows C's row as the village table publishes it: its 7 is hidden there as
    # a complement, so showing it here would give A's 3 away (issue #18)
    assert groups["重点青少年"] is None and groups["独居"] is None and groups["吸毒"] == 0


def test_grid_profile_by_hand(hand):
    p, _, grid = hand
    # open = not closed (handled cases still await verification); open and overdue: only c3
    assert gp.open_counts(FULL, grid["A"], path=p) == {"open": 4, "open_overdue": 1}
    rows = gp.open_cases(FULL, grid["A"], path=p)
    # overdue first, then by the deadline of the stage each is at: c4 (dispatch, 30 Oct) before
    # c1 and c2, which wait at handle (no deadline there by default)
    assert rows["case_id"].to_list() == ["c3", "c4", "c1", "c2"]
    assert rows["hours_overdue"].to_list() == [pytest.approx(240.0), None, None, None]
    assert "phone_masked" not in rows.columns and "description" not in rows.columns
    with pytest.raises(PermissionError):
        gp.open_cases(WALL, grid["A"], path=p)
    staff = gp.staffing(FULL, grid["B"], path=p)
    assert staff["staff"].to_list() == [1, 1] and staff["met"].to_list() == [True, False]
    by_month = gp.cases_by_month(FULL, grid["B"], date(2026, 1, 1), date(2026, 12, 1), path=p)
    assert by_month["cases"].sum() == 2 and by_month.height == 2
    ages = gp.residents_by_type_age(FULL, grid["A"], path=p)
    assert ages["residents"].sum() == 200 and ages["age_band"].to_list() == ["35-59"]
    with pytest.raises(PermissionError):
        gp.summary(Scope(("320813002",)), grid["A"], path=p)
