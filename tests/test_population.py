"""Population page and its warehouse: values against a hand-built fixture, small-cell
suppression (nothing between 1 and 4 shown or exported, nothing recoverable from totals),
staffing ratios by hand, the page in both languages and in Chromium."""

from __future__ import annotations

import io
from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from tests.fixtures import empty_warehouse, insert
from warehouse import datasets, population, suppression
from warehouse.db import FULL, WALL, Scope
from warehouse.definitions import CARE_GROUP_COLUMNS, SPECIAL_GROUP_COLUMNS

GROUPS = list(SPECIAL_GROUP_COLUMNS)
T1, T2 = "320813001", "320813002"
V1, V2, V3 = T1 + "001", T1 + "002", T2 + "001"
GA, GB, GC, GD = V1 + "001", V1 + "002", V2 + "001", V3 + "001"
FLAGS = [*SPECIAL_GROUP_COLUMNS, *CARE_GROUP_COLUMNS]


def person(key, grid, sex, birth, kind, household, moved_in=None, **flags):
    row = {"person_key": key, "sex": sex, "birth_month": birth, "residence_type": kind,
           "household_key": household, "area_code": grid, "moved_in": moved_in}
    return row | {f: bool(flags.get(f, False)) for f in FLAGS}


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """County 320813 → towns T1, T2 → villages V1, V2 (T1), V3 (T2) → grids A, B (V1), C, D.

    27 residents, data now 2026-11-24 (the one case event):
    A: p1 M 1950 户籍 H1 独居 残疾 · p2 F 1940-06 户籍 H2 独居 · p3 M 1990 流动 H3 (2026-10) 吸毒 ·
       p4 F 1992 流动 H3 (2026-10) · p5 M 2015 户籍 H4 留守 · p6 M 2000 境外 H5 (2025-12)
    B: 8 × F 1960-02 户籍 (H6 ×4, H7 ×4), 6 严重精神障碍, 1 低保
    C: 3 × M 1980 户籍 H8, 2 刑释解教
    D: 10 × M 1995 流动 (2025-11) (H9 ×5, H10 ×5), 7 严重精神障碍, 3 刑释解教
    """
    path = empty_warehouse(tmp_path_factory.mktemp("pop") / "pop.duckdb")
    area = [{"code": "320813", "name": "洪泽区", "level": "county", "parent_code": None},
            {"code": T1, "name": "甲镇", "level": "town", "parent_code": "320813"},
            {"code": T2, "name": "乙镇", "level": "town", "parent_code": "320813"},
            {"code": V1, "name": "一村", "level": "village", "parent_code": T1},
            {"code": V2, "name": "二村", "level": "village", "parent_code": T1},
            {"code": V3, "name": "三村", "level": "village", "parent_code": T2}]
    area += [{"code": g, "name": f"网格{g[-4:]}", "level": "grid", "parent_code": g[:12]} for g in (GA, GB, GC, GD)]
    insert(path, "area", area, rebuild_marts=False)
    people = [
        person("p1", GA, "M", date(1950, 1, 1), "户籍", "H1", lives_alone=1, is_disabled=1),
        person("p2", GA, "F", date(1940, 6, 1), "户籍", "H2", lives_alone=1),
        person("p3", GA, "M", date(1990, 3, 1), "流动", "H3", date(2026, 10, 1), is_drug=1),
        person("p4", GA, "F", date(1992, 7, 1), "流动", "H3", date(2026, 10, 1)),
        person("p5", GA, "M", date(2015, 5, 1), "户籍", "H4", is_left_behind=1),
        person("p6", GA, "M", date(2000, 1, 1), "境外", "H5", date(2025, 12, 1)),
    ]
    people += [person(f"b{i}", GB, "F", date(1960, 2, 1), "户籍", "H6" if i < 4 else "H7",
                      is_mental=i < 6, is_dibao=i == 0) for i in range(8)]
    people += [person(f"c{i}", GC, "M", date(1980, 1, 1), "户籍", "H8", is_released=i < 2) for i in range(3)]
    people += [person(f"d{i}", GD, "M", date(1995, 1, 1), "流动", "H9" if i < 5 else "H10",
                      date(2025, 11, 1), is_mental=i < 7, is_released=i >= 7) for i in range(10)]
    insert(path, "person", people, rebuild_marts=False)
    day = date(2026, 11, 1)
    staff = [(T1, "patrol", 0), (T1, "patrol_volunteer", 1), (T1, "floating_warden", 1),
             (T2, "patrol", 1), (T2, "patrol_volunteer", 0), (T2, "floating_warden", 0),
             (GA, "grid_worker", 1), (GA, "grid_volunteer", 2), (GB, "grid_worker", 1), (GB, "grid_volunteer", 1),
             (GC, "grid_worker", 0), (GC, "grid_volunteer", 3), (GD, "grid_worker", 1), (GD, "grid_volunteer", 1),
             (V1, "mediator", 2)]
    insert(path, "grid_staff", [{"area_code": a, "role": r, "staff_count": n, "as_of": day} for a, r, n in staff],
           rebuild_marts=False)
    insert(path, "case_event", [{"case_id": "C1", "seq": 1, "step": "report",
                                 "occurred_at": datetime(2026, 11, 24, 10)}])
    return path


