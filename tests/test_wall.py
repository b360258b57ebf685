"""Wall display: hand-checked figures, the aggregate-only guard, no personal data, and a real
browser at 1920×1080 and 3840×2160 (fills the screen, no chrome, Chinese glyphs, live refresh)."""

from __future__ import annotations

import re
import shutil
import time
from datetime import date, datetime, timedelta

import polars as pl
import pytest

from tests.apptest import open_page
from tests.fixtures import empty_warehouse, insert
from ui import wall as ui_wall
from warehouse import db, marts
from warehouse import wall as ww
from warehouse.db import FULL, WALL

NOW = datetime(2026, 11, 24, 10, 0)
GRID = "320813001001001"
PANELS = ("header", "clock", "kpi", "trend", "towns", "map", "ticker", "warnings", "freshness")


def _case(cid, channel, reported, status, deadline, accepted=None, handled=None, closed=None,
          solved=None, satisfaction=None, case_type="邻里纠纷"):
    return {"case_id": cid, "case_type": case_type, "category": "矛盾纠纷", "source_channel": channel,
            "area_code": GRID, "description": f"{cid} 的案情文字", "reporter_masked": "王*明",
            "phone_masked": "139****0001", "reported_at": reported, "accepted_at": accepted,
            "handled_at": handled, "closed_at": closed, "deadline_at": deadline, "status": status,
            "citizen_resolved": solved, "satisfaction": satisfaction}


@pytest.fixture(scope="module")
def hand_db(tmp_path_factory):
    """One town, one village, one grid, six cases and seven survey answers (see the test)."""
    path = empty_warehouse(tmp_path_factory.mktemp("wall") / "hand.duckdb")
    insert(path, "area", [
        {"code": "320813", "name": "洪泽区", "level": "county", "parent_code": None,
         "geometry": '{"type":"Polygon","coordinates":[[[118,33],[119,33],[119,34],[118,33]]]}'},
        {"code": "320813001", "name": "甲镇", "level": "town", "parent_code": "320813",
         "geometry": '{"type":"Polygon","coordinates":[[[118,33],[119,33],[119,34],[118,33]]]}'},
        {"code": "320813001001", "name": "乙村委会", "level": "village", "parent_code": "320813001",
         "geometry": '{"type":"Polygon","coordinates":[[[118,33],[119,33],[119,34],[118,33]]]}'},
        {"code": GRID, "name": "乙村第1网格", "level": "grid", "parent_code": "320813001001", "geometry": None},
    ], rebuild_marts=False)  # the wall reads base tables only
    d = datetime
    insert(path, "cases", [
        # today, open, 12345 accepted after 30 min (responded)
        _case("c1", "12345", d(2026, 11, 24, 8), "accepted", d(2026, 11, 25), accepted=d(2026, 11, 24, 8, 30)),
        # open and overdue; 12345 accepted after 3 h (not responded)
        _case("c2", "12345", d(2026, 11, 20, 9), "dispatched", d(2026, 11, 22), accepted=d(2026, 11, 20, 12)),
        # closed in the window: solved and satisfied
        _case("c3", "12345", d(2026, 11, 10), "closed", d(2026, 11, 15), accepted=d(2026, 11, 10, 1),
              handled=d(2026, 11, 11), closed=d(2026, 11, 12), solved=True, satisfaction="满意"),
        # closed in the window: not solved, not satisfied
        _case("c4", "12345", d(2026, 11, 5), "closed", d(2026, 11, 9), accepted=d(2026, 11, 5, 0, 30),
              handled=d(2026, 11, 6), closed=d(2026, 11, 6), solved=False, satisfaction="不满意"),
        # today, open, overdue since 09:30; a grid worker's report, the latest case
        _case("c5", "网格员巡查", d(2026, 11, 24, 9), "reported", d(2026, 11, 24, 9, 30), case_type="治安隐患"),
        # closed long before the 30-day window: no effect on the rates
        _case("c6", "12345", d(2026, 9, 1), "closed", d(2026, 9, 5), accepted=d(2026, 9, 1, 0, 10),
              handled=d(2026, 9, 2), closed=d(2026, 9, 3), solved=False, satisfaction="不满意"),
    ], rebuild_marts=False)
    insert(path, "case_event", [{"case_id": "c1", "seq": 1, "step": "accept", "occurred_at": NOW}], rebuild_marts=False)
    answers = [("2026-07-01", "安全"), ("2026-07-01", "基本安全"), ("2026-07-01", "不太安全"),
               ("2026-07-01", None), ("2026-04-01", "不安全"), ("2026-04-01", "不安全"), ("2026-04-01", "安全")]
    insert(path, "survey_response", [
        {"response_id": f"r{i}", "survey_period": date.fromisoformat(p), "area_code": GRID,
         "sense_of_security": s} for i, (p, s) in enumerate(answers)])
    return path


