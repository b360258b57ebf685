"""网格画像: one grid on one page. URL `/grid?grid=<15-digit code>`; else the global area filter
when it is a grid; else ask to pick one.
"""

import plotly.express as px
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
from ui.plotting import localize
from warehouse import geo, meta
from warehouse import grid_profile as gp
from warehouse.periods import shift
from warehouse.pymap import mapped

PLOTLY = {"displaylogo": False}

f = sidebar()
wanted = st.query_params.get("grid", "")
if len(wanted) == 15 and wanted.isdigit():
    f.scope.check_area(wanted, "grid")  # another town's grid is refused, not ignored
if len(wanted) == 15 and wanted.isdigit() and wanted != f.area_code:
    # ?grid= hands over to the global area filter once, so the sidebar and the page agree
    set_area(wanted)
    del st.query_params["grid"]
    st.rerun()
grid = f.area_code if f.level == "grid" else ""
if not grid:
    st.title(t("page.grid"))
    st.info(t("grid.pick"), icon=":material/grid_on:")
    st.stop()

info = call(gp.summary, f.scope, grid) if f.scope.allows_area(grid) else None
if info is None:
    st.title(t("page.grid"))
    st.warning(t("grid.unknown", code=md(grid)))
    st.stop()

st.title(f"{md(info['name'])} · {t('page.grid')}")
st.caption(md(" › ".join(a["name"] for a in info["lineage"]) + f" · {grid}"))
banner()

counts = call(gp.open_counts, f.scope, grid)
staff = call(gp.staffing, f.scope, grid)
k = st.columns(5)
k[0].metric(t("grid.residents"), fmt.num(info["residents"]))
k[1].metric(t("grid.households"), fmt.num(info["households"]))
k[2].metric(t("grid.area_km2"), fmt.num(info["area_km2"], 2))
k[3].metric(t("grid.open"), fmt.num(counts["open"]))
k[4].metric(t("grid.open_overdue"), fmt.num(counts["open_overdue"]))

# ---------------------------------------------------------------- inset map + staffing
left, right = st.columns([3, 2])
with left:
    st.subheader(t("grid.inset"))
    shapes = call(geo.polygons, f.scope, grid)
    values = call(geo.map_values, f.scope, grid, f.period.start, f.period.end)
    edges = umap.bin_edges(values["cases_per_1k"], "cases_per_1k", "quantile")
    rows = umap.polygon_rows(shapes, values, "cases_per_1k", edges, "cividis",
                             value_label=t("map.metric.cases_per_1k"), rank_label=t("map.rank"))
    frame = umap.frame_row(call(geo.outline, f.scope, grid[:12]))
    st.pydeck_chart(umap.polygon_deck(rows, umap.label_rows(shapes), umap.view_for(shapes, 700, 360), frame),
                    height=360, key="grid_inset")
    st.caption(t("grid.inset_note"))
    if st.button(t("grid.to_map"), icon=":material/map:", key="grid_to_map"):
        st.switch_page("pages/map.py", query_params={"area": grid, "lang": f.lang})
with right:
    st.subheader(t("grid.staffing"))
    for r in staff.iter_rows(named=True):
        ok = t("grid.staff_met") if r["met"] else t("grid.staff_short")
        st.metric(t(f"grid.role.{r['role']}"), f"{r['staff']} / {r['required']}", ok,
                  delta_color="normal" if r["met"] else "inverse", delta_arrow="off")

# ---------------------------------------------------------------- residents and groups
left, right = st.columns(2)
with left:
    st.subheader(t("grid.by_type_age"))
    pop = call(gp.residents_by_type_age, f.scope, grid)
    fig = px.bar(pop.to_pandas(), x="age_band", y="residents", color="residence_type", barmode="stack",
                 labels={"age_band": t("grid.age_band"), "residents": t("grid.count"),
                         "residence_type": t("grid.residence_type")},
                 color_discrete_sequence=["#35456c", "#c8b866", "#7ad151"])
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    st.plotly_chart(localize(fig), config=PLOTLY, key="grid_pop")
with right:
    st.subheader(t("grid.groups"))
    grp = call(gp.groups, f.scope, grid)
    shown = grp.with_columns(
        mapped(grp, "kind", lambda k: t(f"grid.kind.{k}")),
        pl.col("count").cast(pl.Utf8).fill_null(t("grid.suppressed")))
    tables.show(shown.rename({"kind": t("grid.kind.special") + " / " + t("grid.kind.care"),
                               "group": t("grid.group"), "count": t("grid.count")}),
                 hide_index=True, width="stretch", height=320)

# ---------------------------------------------------------------- cases over time
st.subheader(t("grid.cases_over_time"))
now = call(meta.data_now)
end = shift(now.date().replace(day=1), 1)
start = shift(end, -24)
by_month = call(gp.cases_by_month, f.scope, grid, start, end)
if by_month.height:
    fig = px.bar(by_month.to_pandas(), x="month", y="cases", color="category",
                 labels={"month": t("grid.month"), "cases": t("grid.cases"), "category": t("grid.category")},
                 color_discrete_sequence=px.colors.qualitative.Safe)
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10}, bargap=0.15)
    st.plotly_chart(localize(fig), config=PLOTLY, key="grid_cases")
else:
    st.info(t("grid.no_cases"))

# ---------------------------------------------------------------- open cases and posts (case level)
st.subheader(t("grid.open_cases"))
if not f.scope.person_level:
    st.info(t("grid.aggregates_only"))
else:
    open_ = call(gp.open_cases, f.scope, grid)
    if open_.height:
        tables.show(open_.rename({c: t(f"grid.col.{c}") for c in open_.columns if c != "category"}
                                  | {"category": t("grid.category")}),
                     hide_index=True, width="stretch")
        buttons(open_, f"open_cases_{grid}", key="grid_open")
    else:
        st.info(t("grid.no_open"))

    st.subheader(t("grid.posts"))
    posts = call(gp.posts, f.scope, grid, shift(end, -12), end)
    if posts.height:
        tables.show(posts.rename({c: t(f"grid.col.{c}") for c in posts.columns}), hide_index=True,
                     width="stretch", height=300)
    else:
        st.info(t("grid.no_posts"))

# ---------------------------------------------------------------- risk drivers
st.subheader(t("grid.risk"))
drivers = call(gp.risk_drivers, f.scope, grid, f.period)
if drivers is None or drivers.height == 0:
    st.caption(t("grid.risk_missing"))
else:
    st.caption(t("grid.risk_score", score=f"{drivers['score'][0]:.1f}"))
    name_col = f"driver_{f.lang}"
    fig = px.bar(drivers.sort("contribution").to_pandas(), x="contribution", y=name_col, orientation="h",
                 labels={"contribution": t("grid.contribution"), name_col: t("grid.driver")},
                 color_discrete_sequence=["#35456c"])
    fig.update_layout(height=40 + 28 * drivers.height, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    st.plotly_chart(localize(fig), config=PLOTLY, key="grid_risk")