# ---------------------------------------------------------------- residents, pyramid, trend, care


def test_residents_by_area_by_hand(wh):
    df = population.residents_by_area(FULL, "320813", path=wh)
    rows = {r["area_code"]: r for r in df.to_dicts()}
    assert list(rows) == [T1, T2]
    t1, t2 = rows[T1], rows[T2]
    assert (t1["area_name"], t1["residents"], t1["registered"], t1["floating"], t1["abroad"], t1["households"]) \
        == ("甲镇", 17, 14, 2, 1, 8)
    assert (t2["residents"], t2["registered"], t2["floating"], t2["abroad"], t2["households"]) == (10, 0, 10, 0, 2)
    assert t1["floating_share"] == pytest.approx(2 / 17) and t2["floating_share"] == 1.0
    assert t2["persons_per_household"] == 5.0
    # drill down: the children of a village are its grids
    grids = population.residents_by_area(FULL, V1, path=wh)
    assert grids["area_code"].to_list() == [GA, GB] and grids["residents"].to_list() == [6, 8]


def test_summary_by_hand(wh):
    s = population.summary(FULL, "320813", path=wh)
    assert (s["residents"], s["households"], s["floating"], s["abroad"]) == (27, 10, 12, 1)
    assert (s["age_60"], s["age_80"]) == (10, 1)  # p1 76, p2 86, eight born 1960 (66)
    assert s["floating_share"] == pytest.approx(12 / 27)


def test_pyramid_by_hand(wh):
    pyr = population.pyramid(FULL, "320813", path=wh)
    assert pyr.height == 19 * 2 and pyr["residents"].sum() == 27
    cell = {(r["band"], r["sex"]): r["residents"] for r in pyr.to_dicts()}
    assert cell[("30-34", "M")] == 10 and cell[("30-34", "F")] == 1    # D (31); p4 (34)
    assert cell[("65-69", "F")] == 8 and cell[("85-89", "F")] == 1     # B; p2
    assert cell[("75-79", "M")] == 1 and cell[("10-14", "M")] == 1     # p1; p5
    assert cell[("90+", "M")] == 0