def test_headline_matches_hand_count(hand_db):
    h = ww.headline(WALL, path=hand_db)
    assert (h["cases_today"], h["open"], h["open_overdue"], h["cases_7d"]) == (2, 3, 2, 3)
    # 12345 within 30 days: c1..c4 called, c1 c3 c4 answered within 2 h; c3 c4 closed, c3 solved+satisfied
    assert h["rate_response"] == pytest.approx(3 / 4)
    assert h["rate_solved"] == pytest.approx(1 / 2)
    assert h["rate_satisfied"] == pytest.approx(1 / 2)
    # latest quarter 2026-07: 安全 + 基本安全 among the three who answered
    assert h["safety"] == pytest.approx(2 / 3) and h["safety_quarter"] == date(2026, 7, 1)


def test_rate_cards_against_targets_and_the_window_before(hand_db):
    h = ww.headline(WALL, path=hand_db)
    # the 30 days before the window (Sep 25 – Oct 25) hold no 12345 case: no change to show
    assert h["prev_rate_response"] is None and h["prev_rate_solved"] is None
    # the survey quarter before 2026-07 (2026-04): 1 of 3 felt safe
    assert h["prev_safety"] == pytest.approx(1 / 3)
    s = ww.kpi_status(h)
    assert s["safety"]["target"] == 0.96 and s["safety"]["rag"] == "red"
    assert s["safety"]["change"] == pytest.approx(2 / 3 - 1 / 3)
    assert s["rate_response"]["change"] is None and s["rate_response"]["rag"] == "red"  # 75% < 98%
    html = ui_wall.kpis(h)
    assert 'class="w-kpi rag-red" data-kpi="safety"' in html and "目标 96%" in html and "▲+33.3个百分点" in html


def test_map_trend_and_ticker_match_hand_count(hand_db):
    heat = {m: ww.village_heat(WALL, m, path=hand_db)["value"].to_list() for m in ("cases_7d", "open", "open_overdue")}
    assert heat == {"cases_7d": [3], "open": [3], "open_overdue": [2]}
    towns = ww.town_cases(WALL, path=hand_db)
    assert towns.select("name", "cases", "open").rows() == [("甲镇", 3, 3)]
    daily = ww.daily_cases(WALL, path=hand_db)
    assert daily.height == 14 and daily["cases"].sum() == 3
    assert dict(zip(daily["day"], daily["cases"]))[date(2026, 11, 24)] == 2
    tick = ww.ticker(WALL, path=hand_db)
    assert set(tick.columns) == {"case_type", "village", "town", "reported_at", "status"}
    assert tick.row(0, named=True) == {"case_type": "治安隐患", "village": "乙村委会", "town": "甲镇",
                                       "reported_at": datetime(2026, 11, 24, 9), "status": "reported"}


def test_every_wall_function_refuses_a_person_level_scope(hand_db):
    calls = [lambda s: ww.headline(s, path=hand_db), lambda s: ww.shapes(s, path=hand_db),
             lambda s: ww.village_heat(s, path=hand_db), lambda s: ww.town_cases(s, path=hand_db),
             lambda s: ww.daily_cases(s, path=hand_db), lambda s: ww.ticker(s, path=hand_db),
             lambda s: ww.warnings(s, "risk", path=hand_db), lambda s: ww.freshness(s, path=hand_db)]
    for fn in calls:
        with pytest.raises(PermissionError):
            fn(FULL)
        fn(WALL)  # the wall's own scope works


@pytest.mark.parametrize("column", ["person_key", "name_masked", "phone_masked", "reporter_masked",
                                    "description", "content", "author_hash"])
