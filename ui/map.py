"""pydeck helpers for the grid heatmap and the grid profile inset: offline by default.

No basemap unless one is configured: outlines and labels come from the warehouse's `area`
table. A tile URL (env MAP_TILE_URL, else `map.tile_url` in config/map.yaml) adds an XYZ
raster basemap, drawn as one BitmapLayer per tile covering the view (Streamlit's deck.gl
JSON cannot express a TileLayer's JavaScript renderSubLayers).

Colours: cividis or viridis, both readable with the common colour-vision deficiencies; values
are binned by quantiles or by fixed thresholds per metric, and the legend states the unit.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pydeck as pdk

from warehouse import yamlfile

CONFIG = Path(__file__).resolve().parent.parent / "config" / "map.yaml"

# 6-step palettes, low → high. The default reads as a command centre expects: pale = low,
# red = high (ColorBrewer YlOrRd, which stays ordered for the common colour-vision
# deficiencies); risk uses the 蓝黄橙红 levels; cividis and viridis stay as alternatives.
# For a metric where high is good (staffing), the palette runs the other way round.
PALETTES = {
    "reds": ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
    "risk": ["#1e88e5", "#64b5f6", "#fdd835", "#fb8c00", "#e53935", "#b71c1c"],
    "cividis": ["#00224e", "#35456c", "#666970", "#948e77", "#c8b866", "#fee838"],
    "viridis": ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"],
}
NO_DATA = [210, 210, 210, 160]
OUTLINE = [255, 255, 255, 220]
HIGHLIGHT = [230, 50, 50, 255]

# How each metric is read: unit label key, fixed thresholds (upper bounds of the lower bins),
# and whether the value is a share (shown as %).
@dataclass(frozen=True)
class MetricStyle:
    unit: str
    thresholds: tuple[float, ...]
    share: bool = False
    digits: int = 1
    good_high: bool = False  # high values are good: the palette is reversed


METRIC_STYLES = {
    "cases_per_1k": MetricStyle("map.unit.per_1k_cases", (2, 5, 10, 20, 40)),
    "disputes": MetricStyle("map.unit.cases", (1, 5, 10, 25, 50), digits=0),
    "overdue_share": MetricStyle("map.unit.pct", (0.02, 0.05, 0.1, 0.2, 0.3), share=True),
    "special_per_1k": MetricStyle("map.unit.per_1k_people", (2, 4, 6, 8, 10)),
    "negative_posts": MetricStyle("map.unit.posts", (1, 3, 5, 10, 20), digits=0),
    "staffing_fill": MetricStyle("map.unit.pct", (0.6, 0.7, 0.8, 0.9, 0.999), share=True, good_high=True),
    "risk_score": MetricStyle("map.unit.score", (20, 40, 60, 80, 90)),
}


# pydeck's "no style given" marker: Streamlit's frontend then draws no basemap at all. With
# map_style=None it would fetch a CARTO style from basemaps.cartocdn.com (not offline).
NO_BASEMAP = "__MAP_STYLE__"


def deck(layers: list, view: pdk.ViewState, tooltip: dict | bool = True) -> pdk.Deck:
    """A pydeck map that requests nothing from outside: no basemap style, no tiles unless
    configured (tile_layers); the outlines drawn from the warehouse are the base layer."""
    return pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, map_style=NO_BASEMAP,
                    tooltip=tooltip)


def tile_url() -> str | None:
    """The configured XYZ tile URL ({z}/{x}/{y}), or None (offline: no basemap)."""
    url = os.environ.get("MAP_TILE_URL")
    if url:
        return url
    if CONFIG.exists():
        cfg = yamlfile.read(CONFIG) or {}
        return (cfg.get("map") or {}).get("tile_url") or None
    return None


def hex_to_rgb(h: str, alpha: int = 210) -> list[int]:
    h = h.lstrip("#")
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)] + [alpha]


def bin_edges(values: pl.Series, metric: str, method: str, k: int = 6) -> list[float]:
    """Upper bounds of the lower bins (len ≤ k-1): quantiles of the shown values, or fixed."""
    if method == "fixed":
        return list(METRIC_STYLES[metric].thresholds)
    v = values.drop_nulls().cast(pl.Float64).to_numpy()
    if v.size == 0:
        return []
    qs = np.quantile(v, np.linspace(0, 1, k + 1)[1:-1])
    return sorted(set(float(q) for q in qs))


def bin_index(value: float | None, edges: list[float]) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(np.searchsorted(np.asarray(edges), value, side="left"))


def default_palette(metric: str) -> str:
    return "risk" if metric == "risk_score" else "reds"


def colours(edges: list[float], palette: str, reverse: bool = False) -> list[list[int]]:
    """One colour per bin, spread over the palette so few bins still span low → high."""
    pal = PALETTES[palette][::-1] if reverse else PALETTES[palette]
    n = len(edges) + 1
    picks = [pal[round(i * (len(pal) - 1) / max(n - 1, 1))] for i in range(n)]
    return [hex_to_rgb(c) for c in picks]


def fmt_value(value, metric: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    style = METRIC_STYLES[metric]
    if style.share:
        return f"{value * 100:.1f}%"
    return f"{value:,.{style.digits}f}"


def legend_rows(edges: list[float], metric: str, palette: str) -> list[tuple[list[int], str]]:
    """(colour, range text) per bin, lowest first."""
    cols = colours(edges, palette, METRIC_STYLES[metric].good_high if metric in METRIC_STYLES else False)
    out = []
    bounds = [None, *edges, None]
    for i, c in enumerate(cols):
        lo, hi = bounds[i], bounds[i + 1]
        if lo is None and hi is None:
            text = "—"
        elif lo is None:
            text = f"≤ {fmt_value(hi, metric)}"
        elif hi is None:
            text = f"> {fmt_value(lo, metric)}"
        else:
            text = f"{fmt_value(lo, metric)} – {fmt_value(hi, metric)}"
        out.append((c, text))
    return out


def legend_html(title: str, rows: list[tuple[list[int], str]], no_data: str) -> str:
    swatch = ('<span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
              'vertical-align:middle;background:rgba({},{},{},{:.2f});border:1px solid #999"></span>')
    items = [swatch.format(*c[:3], c[3] / 255) + f"{text}" for c, text in rows]
    items.append(swatch.format(*NO_DATA[:3], NO_DATA[3] / 255) + no_data)
    return (f'<div style="font-size:0.9rem;line-height:1.7"><b>{title}</b><br>'
            + "<br>".join(items) + "</div>")


def short_label(name: str) -> str:
    """第3网格 instead of 临河社区第3网格: siblings share the village name."""
    m = re.search(r"第\d+网格$", name)
    return m.group(0) if m else name


def polygon_rows(shapes: pl.DataFrame, values: pl.DataFrame, metric: str, edges: list[float],
                 palette: str, value_label: str, rank_label: str) -> list[dict]:
    """One flat dict per polygon part (MultiPolygons split), ready for a PolygonLayer + tooltip."""
    cols = colours(edges, palette, METRIC_STYLES[metric].good_high)
    vals = {r["code"]: r for r in values.iter_rows(named=True)}
    n = values.height
    rows = []
    for code, name, geometry, _lon, _lat in shapes.iter_rows():
        v = vals.get(code, {})
        value = v.get(metric)
        b = bin_index(value, edges)
        rank = v.get(f"rank_{metric}")
        geo = json.loads(geometry) if geometry else None
        if geo is None:
            continue
        parts = [geo["coordinates"]] if geo["type"] == "Polygon" else geo["coordinates"]
        for part in parts:
            rows.append({
                "polygon": part, "code": code, "name": name,
                "value": fmt_value(value, metric),
                "rank": f"{rank} / {n}" if rank is not None else "—",
                "value_label": value_label, "rank_label": rank_label,
                "fill": NO_DATA if b is None else cols[b],
                "line": HIGHLIGHT if v.get("selected") else OUTLINE,
                "width": 4 if v.get("selected") else 1,
            })
    return rows


def view_for(shapes: pl.DataFrame, width: int = 850, height: int = 620,
             fallback: tuple[float, float, float, float] | None = None,
             within: tuple[float, float, float, float] | None = None) -> pdk.ViewState:
    """Centre and zoom that fit every outline and the `within` bounds (the parent area's,
    from warehouse.areas.bounds: a county where only some towns have outlines is still seen
    whole), else the `fallback` bounds; no place is assumed."""
    xs, ys = [], []
    for g in shapes["geometry"].to_list() if "geometry" in shapes.columns else []:
        if not g:
            continue
        geo = json.loads(g)
        polys = [geo["coordinates"]] if geo["type"] == "Polygon" else geo["coordinates"]
        for poly in polys:
            for x, y in poly[0]:
                xs.append(x)
                ys.append(y)
    if within is not None:
        xs += [within[0], within[2]]
        ys += [within[1], within[3]]
    box = (min(xs), min(ys), max(xs), max(ys)) if xs else fallback
    return fit_view(box, width, height)


def _merc_y(lat: float) -> float:
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fit_view(box: tuple[float, float, float, float] | None, width: int, height: int,
             margin: float = 0.3) -> pdk.ViewState:
    """The Web-Mercator view that shows the whole box (min_lon, min_lat, max_lon, max_lat) in a
    width × height frame, `margin` zoom levels of air around it. No box: the whole world."""
    if box is None:
        return pdk.ViewState(longitude=0, latitude=0, zoom=1, pitch=0, bearing=0)
    x0, y0, x1, y1 = box
    dx = max(x1 - x0, 1e-4)
    dy = max(_merc_y(y1) - _merc_y(y0), 1e-6)
    zoom = min(math.log2(width * 360 / (512 * dx)), math.log2(height * 2 * math.pi / (512 * dy))) - margin
    mid = math.degrees(math.atan(math.sinh((_merc_y(y0) + _merc_y(y1)) / 2)))
    return pdk.ViewState(longitude=(x0 + x1) / 2, latitude=mid, zoom=max(min(zoom, 17), 1),
                         pitch=0, bearing=0)


def tile_layers(view: pdk.ViewState, width: int = 1100, height: int = 620, url: str | None = None) -> list:
    """XYZ raster tiles covering the initial view, one BitmapLayer each (none when offline)."""
    url = url or tile_url()
    if not url:
        return []
    z = max(0, min(18, round(view.zoom)))
    span_x = 360 * width / (256 * 2 ** view.zoom) / 2
    span_y = 170 * height / (256 * 2 ** view.zoom) / 2
    x0, y1 = _tile_xy(view.longitude - span_x, view.latitude - span_y, z)
    x1, y0 = _tile_xy(view.longitude + span_x, view.latitude + span_y, z)
    layers = []
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            if len(layers) >= 64:
                break
            w, n = _tile_lonlat(x, y, z)
            e, s = _tile_lonlat(x + 1, y + 1, z)
            layers.append(pdk.Layer("BitmapLayer", id=f"tile-{z}-{x}-{y}", data=None,
                                    image=url.format(z=z, x=x, y=y), bounds=[w, s, e, n]))
    return layers


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    lat_r = math.radians(max(min(lat, 85), -85))
    y = int((1 - math.asinh(math.tan(lat_r)) / math.pi) / 2 * n)
    return max(0, min(n - 1, x)), max(0, min(n - 1, y))


def _tile_lonlat(x: int, y: int, z: int) -> tuple[float, float]:
    n = 2 ** z
    return x / n * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


TOOLTIP = {
    "html": "<b>{name}</b><br/>{code}<br/>{value_label}：{value}<br/>{rank_label}：{rank}",
    "style": {"backgroundColor": "rgba(20,20,30,0.9)", "color": "white", "fontSize": "13px"},
}


def polygon_deck(rows: list[dict], labels: list[dict], view: pdk.ViewState,
                 frame: dict | None = None) -> pdk.Deck:
    """Coloured outlines + name labels (+ the parent's outline as a frame), no basemap."""
    layers = tile_layers(view)
    if frame:
        layers.append(pdk.Layer("PolygonLayer", id="frame", data=[frame], get_polygon="polygon",
                                filled=False, stroked=True, get_line_color=[90, 90, 90, 255],
                                line_width_min_pixels=2, pickable=False))
    layers.append(pdk.Layer("PolygonLayer", id="areas", data=rows, get_polygon="polygon",
                            get_fill_color="fill", get_line_color="line", get_line_width="width",
                            line_width_units='"pixels"', line_width_min_pixels=1, stroked=True,
                            filled=True, pickable=True, auto_highlight=True))
    layers.append(text_layer(labels))
    return deck(layers, view, TOOLTIP)


def text_layer(labels: list[dict]) -> pdk.Layer:
    return pdk.Layer("TextLayer", id="labels", data=labels, get_position="position", get_text="text",
                     get_size=13, get_color=[20, 20, 20, 255], character_set='"auto"',
                     # quoted: pydeck turns bare strings into accessor functions
                     font_family="'Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif'",
                     background=True, get_background_color=[255, 255, 255, 180],
                     background_padding=[3, 1], pickable=False)


def label_rows(shapes: pl.DataFrame) -> list[dict]:
    return [{"position": [lon, lat], "text": short_label(name)}
            for _code, name, _g, lon, lat in shapes.iter_rows() if lon is not None]


def frame_row(outline: pl.DataFrame) -> dict | None:
    """The first part of the parent's outline, for a thin frame around its children."""
    if outline.height == 0 or not outline["geometry"][0]:
        return None
    geo = json.loads(outline["geometry"][0])
    return {"polygon": geo["coordinates"] if geo["type"] == "Polygon" else geo["coordinates"][0]}


def hex_deck(hexes: pl.DataFrame, view: pdk.ViewState, palette: str, edges: list[float],
             count_label: str, frame: dict | None = None) -> pdk.Deck:
    """H3 cells coloured by point count (the warehouse aggregated them)."""
    cols = colours(edges, palette)
    data = [{"hex": h, "count": int(c), "fill": cols[bin_index(c, edges) or 0], "label": count_label}
            for h, c in hexes.iter_rows()]
    layers = tile_layers(view)
    if frame:
        layers.append(pdk.Layer("PolygonLayer", id="frame", data=[frame], get_polygon="polygon",
                                filled=False, stroked=True, get_line_color=[90, 90, 90, 255],
                                line_width_min_pixels=2))
    layers.append(pdk.Layer("H3HexagonLayer", id="hexes", data=data, get_hexagon="hex",
                            get_fill_color="fill", get_line_color=[255, 255, 255, 120],
                            line_width_min_pixels=1, extruded=False, pickable=True, stroked=True))
    return deck(layers, view, {"html": "{label}：{count}<br/>{hex}"})


def count_edges(counts: pl.Series, method: str, k: int = 6) -> list[float]:
    """Bins for point counts: quantiles, or fixed doubling steps."""
    if method == "fixed":
        return [1, 2, 5, 10, 20]
    v = counts.cast(pl.Float64).to_numpy()
    if v.size == 0:
        return []
    return sorted(set(float(q) for q in np.quantile(v, np.linspace(0, 1, k + 1)[1:-1])))
