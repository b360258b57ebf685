"""Grid heatmap and grid profile pages: AppTest at every drill level, and Chromium screenshots
proving the polygons render offline (no basemap) at 1920×1080."""

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page
from ui import i18n
from warehouse import geo
from warehouse.db import FULL

GRID = "320813001001002"


def open_direct(page: str, **query) -> AppTest:
    """Run app.py with URL parameters (the filters read them), then open the page."""
    key = {"pages/map.py": "map", "pages/grid.py": "grid"}[page]
    return open_page(key, **({"grain": "month", "period": "2026-10"} | query))


@pytest.mark.parametrize("area,level,n_expected", [
    ("320813", "town", None), ("320813001", "village", None), ("320813001001", "grid", None),
    (GRID, "grid", None)])
def test_map_at_each_drill_level(small_db, area, level, n_expected):
    at = open_direct("pages/map.py", area=area)
    assert not at.exception
    values = geo.map_values(FULL, area, date(2026, 10, 1), date(2026, 11, 1), path=small_db)
    assert geo.map_level(area)[0] == level
    assert len(at.get("deck_gl_json_chart")) == 1
    table = at.dataframe[0].value
    assert len(table) == values.height > 1
    # the table shows the same values as the warehouse, highest first
    top = values.sort("rank_cases_per_1k").row(0, named=True)
    assert table.iloc[0]["代码"] == top["code"]
    assert any(f"共 {values.height} 个" in c.value for c in at.caption)


def test_map_controls_overlay_window_binning_hexagons(small_db):
    at = open_direct("pages/map.py", area="320813001")
    at.segmented_control(key="map_overlay").set_value("red").run()
    assert not at.exception
    metric = at.selectbox(key="map_metric_red_village")
    assert metric.options[0] == "网格力量配备率（1+2）"
    at.radio(key="map_binning").set_value("fixed").run()
    at.select_slider(key="map_window_2026-10").set_range(date(2026, 1, 1), date(2026, 10, 1)).run()
    assert not at.exception
    assert any("2026年1月 – 2026年10月" in c.value for c in at.caption)
    at.radio(key="map_mode").set_value("hexagons").run()
    assert not at.exception and len(at.get("deck_gl_json_chart")) == 1


def test_play_steps_through_the_window_and_stops(small_db):
    at = open_direct("pages/map.py", area="320813001")
    at.select_slider(key="map_window_2026-10").set_range(date(2026, 9, 1), date(2026, 10, 1)).run()
    at.button(key="map_play").click().run()
    assert not at.exception
    assert at.session_state["map_playing"] is False and at.session_state["map_play_at"] == date(2026, 10, 1)


def test_offline_by_default_and_tiles_when_configured(monkeypatch, tmp_path):
    import pydeck as pdk

    from ui import map as umap

    monkeypatch.delenv("MAP_TILE_URL", raising=False)
    view = pdk.ViewState(longitude=118.8, latitude=33.2, zoom=10)
    assert umap.tile_url() is None  # the shipped config/map.yaml sets no tile URL
    deck = umap.polygon_deck([], [], view)
    assert deck.map_style == umap.NO_BASEMAP and [layer.type for layer in deck.layers] == ["PolygonLayer", "TextLayer"]
    (tmp_path / "map.yaml").write_text('map:\n  tile_url: "http://cfg.local/{z}/{x}/{y}.png"\n')
    monkeypatch.setattr(umap, "CONFIG", tmp_path / "map.yaml")
    assert umap.tile_url() == "http://cfg.local/{z}/{x}/{y}.png"
    monkeypatch.setenv("MAP_TILE_URL", "http://tiles.local/{z}/{x}/{y}.png")
    tiles = umap.tile_layers(view)
    assert 1 < len(tiles) <= 64 and all(t.type == "BitmapLayer" for t in tiles)
    w, s, e, n = tiles[0].bounds
    assert w < 118.8 < w + 360 / 2 ** 10 * 8 and s < n
    assert "tiles.local/10/" in str(tiles[0].image)


def test_map_in_english(small_db):
    i18n.set_lang("en")  # AppTest formats widget options outside the script run
    try:
        at = open_direct("pages/map.py", area="320813", lang="en")
        assert not at.exception
        assert "Grid heatmap" in at.title[0].value
        assert any("Showing 10 towns / streets" in c.value for c in at.caption)
    finally:
        i18n.set_lang("zh")


def test_grid_profile_by_url(small_db):
    at = open_direct("pages/grid.py", grid=GRID)
    assert not at.exception
    assert at.title[0].value.startswith("临河社区第2网格")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["实有人口"] == "93" and metrics["专职网格员"] == "1 / 1"
    assert len(at.get("deck_gl_json_chart")) == 1
    groups = at.dataframe[0].value
    assert set(groups.iloc[:, 2]) <= {"*"} | {str(i) for i in range(0, 1000)} - {"1", "2", "3", "4"}


def test_grid_profile_without_a_grid_asks_for_one(small_db):
    at = open_direct("pages/grid.py", area="320813001")
    assert not at.exception
    assert "请在左侧选择一个网格" in at.info[0].value


def test_grid_profile_from_the_area_filter(small_db):
    at = open_direct("pages/grid.py", area=GRID)
    assert not at.exception and at.title[0].value.startswith("临河社区第2网格")


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_map_renders_polygons_offline(app_url, chromium, artifacts):
    import numpy as np
    from PIL import Image

    from tests.browser import shot

    out = artifacts / "grid_map_1920x1080.png"
    page = shot(chromium, app_url + "/map?area=320813&grain=month&period=2026-10&lang=zh", out, size=(1920, 1080))
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=180_000)
    page.keyboard.press("Escape")  # a deep link can raise Streamlit's "page not found" toast first
    page.wait_for_timeout(2500)
    page.screenshot(path=str(out))
    box = page.locator('[data-testid="stDeckGlJsonChart"]').first.bounding_box()
    assert "网格热力" in page.inner_text("h1")
    page.close()
    img = np.asarray(Image.open(out).convert("RGB").crop(
        (int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"])))).reshape(-1, 3)
    colours, counts = np.unique(img, axis=0, return_counts=True)
    background = colours[counts.argmax()].astype(int)
    coloured = int((np.abs(img.astype(int) - background).sum(axis=1) > 60).sum())
    px = img
    assert coloured > 0.2 * len(px), f"map canvas looks blank: {coloured} of {len(px)} pixels differ"


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_grid_profile_in_chromium(app_url, chromium, artifacts):
    from tests.browser import shot

    page = shot(chromium, app_url + f"/grid?grid={GRID}&lang=zh", artifacts / "grid_profile_1920x1080.png",
                size=(1920, 1080), full_page=True)
    assert "临河社区第2网格" in page.inner_text("h1")
    page.close()


def test_map_and_grid_labels_have_exactly_both_languages():
    from pathlib import Path

    import yaml

    for name in ("map.yaml", "grid.yaml"):
        table = yaml.safe_load((Path(i18n.LABEL_DIR) / name).read_text(encoding="utf-8"))
        bad = {k: v for k, v in table.items() if set(v) != {"zh", "en"} or not all(v.values())}
        assert not bad, bad  # e.g. an unquoted "1,000" splits a flow mapping