def test_guard_rejects_person_level_columns(column):
    with pytest.raises(ww.AggregateOnlyViolation):
        ww.assert_aggregate_only(pl.DataFrame({"name": ["甲镇"], column: ["x"]}))
    with pytest.raises(ww.AggregateOnlyViolation):
        ww.assert_aggregate_only({"cases": 1, column: "x"})


def test_warning_feed_is_cut_to_display_columns(hand_db, monkeypatch):
    leaky = pl.DataFrame({"area_name": ["乙村第1网格", "丙村第2网格"], "level": ["红", "黄"], "score": [5.0, 3.0],
                          "area_code": [GRID, GRID], "author_hash": ["a", "b"], "content": ["原帖", "帖"]})
    monkeypatch.setattr(ww, "_provider", lambda kind: lambda scope, path=None: leaky)
    df = ww.warnings(WALL, "risk", path=hand_db)
    assert df.columns == ["area_name", "level", "score"] and df["level"].to_list() == ["红"]
    monkeypatch.setattr(ww, "_provider", lambda kind: None)
    assert ww.warnings(WALL, "opinion", path=hand_db) is None  # module not there yet: empty panel


def test_last_good_figures_survive_a_failing_warehouse(small_db, monkeypatch, tmp_path):
    at = open_page("wall", play="0")
    assert not at.exception
    first = _wall_html(at)
    assert 'data-stale-keys=""' in first
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"half-written, not a warehouse")  # every query now fails
    monkeypatch.setenv("WAREHOUSE_DB", str(broken))
    at.run()
    assert not at.exception
    body = _wall_html(at)
    assert "data-stale-marker" in body and 'data-stale-keys=""' not in body
    assert _kpi(body, "open") == _kpi(first, "open") != "—"


def test_rotation_and_params():
    p = ui_wall.params_from({"refresh": "5", "rotate": "12", "play": "1"})
    assert (p.refresh, p.rotate, p.play, p.tick) == (5, 12, True, 5)
    assert p.step(now=120.0) == 10 and p.step(now=131.9) == 10 and p.step(now=132.0) == 11
    paused = ui_wall.params_from({"play": "0", "panel": "2", "refresh": "junk"})
    assert (paused.play, paused.step(now=999.0), paused.refresh, paused.tick) == (False, 2, 30, 30)
    assert ui_wall.short_place("曹庄村委会") == "曹庄村" and ui_wall.short_place("湖滨社区居委会") == "湖滨社区"


# ---------------------------------------------------------------- the page (AppTest)


def _wall_html(at) -> str:
    return next(h.proto.body for h in at.get("html") if 'id="wall"' in h.proto.body)


def _kpi(body: str, key: str) -> str:
    return re.search(rf'data-kpi="{key}">.*?class="value">([^<]*)<', body, re.S).group(1)


def test_wall_page_via_view_param_and_navigation(small_db):
    h = ww.headline(WALL, path=small_db)
    for at in (open_page("home", view="wall"), open_page("wall")):
        assert not at.exception
        body = _wall_html(at)
        for panel in PANELS:
            assert f'data-panel="{panel}"' in body
        assert "洪泽区社会治理联动指挥中心" in body
        assert _kpi(body, "open") == f"{h['open']:,}" and _kpi(body, "today") == f"{h['cases_today']:,}"
        assert not at.sidebar.selectbox  # the wall never draws the global filters


def test_paused_wall_shows_the_panel_named_in_the_url(small_db):
    body = _wall_html(open_page("home", view="wall", play="0", panel="1"))
    assert 'data-play="0"' in body and 'data-metric="open"' in body and 'data-kind="opinion"' in body
    assert "轮播已暂停" in body


def test_wall_in_english(small_db):
    at = open_page("home", view="wall", lang="en")
    assert not at.exception
    body = _wall_html(at)
    assert "Cases today" in body and "Latest cases" in body and "今日事件" not in body


def person_values(path) -> list[str]:
    """A sample of person-level values from the warehouse that must never reach the wall."""
    con = db.reader(path)
    picks = [
        "SELECT person_key, name_masked, phone_masked FROM person ORDER BY person_key LIMIT 40",
        "SELECT description, reporter_masked, phone_masked FROM cases ORDER BY reported_at DESC LIMIT 40",
        "SELECT content, author_hash FROM opinion_post ORDER BY published_at DESC LIMIT 40",
    ]
    values = {v for sql in picks for row in con.sql(sql).fetchall() for v in row if v}
    return sorted(values)


