"""The second county (金湖县 320831) served by a real Streamlit server and opened in Chromium:
its name on every page, no exception box, no 洪泽 anywhere, the map's view centred inside
the county's outline; its monthly report is about 金湖.

The default run opens the map and the wall (one server, one browser); every page is the
slow test (`-m slow`)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from etl import boundaries
from etl.load import load_file
from tests.browser import streamlit_server, wait_ready
from ui.nav import PAGES

C2 = Path(__file__).parent / "data" / "county2"
NOW = datetime(2024, 6, 1)
BBOX = (118.814312, 32.798908, 119.364171, 33.212555)  # 金湖县's outline (GCJ-02): tests/test_county2.py
QUERY = {"grid": "&grid=320831001001001"}  # the grid profile asks for a grid first
VIEW = re.compile(rb'"initialViewState":\s*\{[^}]*\}')


@pytest.fixture(scope="module")
def county2_db(tmp_path_factory) -> Path:
    wh = tmp_path_factory.mktemp("county2_browser") / "wh.duckdb"
    for e in yaml.safe_load((C2 / "manifest.yaml").read_text(encoding="utf-8")):
        if e["kind"] == "boundaries":
            boundaries.load(C2 / e["file"], wh, datum=e["datum"], now=NOW)
        else:
            load_file(C2 / e["file"], e["kind"], wh, now=NOW)
    return wh


@pytest.fixture(scope="module")
def county2_url(county2_db):
    with streamlit_server(county2_db) as url:
        yield url


def visit(chromium, url: str, key: str, out: Path) -> dict:
    """Open one page; its text, exception boxes and the deck view states it was sent."""
    page = chromium.new_page(viewport={"width": 1920, "height": 1080})
    views: list[dict] = []

    def frames(ws):
        def got(payload):
            data = payload if isinstance(payload, bytes) else payload.encode()
            for m in VIEW.finditer(data.replace(b'\\"', b'"')):
                views.append(json.loads(m.group(0).split(b":", 1)[1]))
        ws.on("framereceived", got)

    page.on("websocket", frames)
    try:
        page.goto(f"{url}/{'' if key == 'home' else key}?lang=zh{QUERY.get(key, '')}")
        # the run has drawn the page once the county's name is there (a cold first run takes a while)
        page.wait_for_function("document.body.innerText.includes('金湖') || document.querySelector('h1')",
                               timeout=180_000)
        wait_ready(page, 180_000)
        if key == "map":
            page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=180_000)
        if key in ("map", "wall"):
            page.wait_for_timeout(4000)  # the deck / SVG draws after the run
        page.keyboard.press("Escape")
        page.screenshot(path=str(out), timeout=120_000)
        inputs = page.eval_on_selector_all("input", "els => els.map(e => e.value).join(' ')")  # select boxes
        return {"text": page.inner_text("body") + "\n" + inputs, "exceptions": page.locator('[data-testid="stException"]').count(),
                "views": views}
    finally:
        page.close()


def check(got: dict, key: str) -> None:
    assert got["exceptions"] == 0, f"{key}: exception box"
    assert "金湖" in got["text"], f"{key}: the county's name is not on the page"
    assert "洪泽" not in got["text"], f"{key}: 洪泽 on the second county's page"


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_map_and_wall_are_about_jinhu(county2_url, chromium, artifacts):
    for key in ("map", "wall"):
        got = visit(chromium, county2_url, key, artifacts / f"county2_{key}_1920x1080.png")
        check(got, key)
        if key == "map":
            assert got["views"], "no deck view state received"
            for v in got["views"]:
                assert BBOX[0] < v["longitude"] < BBOX[2] and BBOX[1] < v["latitude"] < BBOX[3], v
                # the whole county in the 850 px the view is fitted for (not only its outlined towns)
                assert 850 * 360 / (512 * 2 ** v["zoom"]) >= BBOX[2] - BBOX[0], v


@pytest.mark.slow  # 12 pages at 5–20 s each (over a minute each at load average 30)
@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("key", [p.key for p in PAGES])
def test_every_page_is_about_jinhu(county2_url, chromium, artifacts, key):
    check(visit(chromium, county2_url, key, artifacts / f"county2_{key}_1920x1080.png"), key)


def test_the_view_fits_the_parent_not_only_the_outlined_children():
    import polars as pl

    from ui.map import view_for

    square = '{"type": "Polygon", "coordinates": [[[119.0, 33.0], [119.0, 33.02], [119.02, 33.02], [119.0, 33.0]]]}'
    alone, whole = view_for(pl.DataFrame({"geometry": [square]})), view_for(pl.DataFrame({"geometry": [square]}),
                                                                            within=BBOX)
    assert alone.zoom > 12 and 9 < whole.zoom < 10  # 0.41° of latitude in 620 px, 0.3 zoom levels of air
    assert (whole.longitude, whole.latitude) == pytest.approx(((BBOX[0] + BBOX[2]) / 2, 33.0058), abs=1e-3)


def test_the_monthly_report_is_about_jinhu(county2_db):
    from warehouse.periods import parse
    from warehouse.report.compose import build
    from warehouse.scope import FULL

    r = build(FULL, "320831", parse("2024-03", "month"), path=county2_db, with_charts=False)
    text = r.text() if callable(getattr(r, "text", None)) else "\n".join(b.text for b in r.blocks if b.text)
    assert r.issuer == "金湖县社会治理联动指挥中心" and "2024年3月金湖县治安形势分析" in text
    assert "洪泽" not in text