def test_floating_trend_by_hand(wh):
    tr = population.floating_trend(FULL, "320813", months=13, path=wh)
    by = {r["month"]: r for r in tr.to_dicts()}
    # ends with the last complete month (October: now is 24 November)
    assert min(by) == date(2025, 10, 1) and max(by) == date(2026, 10, 1) and tr.height == 13
    # Oct 2025: nobody who moved has arrived yet (D Nov 2025, p6 Dec 2025, p3/p4 Oct 2026)
    assert (by[date(2025, 10, 1)]["floating"], by[date(2025, 10, 1)]["residents"]) == (0, 14)
    # Nov 2025: D's ten arrive
    nov = by[date(2025, 11, 1)]
    assert (nov["floating_arrivals"], nov["floating"], nov["residents"]) == (10, 10, 24)
    assert nov["floating_share"] == pytest.approx(10 / 24)
    oct26 = by[date(2026, 10, 1)]
    assert (oct26["floating_arrivals"], oct26["floating"], oct26["residents"]) == (2, 12, 27)
    assert oct26["floating_share"] == pytest.approx(12 / 27)


def test_care_groups_by_hand(wh):
    care = {r["area_code"]: r for r in population.care_groups(FULL, "320813", path=wh).to_dicts()}
    t1 = care[T1]
    assert (t1["age_60"], t1["age_80"], t1["lives_alone"], t1["is_dibao"], t1["is_disabled"],
            t1["is_left_behind"]) == (10, 1, 2, 1, 1, 1)
    assert all(care[T2][c] == 0 for c in ("age_60", "lives_alone", "is_left_behind"))


# ---------------------------------------------------------------- suppression


def determined_cells(shown: np.ndarray, hidden: np.ndarray, total_row: bool, total_col: bool) -> list:
    """Independent audit: hidden cells a reader can compute from the shown cells and totals.

    Unknowns are the hidden cells; each row and column is an equation (cells - total = 0 with
    a margin, else a published sum). Cell k is determined iff its unit vector lies in the row
    space of the equations: rank([A; e_k]) == rank(A).
    """
    rows, cols = hidden.shape
    idx = {tuple(c): k for k, c in enumerate(np.argwhere(hidden))}
    eqs = []
    for i in range(rows):
        eqs.append({(i, j): -1 if total_col and j == cols - 1 else 1 for j in range(cols)})
    for j in range(cols):
        eqs.append({(i, j): -1 if total_row and i == rows - 1 else 1 for i in range(rows)})
    a = np.zeros((len(eqs), len(idx)))
    for r, eq in enumerate(eqs):
        for c, coef in eq.items():
            if c in idx:
                a[r, idx[c]] = coef
    rank = np.linalg.matrix_rank(a) if idx else 0
    out = []
    for c, k in idx.items():
        e = np.zeros((1, len(idx)))
        e[0, k] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            out.append(c)
    return out


def audit(table: pl.DataFrame, cols: list[str]) -> None:
    """The two promises: nothing from 1 to 4 shown, nothing hidden recoverable."""
    values = table.select(cols).to_numpy()
    hidden = table.select(suppression.HIDDEN_PREFIX + c for c in cols).to_numpy().astype(bool)
    shown = np.where(hidden, -1, np.nan_to_num(values.astype(float), nan=-1))
    assert not ((shown >= 1) & (shown <= 4)).any(), "a cell of 1..4 is shown"
    assert determined_cells(shown, hidden, True, True) == []
    for line in [*hidden, *hidden.T]:
        assert line.sum() != 1, "a row or column with a single hidden cell"
    text = suppression.display(table).select(cols)
    assert not any(v in {"1", "2", "3", "4"} for col in text.iter_columns() for v in col.to_list())


TEMPTING = pl.DataFrame({"area": ["A", "B", "C"], "g1": [3, 12, 9], "g2": [40, 30, 0], "g3": [25, 18, 22]})


def test_single_small_cell_is_not_recoverable_from_totals():
    out = suppression.suppress(TEMPTING, ["g1", "g2", "g3"], "area")
    cols = ["g1", "g2", "g3", "total"]
    audit(out, cols)
    # row A hides its 3 and one more cell; the totals stay published
    assert out.filter(pl.col("area") == "A")["g1"][0] is None
    assert out.filter(pl.col("area") == "合计")["total"][0] == 159
    assert sum(out.row(0, named=True)[suppression.HIDDEN_PREFIX + c] for c in cols) >= 2