def assert_no_person_values(text: str, values: list[str]) -> None:
    leaked = [v for v in values if v in text]
    assert not leaked, f"person-level values on the wall: {leaked[:5]}"


def test_no_person_level_value_in_wall_html(small_db):
    values = person_values(small_db)
    assert len(values) > 200 and any("*" in v for v in values)
    at = open_page("home", view="wall")
    text = _wall_html(at) + "".join(m.value for m in at.markdown)
    assert "data-panel=\"ticker\"" in text
    assert_no_person_values(text, values)


# ---------------------------------------------------------------- real browser

LAYOUT_JS = """() => {
  const de = document.documentElement, main = document.querySelector('[data-testid="stMain"]');
  const visible = sel => [...document.querySelectorAll(sel)].some(e => {
      const r = e.getBoundingClientRect(), s = getComputedStyle(e);
      return r.width > 0 && r.height > 0 && s.display !== 'none' && s.visibility !== 'hidden'; });
  const wall = document.getElementById('wall').getBoundingClientRect();
  return {sh: de.scrollHeight, sw: de.scrollWidth, ih: innerHeight, iw: innerWidth,
          mainSh: main ? main.scrollHeight : 0, mainCh: main ? main.clientHeight : 0,
          mainSw: main ? main.scrollWidth : 0, mainCw: main ? main.clientWidth : 0,
          wall: [wall.left, wall.top, wall.width, wall.height],
          chrome: ['header[data-testid="stHeader"]', '[data-testid="stToolbar"]', '[data-testid="stSidebar"]',
                   'footer', '[data-testid="stStatusWidget"]', '[data-testid="stMainMenu"]',
                   '[data-testid="stDecoration"]'].filter(visible),
          panels: [...document.querySelectorAll('#wall [data-panel]')].filter(e => {
              const r = e.getBoundingClientRect();
              return r.width > 0 && r.height > 0 && r.bottom <= innerHeight + 1 && r.right <= innerWidth + 1;
          }).map(e => e.dataset.panel)};
}"""

# Draw a glyph on a canvas with the wall's font; a missing glyph draws the same box as an
# unassigned code point (tofu), a real CJK glyph does not.
GLYPH_JS = """() => {
  const font = getComputedStyle(document.getElementById('wall')).fontFamily;
  const draw = ch => { const c = document.createElement('canvas'); c.width = c.height = 64;
      const x = c.getContext('2d'); x.font = '48px ' + font; x.fillText(ch, 4, 52);
      return Array.from(x.getImageData(0, 0, 64, 64).data).join(','); };
  const tofu = draw('\\u0378');
  return {zhi: draw('指') !== tofu, hui: draw('挥') !== tofu, differ: draw('指') !== draw('挥')};
}"""


