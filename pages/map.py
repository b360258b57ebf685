"""网格热力: the county as a map of areas at the level the area filter implies.

Metric by overlay (红/蓝/绿), a month window with a play button, quantile or fixed bins, an
H3 hexagon mode. A click on an area drills down; at grid level it opens the grid profile.
"""

import time

import polars as pl
import streamlit as st

from ui import fmt, tables
from ui import map as umap
from ui.cache import call
from ui.download import buttons
from ui.filters import set_area, sidebar
from ui.freshness import banner
from ui.i18n import t
from ui.mdtext import md
from warehouse import areas as wa
from warehouse import geo
from warehouse.periods import shift

f = sidebar()
names = call(wa.names)
all_grids = f.level in ("county", "town") and st.toggle(t("map.all_grids"), key="map_all_grids")
level, parent = geo.map_level(f.area_code, "grid" if all_grids else None)
st.title(f"{md(names.get(parent, parent))} · {t('page.map')}")
banner()

# ---------------------------------------------------------------- controls
months = call(geo.months)
first_month = max((m for m in months if m <= f.period.start), default=months[0])
last_month = max((m for m in months if m < f.period.end), default=months[-1])
c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
overlay = c1.segmented_control(t("map.overlay"), list(geo.OVERLAYS), default="blue", key="map_overlay",
                               format_func=lambda o: t(f"map.overlay.{o}"), required=True,
                               help=t("map.overlay.help"))
allowed = geo.available_metrics(level)
metric_options = [m for m in geo.OVERLAYS[overlay] if m in allowed]
metric = c2.selectbox(t("map.metric"), metric_options, key=f"map_metric_{overlay}_{level}",
                      format_func=lambda m: t(f"map.metric.{m}"))
binning = c3.radio(t("map.binning"), ("quantile", "fixed"), key="map_binning", horizontal=True,
                   format_func=lambda b: t(f"map.binning.{b}"))
mode = c4.radio(t("map.mode"), ("polygons", "hexagons"), key="map_mode", horizontal=True,
                format_func=lambda m: t(f"map.mode.{m}"))

w1, w2, w3 = st.columns([6, 1, 2])
window = w1.select_slider(t("map.window"), months, value=(first_month, last_month),
                          key=f"map_window_{f.period.key}", format_func=fmt.month)
playing = st.session_state.get("map_playing", False)
if not playing and w2.button(t("map.play"), icon=":material/play_arrow:", key="map_play"):
    st.session_state["map_playing"], st.session_state["map_play_at"] = True, window[0]
    playing = True
elif playing and w2.button(t("map.stop"), icon=":material/stop:", key="map_stop"):
    st.session_state["map_playing"] = playing = False
palette = w3.selectbox(t("map.palette"), ["auto", *umap.PALETTES], key="map_palette",
                       format_func=lambda p: t(f"map.palette.{p}"))
if palette == "auto":
    palette = umap.default_palette(metric)

if playing:
    at = st.session_state["map_play_at"]
    start, end = at, shift(at, 1)
    st.info(t("map.playing", month=fmt.month(at)), icon=":material/play_circle:")
else:
    start, end = window[0], shift(window[1], 1)
window_text = fmt.month(start) if shift(start, 1) == end else f"{fmt.month(start)} – {fmt.month(shift(end, -1))}"

if "risk_score" not in allowed:
    st.caption(t("map.risk_hidden"))
if level == "grid":
    st.caption(t("map.opinion_grid_note"))

# ---------------------------------------------------------------- map
shown_level = level if all_grids else None
values = call(geo.map_values, f.scope, f.area_code, start, end, level=shown_level)
shapes = call(geo.polygons, f.scope, f.area_code, level=shown_level)
frame = umap.frame_row(call(geo.outline, f.scope, parent))
view = umap.view_for(shapes, within=call(wa.bounds, parent))  # the whole parent, not only outlined children
st.caption(t("map.showing", parent=md(names.get(parent, parent)), level=t(f"map.level.{level}"),
             n=values.height, window=window_text) + " · " + t("map.click_hint"))