def test_primary_suppression_alone_would_leak():
    """The audit can fail: hiding only the 3 lets row A's total give it away."""
    values = np.array([[3, 40, 25, 68], [12, 30, 18, 60], [9, 0, 22, 31], [24, 70, 65, 159]])
    primary = suppression.suppression_mask(values, True, True) == 1
    assert determined_cells(values, primary, True, True) == [(0, 0)]
    assert suppression.recoverable(primary.astype(np.int8), True, True) == [(0, 0)]


def test_one_marker_for_every_hidden_cell(wh):
    """"<5" for small cells and another marker for complements would leak: in the fixture's
    total row released + drug = 6; a complement >= 5 would pin drug at 1."""
    table = population.special_groups(FULL, "320813", path=wh)
    text = suppression.display(table)
    values = {v for c in [*GROUPS, "total"] for v in text[c].to_list()}
    assert suppression.MASK in values and not any(v.startswith("<") for v in values)
    total = text.filter(pl.col("area_name") == "合计").row(0, named=True)
    assert (total["is_released"], total["is_drug"], total["is_mental"], total["total"]) == ("*", "*", "13", "19")


def test_special_groups_table_by_hand(wh):
    table = population.special_groups(FULL, "320813", path=wh)
    text = {r["area_name"]: [r[c] for c in [*GROUPS, "total"]] for r in suppression.display(table).to_dicts()}
    # raw: 甲镇 [0, 2, 6, 1, 0 | 9]; 乙镇 [0, 3, 7, 0, 0 | 10]; 合计 [0, 5, 13, 1, 0 | 19]
    assert text["甲镇"] == ["0", "*", "*", "*", "0", "9"]
    assert text["乙镇"] == ["0", "*", "*", "0", "0", "10"]
    assert text["合计"] == ["0", "*", "13", "*", "0", "19"]
    audit(table, [*GROUPS, "total"])


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_keep_both_promises(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 9)), int(rng.integers(1, 6)))
    counts = rng.poisson(rng.uniform(0.5, 9), shape)
    df = pl.DataFrame(counts, schema=[f"g{j}" for j in range(shape[1])], orient="row").with_columns(
        pl.Series("area", [f"a{i}" for i in range(shape[0])]))
    cols = [f"g{j}" for j in range(shape[1])]
    audit(suppression.suppress(df, cols, "area"), [*cols, "total"])


def test_drill_down_keeps_the_parent_cells(wh, small_db):
    """A town's table shows in its total row exactly what the county table shows for it."""
    for path, county in ((wh, "320813"), (small_db, "320813")):
        up = suppression.display(population.special_groups(FULL, county, path=path))
        for code in up["area_code"].drop_nulls().to_list():
            down = suppression.display(population.special_groups(FULL, code, path=path))
            assert down.filter(pl.col("area_code").is_null()).select([*GROUPS, "total"]).row(0) == \
                up.filter(pl.col("area_code") == code).select([*GROUPS, "total"]).row(0)
            audit(population.special_groups(FULL, code, path=path), [*GROUPS, "total"])


def test_grid_level_rows_match_their_village_tables(wh):
    grids = population.special_groups_at(FULL, "320813", "grid", path=wh)
    assert sorted(grids["area_code"].to_list()) == [GA, GB, GC, GD]
    village = suppression.display(population.special_groups(FULL, V1, path=wh))
    ga = suppression.display(grids).filter(pl.col("area_code") == GA).select(GROUPS).row(0)
    assert ga == village.filter(pl.col("area_code") == GA).select(GROUPS).row(0)