def _open_wall(chromium, url, size):
    from tests.browser import wait_ready

    page = chromium.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(url)
    wait_ready(page)
    page.wait_for_selector("#wall [data-panel=map] img.w-svg")
    return page


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_wall_fills_screen_in_chromium(app_url, chromium, artifacts, small_db):
    """1920×1080, then the same page resized to 3840×2160 (the layout depends on the viewport only)."""
    page = _open_wall(chromium, app_url + "/?view=wall&play=0", (1920, 1080))
    for size in ((1920, 1080), (3840, 2160)):
        if page.viewport_size != {"width": size[0], "height": size[1]}:
            page.set_viewport_size({"width": size[0], "height": size[1]})
            page.wait_for_timeout(1000)
        page.screenshot(path=str(artifacts / f"wall_{size[0]}x{size[1]}.png"), timeout=120_000)
        m = page.evaluate(LAYOUT_JS)
        assert m["sh"] <= m["ih"] and m["sw"] <= m["iw"], m
        assert m["mainSh"] <= m["mainCh"] and m["mainSw"] <= m["mainCw"], m
        assert m["wall"] == [0, 0, size[0], size[1]]
        assert m["chrome"] == [], f"Streamlit chrome visible: {m['chrome']}"
        assert set(PANELS) <= set(m["panels"]), m["panels"]
    assert page.evaluate(GLYPH_JS) == {"zhi": True, "hui": True, "differ": True}
    assert "社会治理联动指挥中心" in page.inner_text("#wall")
    assert_no_person_values(page.content(), person_values(small_db))
    page.close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_new_data_appears_without_reload(small_db, chromium, artifacts, tmp_path):
    from tests.browser import streamlit_server

    served = tmp_path / "served.duckdb"
    shutil.copyfile(small_db, served)
    refresh = 6  # seconds; the new figures must be on screen within two refresh periods
    with streamlit_server(served) as url:
        page = _open_wall(chromium, url + f"/?view=wall&refresh={refresh}&play=0", (1920, 1080))
        read_today = lambda: page.inner_text("#wall [data-kpi=today] .value")  # noqa: E731
        before = int(read_today().replace(",", ""))
        page.evaluate("() => { window.__marker = 1; }")
        now = db.reader(served).sql("SELECT max(occurred_at) FROM case_event").fetchall()[0][0]
        grid = db.reader(served).sql("SELECT min(code) FROM area WHERE level = 'grid'").fetchall()[0][0]
        with db.writing(served) as con:  # a load: five new cases this morning, swapped in atomically
            for i in range(5):
                con.execute("INSERT INTO cases (case_id, case_type, category, source_channel, area_code, "
                            "reported_at, deadline_at, status) VALUES (?, '噪声扰民', '城市管理', '12345', ?, ?, ?, "
                            "'reported')", [f"NEW{i}", grid, now - timedelta(minutes=1 + i), now + timedelta(days=1)])
            # the case mart the wall's counts read, refreshed as a load refreshes it
            con.execute((marts.MARTS_DIR / "20_case_flow.sql").read_text(encoding="utf-8"))
        swapped = time.monotonic()
        while read_today() != f"{before + 5:,}" and time.monotonic() - swapped < 2 * refresh:
            page.wait_for_timeout(200)
        latency = time.monotonic() - swapped
        shown = read_today()
        page.screenshot(path=str(artifacts / "wall_after_refresh.png"), timeout=120_000)
        assert shown == f"{before + 5:,}", f"new figures not shown {latency:.1f} s after the swap"
        assert "噪声扰民" in page.inner_text("#wall [data-panel=ticker]")
        assert page.evaluate("() => window.__marker") == 1, "the page was reloaded"
        (artifacts / "wall_refresh_latency.txt").write_text(f"{latency:.2f} s with refresh={refresh} s\n")
        page.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_wall_soak(small_db, tmp_path, artifacts):
    """Thirty minutes of refreshes (WALL_SOAK_MINUTES to change): no page errors; memory reported."""
    import importlib.util
    import json
    import os
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "wall_soak", Path(__file__).resolve().parent.parent / "benchmarks" / "wall_soak.py")
    soak = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soak)
    served = tmp_path / "soak.duckdb"
    shutil.copyfile(small_db, served)
    result = soak.soak(served, float(os.environ.get("WALL_SOAK_MINUTES", 30)), refresh=30, rotate=20)
    (artifacts / "wall_soak.json").write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    assert result["exceptions_on_page"] == 0 and result["end"]["renders"] > 0


def test_risk_map_is_the_highest_grid_score_per_village(small_db):
    risk = pytest.importorskip("warehouse.risk")
    grids = risk.grid_scores(WALL, None, path=small_db)
    top = grids.sort("score", descending=True).row(0, named=True)
    heat = ww.village_heat(WALL, "risk", path=small_db)
    assert set(heat.columns) == {"code", "name", "town_code", "value", "level"}
    row = heat.filter(pl.col("code") == top["area_code"][:12]).row(0, named=True)
    assert row["value"] == pytest.approx(top["score"]) and row["level"] == top["level"]


def test_town_scope_narrows_every_wall_figure(small_db):
    town = db.Scope(("320813103",), person_level=False, name="town-wall")
    tick = ww.ticker(town, n=30, path=small_db)
    assert tick.height == 30 and set(tick["town"]) == {"岔河镇"}
    heat = ww.village_heat(town, path=small_db)
    assert heat.height > 0 and all(c.startswith("320813103") for c in heat["code"])
    county = ww.headline(WALL, path=small_db)
    assert 0 < ww.headline(town, path=small_db)["open"] < county["open"]