unit = t(umap.METRIC_STYLES[metric].unit)
map_col, legend_col = st.columns([5, 1])
if mode == "polygons":
    edges = umap.bin_edges(values[metric], metric, binning)
    rows = umap.polygon_rows(shapes, values, metric, edges, palette,
                             value_label=f"{t(f'map.metric.{metric}')}（{unit}）", rank_label=t("map.rank"))
    deck = umap.polygon_deck(rows, [] if all_grids else umap.label_rows(shapes), view, frame)
    legend = umap.legend_rows(edges, metric, palette)
    legend_title = f"{t(f'map.metric.{metric}')}<br>（{unit}）"
else:
    res = legend_col.slider(t("map.hex.resolution"), 6, 9, 8, key="map_hex_res")
    source = legend_col.radio(t("map.hex.source"), ("cases", "posts"), key="map_hex_source",
                      format_func=lambda s: t(f"map.hex.source.{s}"))
    hexes = call(geo.hexagons, f.scope, parent, start, end, res, source)
    edges = umap.count_edges(hexes["count"], binning)
    deck = umap.hex_deck(hexes, view, palette, edges, t("map.hex.count"), frame)
    legend = [(c, text.replace(".0", "")) for c, text in umap.legend_rows(edges, "disputes", palette)]
    legend_title = f"{t(f'map.hex.source.{source}')}（{t('map.hex.count')}）"
    if hexes.height == 0:
        st.info(t("map.hex.none"))

with map_col:
    event = st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", height=620,
                            key=f"map_chart_{f.area_code}_{mode}_{level}")
legend_col.html(umap.legend_html(legend_title, legend, t("map.no_data")))
if level != "town" and legend_col.button(t("map.up"), icon=":material/arrow_upward:", key="map_up"):
    set_area(parent[:6] if len(parent) == 9 else parent[:9])
    st.rerun()

picked = (event.selection.get("objects", {}) or {}).get("areas", []) if event and event.selection else []
if picked:
    code = picked[0]["code"]
    if wa.level_of(code) == "grid":
        set_area(code)
        keep = {k: v for k, v in st.query_params.to_dict().items() if k != "grid"}
        st.switch_page("pages/grid.py", query_params=keep | {"area": code, "grid": code})
    elif code != f.area_code:
        set_area(code)
        st.rerun()

# ---------------------------------------------------------------- table
st.subheader(t("map.table"))
cols = ["name", metric, f"rank_{metric}", "residents", "cases", "overdue", "special", "grids",
        "grids_full", "code"]
table = values.select(cols).sort(f"rank_{metric}", nulls_last=True)
value_col = f"{t(f'map.metric.{metric}')}（{unit}）"
shown = table.rename({"code": t("map.col.code"), "name": t("map.col.name"), metric: value_col,
                      f"rank_{metric}": t("map.col.rank"), "residents": t("map.col.residents"),
                      "cases": t("map.col.cases"), "overdue": t("map.col.overdue"),
                      "special": t("map.col.special"), "grids": t("map.col.grids"),
                      "grids_full": t("map.col.grids_full")})
if umap.METRIC_STYLES[metric].share:
    shown = shown.with_columns(pl.col(value_col) * 100)
counts = [t(f"map.col.{c}") for c in ("residents", "cases", "overdue", "grids", "grids_full")]
special = t("map.col.special")  # hidden counts show the one suppression marker
shown = shown.with_columns(pl.col(special).cast(pl.Int64).cast(pl.Utf8).fill_null(fmt.SUPPRESSED))
tables.show(shown, hide_index=True, width="stretch", placeholder=fmt.MISSING, column_config={
    value_col: st.column_config.NumberColumn(format=f"%.{umap.METRIC_STYLES[metric].digits}f"),
    **{c: st.column_config.NumberColumn(format="localized") for c in counts}})
buttons(values, f"map_values_{f.area_code}_{start:%Y%m}_{end:%Y%m}", key="map_values")

# ---------------------------------------------------------------- play: step to the next month
if playing:
    time.sleep(1.2)
    nxt = shift(st.session_state["map_play_at"], 1)
    if nxt > window[1]:
        st.session_state["map_playing"] = False
    else:
        st.session_state["map_play_at"] = nxt
    st.rerun()