def test_exports_hold_no_small_cells(wh, small_db):
    from ui.download import to_csv

    ds = datasets.get("special_groups", FULL, area="320813", path=wh)
    assert ds.schema["is_mental"] == pl.Int64 and "suppressed" in ds.columns
    back = pl.read_csv(io.BytesIO(to_csv(ds)))
    for c in [*GROUPS, "total"]:
        assert not back[c].drop_nulls().is_between(1, 4).any()
    assert back.filter(pl.col("area_name") == "乙镇")["suppressed"][0] == "刑释解教; 严重精神障碍"
    big = datasets.get("special_groups", WALL, area="320813103", path=small_db)
    suppression.check(big.select([*GROUPS, "total"]))
    assert big["suppressed"].str.len_chars().sum() > 0


def test_check_rejects_a_small_cell():
    with pytest.raises(ValueError):
        suppression.check(pl.DataFrame({"is_drug": [0, 3, 9]}))


def test_scope_is_enforced(wh):
    with pytest.raises(PermissionError):
        population.special_groups(Scope((T2,), person_level=False, name="town"), "320813", path=wh)
    own = population.residents_by_area(Scope((T2,), name="town"), T2, path=wh)
    assert own["residents"].sum() == 10


# ---------------------------------------------------------------- staffing


def test_staffing_by_hand(wh):
    st = population.staffing(FULL, "320813", path=wh)
    assert st["area_code"].to_list() == [T2, T1]  # T2 misses three targets, T1 two
    t2, t1 = st.to_dicts()
    # T1: 17 residents, 2 floating; patrol 0, volunteers 1, wardens 1; grids A ok, B 1+1, C 0+3
    assert t1["patrol_per_10k"] == 0 and t1["patrol_needed"] == 1
    assert t1["volunteer_share"] == pytest.approx(1 / 17) and t1["volunteer_attainment"] == pytest.approx(100 / 17)
    assert t1["floating_per_warden"] == 2 and t1["warden_attainment"] == 200
    assert (t1["grids"], t1["grids_staffed"], t1["grids_staffed_share"]) == (3, 1, pytest.approx(1 / 3))
    assert t1["shortfalls"] == 2
    # T2: 10 residents, all floating; patrol 1 (1,000 per 10k), no volunteers, no warden, D 1+1
    assert t2["patrol_per_10k"] == 1000 and t2["patrol_attainment"] == 100
    assert t2["volunteers_needed"] == 1 and t2["wardens_needed"] == 1 and t2["warden_attainment"] == 0
    assert t2["floating_per_warden"] is None and t2["grids_staffed_share"] == 0
    assert t2["shortfalls"] == 3
    # below town level the town itself is shown
    assert population.staffing(FULL, GB, path=wh)["area_code"].to_list() == [T1]


def test_datasets_registered(wh):
    names = datasets.all_datasets()
    assert {"population", "special_groups", "staffing"} <= set(names)
    pop = datasets.get("population", FULL, area="320813", path=wh)
    assert pop.filter(pl.col("area_code") == T1)["lives_alone"][0] == 2


# ---------------------------------------------------------------- the page


def _special_frame(at):
    for df in at.dataframe:
        v = df.value
        if "严重精神障碍" in v.columns or "Serious mental illness" in v.columns:
            return v
    raise AssertionError("special groups table not found")


def test_page_in_chinese(small_db):
    from tests.apptest import open_page

    at = open_page("population")
    assert not at.exception
    s = population.summary(FULL, "320813", path=small_db)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["实有人口"] == f"{s['residents'] / 10_000:,.1f}万" if s["residents"] >= 100_000 \
        else metrics["实有人口"] == f"{s['residents']:,}"
    assert metrics["户数"].replace(",", "") == str(s["households"])
    table = _special_frame(at)
    for c in table.columns[2:]:
        assert not table[c].isin(["1", "2", "3", "4"]).any()
    assert (table == "*").to_numpy().any()


