"""The demo county: determinism, referential integrity, nesting and realism."""

import json

import duckdb
import pytest
import shapely
from shapely.geometry import shape

from etl.demo.build import build
from tests.conftest import AS_OF, SEED


def table_digest(path, table):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM {table}").fetchall()
    finally:
        con.close()


def test_same_seed_same_warehouse(small_db, tmp_path):
    again = tmp_path / "again.duckdb"
    build(again, seed=SEED, scale="small", as_of=AS_OF, show_progress=False)
    for t in ("area", "person", "cases", "case_event", "opinion_post", "ssra", "survey_response"):
        assert table_digest(small_db, t) == table_digest(again, t), t


def test_other_seed_other_warehouse(small_db, tmp_path):
    other = tmp_path / "other.duckdb"
    build(other, seed=SEED + 1, scale="small", as_of=AS_OF, show_progress=False)
    assert table_digest(small_db, "cases") != table_digest(other, "cases")


def test_every_case_has_a_grid_and_every_event_a_case(con):
    assert con.sql("""SELECT count(*) FROM cases c LEFT JOIN area a ON a.code = c.area_code
                      WHERE a.level IS DISTINCT FROM 'grid'""").fetchall()[0][0] == 0
    assert con.sql("""SELECT count(*) FROM case_event e ANTI JOIN cases c USING (case_id)""").fetchall()[0][0] == 0
    assert con.sql("""SELECT count(*) FROM person p ANTI JOIN area a ON a.code = p.area_code""").fetchall()[0][0] == 0


def test_cases_agree_with_their_event_log(con):
    bad = con.sql("""
        WITH d AS (
          SELECT case_id,
                 min(occurred_at) FILTER (WHERE step = 'report') rep,
                 min(occurred_at) FILTER (WHERE step = 'accept') acc,
                 min(occurred_at) FILTER (WHERE step = 'dispatch') dis,
                 max(occurred_at) FILTER (WHERE step = 'handle') han,
                 min(occurred_at) FILTER (WHERE step = 'verify') ver,
                 min(occurred_at) FILTER (WHERE step = 'close') clo,
                 count(*) FILTER (WHERE step = 'return') ret,
                 bool_or(step = 'escalate') esc,
                 max(seq) mx, count(*) n
          FROM case_event GROUP BY case_id)
        SELECT count(*) FROM cases c JOIN d USING (case_id)
        WHERE c.reported_at <> d.rep OR c.accepted_at IS DISTINCT FROM d.acc
           OR c.dispatched_at IS DISTINCT FROM d.dis OR c.handled_at IS DISTINCT FROM d.han
           OR c.verified_at IS DISTINCT FROM d.ver OR c.closed_at IS DISTINCT FROM d.clo
           OR c.returned_count <> d.ret OR c.escalated <> d.esc OR d.mx <> d.n""").fetchall()[0][0]
    assert bad == 0


def test_event_order_matches_time_and_loop(con):
    # seq order never goes back in time, and the loop starts with report and ends with close
    assert con.sql("""SELECT count(*) FROM (SELECT occurred_at < lag(occurred_at) OVER w AS back
                      FROM case_event WINDOW w AS (PARTITION BY case_id ORDER BY seq)) WHERE back""").fetchall()[0][0] == 0
    assert con.sql("SELECT count(*) FROM case_event WHERE seq = 1 AND step <> 'report'").fetchall()[0][0] == 0
    assert con.sql("""SELECT count(*) FROM cases WHERE (status = 'closed') <> (closed_at IS NOT NULL)""").fetchall()[0][0] == 0


def test_polygons_valid_and_nested(con):
    rows = con.sql("SELECT code, parent_code, level, geometry FROM area").fetchall()
    geoms = {c: shape(json.loads(g)) for c, _, _, g in rows}
    for code, parent, level, _ in rows:
        g = geoms[code]
        assert g.is_valid and not g.is_empty, code
        if level in ("village", "grid"):
            outside = g.difference(geoms[parent]).area
            assert outside <= 0.005 * g.area, code  # coordinates are rounded to ~1 m
    for level in ("town", "village"):
        for code, _, lv, _ in rows:
            if lv != level:
                continue
            kids = [geoms[c] for c, p, _, _ in rows if p == code]
            union = shapely.union_all(kids)
            assert abs(union.area - geoms[code].area) / geoms[code].area < 0.01, code
            assert sum(k.area for k in kids) <= union.area * 1.001, f"children of {code} overlap"


@pytest.fixture(scope="module")
def county(county_db):
    c = duckdb.connect(str(county_db), read_only=True)
    yield lambda sql: c.sql(sql).fetchall()[0]
    c.close()


def test_county_scale_and_shape(county):
    assert county("SELECT count(*) FROM area WHERE level='town'")[0] == 10
    assert county("SELECT count(*) FROM area WHERE level='village'")[0] == 126
    assert 700 <= county("SELECT count(*) FROM area WHERE level='grid'")[0] <= 900
    assert 360_000 <= county("SELECT count(*) FROM person")[0] <= 400_000
    per_year = county("SELECT count(*) / 3.0 FROM cases")[0]
    assert 30_000 <= per_year <= 50_000
    assert 130 <= county("SELECT count(*) FROM ssra")[0] <= 170
    assert county("SELECT count(DISTINCT survey_period) FROM survey_response")[0] >= 11


def test_county_realism_ranges(county):
    # 小事不出村、大事不出镇: ~95% of disputes resolved at town level or below
    lvl = county("""SELECT avg((resolved_level <> 'county')::INT) FROM cases
                    WHERE category = '矛盾纠纷' AND resolved_level IS NOT NULL""")[0]
    assert 0.93 <= lvl <= 0.985
    sat = county("""SELECT avg((satisfaction IN ('满意','基本满意'))::INT) FROM cases
                    WHERE satisfaction IS NOT NULL""")[0]
    assert 0.90 <= sat <= 0.96  # seeds: 93%
    sec = county("SELECT avg((sense_of_security IN ('安全','基本安全'))::INT) FROM survey_response")[0]
    assert 0.94 <= sec <= 0.985  # seeds: ≥ 96%
    floating = county("SELECT avg((residence_type = '流动')::INT) FROM person")[0]
    assert 0.06 <= floating <= 0.16
    corr, rel, mental, old60 = county("""SELECT sum(is_corrections::INT), sum(is_released::INT),
        sum(is_mental::INT), avg((birth_month <= DATE '1966-11-01')::INT) FROM person""")
    assert 80 <= corr <= 300 and 300 <= rel <= 900 and 1000 <= mental <= 2200
    assert 0.18 <= old60 <= 0.32


def test_county_variation_that_makes_rankings_mean_something(county):
    spread = county("""SELECT max(r) - min(r) FROM (
        SELECT substr(area_code, 1, 9) t, avg((handled_at > deadline_at OR handled_at IS NULL)::INT) r
        FROM cases GROUP BY t)""")[0]
    assert spread > 0.04
    by_type = county("""SELECT max(r) - min(r) FROM (SELECT case_type,
        avg((returned_count > 0)::INT) r FROM cases GROUP BY case_type)""")[0]
    assert by_type > 0.03


def test_seasonality_and_injected_situations(county):
    jan, jun = county("""SELECT count(*) FILTER (WHERE month(reported_at) = 1),
        count(*) FILTER (WHERE month(reported_at) = 6) FROM cases WHERE case_type = '劳动争议欠薪'""")
    assert jan > 2 * jun  # unpaid wages before Spring Festival
    # dispute cluster: the busiest grid of the last 40 days stands far above the typical grid
    top, median = county("""SELECT max(n), median(n) FROM (SELECT area_code, count(*) n FROM cases
        WHERE category = '矛盾纠纷' AND reported_at >= TIMESTAMP '2026-10-15' GROUP BY area_code)""")
    assert top > 8 * median
    # opinion spike about 征地拆迁 in 三河镇 in the last 12 days vs its own earlier rate
    recent, before = county("""SELECT count(*) FILTER (WHERE published_at >= TIMESTAMP '2026-11-12'),
        count(*) FILTER (WHERE published_at < TIMESTAMP '2026-11-12' AND published_at >= TIMESTAMP '2026-08-14')
        FROM opinion_post WHERE topic = '征地拆迁' AND area_code LIKE '320813106%'""")
    assert recent > 5 * before / 7.5