def test_page_in_english_on_a_town(small_db):
    from tests.apptest import open_page

    at = open_page("population")
    assert not at.exception
    at.selectbox(key="f_town").set_value("320813103").run()  # drill into 岔河镇
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert "Residents" in [m.label for m in at.metric]
    assert "岔河镇" in at.title[0].value
    table = _special_frame(at)
    assert "Total" in table.columns and not table["Total"].isin(["1", "2", "3", "4"]).any()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_page_in_chromium(app_url, chromium, artifacts):
    from tests.browser import wait_ready

    # Streamlit scrolls inside its own container: a tall window shows the whole page
    page = chromium.new_page(viewport={"width": 1440, "height": 4200})
    page.goto(app_url + "/population?area=320813&lang=zh")
    wait_ready(page, timeout_ms=120_000)
    page.get_by_text("人员配备对标（未达标在前）").wait_for(timeout=120_000)  # the last section: the run got there
    wait_ready(page, timeout_ms=120_000)
    page.screenshot(path=str(artifacts / "population_1440.png"))
    assert "人口与重点人群" in page.inner_text("h1")
    body = page.inner_text("body")
    assert "重点人群（汇总）" in body and "Traceback" not in body
    page.close()


def _equations(table: pl.DataFrame, name: str, cols: list[str], alias: dict) -> tuple[list, dict]:
    """Row and column equations of one suppressed table (margins last) over named cells, and
    which of its cells are hidden. alias maps a cell to the name it shares with another table."""
    hidden = table.select(suppression.HIDDEN_PREFIX + c for c in cols).to_numpy().astype(bool)
    rows, ncols = hidden.shape

    def var(i, j):
        return alias.get((name, i, j), (name, i, j))
    eqs = [{var(i, j): -1 if j == ncols - 1 else 1 for j in range(ncols)} for i in range(rows)]
    eqs += [{var(i, j): -1 if i == rows - 1 else 1 for i in range(rows)} for j in range(ncols)]
    return eqs, {var(i, j): bool(hidden[i, j]) for i in range(rows) for j in range(ncols)}


def test_no_cell_follows_from_the_county_and_town_tables_together(small_db):
    """Drill-down tables share cells (a town's row above = its total row below); solve all of
    them at once and check that still no hidden cell is determined."""
    cols = [*GROUPS, "total"]
    county = population.special_groups(FULL, "320813", path=small_db)
    eqs, hidden = _equations(county, "county", cols, {})
    for i, code in enumerate(county["area_code"].to_list()):
        if code is None:
            continue
        town = population.special_groups(FULL, code, path=small_db)
        last = town.height - 1
        alias = {(code, last, j): ("county", i, j) for j in range(len(cols))}
        more, flags = _equations(town, code, cols, alias)
        eqs += more
        hidden |= flags
    unknown = {v: k for k, v in enumerate(v for v, h in hidden.items() if h)}
    a = np.zeros((len(eqs), len(unknown)))
    for r, eq in enumerate(eqs):
        for v, coef in eq.items():
            if v in unknown:
                a[r, unknown[v]] = coef
    # one SVD: a hidden cell is determined iff the null space is zero in its coordinate
    _, sv, vt = np.linalg.svd(a, full_matrices=True)
    null = vt[int(np.sum(sv > 1e-9)):]
    exposed = [v for v, k in unknown.items() if np.abs(null[:, k]).max(initial=0) < 1e-9]
    assert len(unknown) > 50 and exposed == []


@pytest.mark.parametrize("born, on, age", [
    (date(2000, 12, 1), date(2026, 11, 24), 25),   # calendar years crossed would say 26
    (date(1966, 11, 1), date(2026, 11, 24), 60),   # birth month reached: a year older
    (date(1966, 11, 1), date(2026, 10, 31), 59),
    (date(1966, 12, 1), date(2026, 11, 24), 59),   # not 60+ yet
    (date(2000, 3, 1), date(2026, 2, 28), 25),
])
def test_age_counts_completed_years(born, on, age):
    import duckdb

    from warehouse.definitions import AGE, sql

    got = duckdb.sql(f"SELECT {sql(AGE, '$now')} FROM (SELECT $born AS birth_month)",
                     params={"now": datetime.combine(on, datetime.min.time()), "born": born}).fetchall()
    assert got == [(age,)]
