"""人口与重点人群: residents by area and type, age pyramid, households, floating share, care
groups, special groups (suppressed aggregates only) and staffing against targets."""

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from ui import fmt, tables
from ui.cache import call
from ui.download import buttons
from ui.filters import set_area, sidebar
from ui.freshness import banner
from ui.i18n import t
from ui.mdtext import md
from ui.plotting import localize
from warehouse import areas, population, suppression
from warehouse.pymap import mapped

CONFIG = {"displaylogo": False}
TYPE_COLOURS = {"户籍": "#1f77b4", "流动": "#ff7f0e", "境外": "#2ca02c"}
SEX_COLOURS = {"M": "#4c78a8", "F": "#e45756"}


def headers(df: pl.DataFrame) -> pl.DataFrame:
    """Column names in the reader's language (pages and downloads alike)."""
    return df.rename({c: t(f"pop.col.{c}") for c in df.columns})


def nice_ticks(peak: int) -> list[int]:
    """Symmetric round ticks (…, -500, 0, 500, …) for the pyramid's two-sided axis."""
    step = 10 ** max(len(str(int(peak))) - 1, 0)
    for k in (1, 2, 5, 10):
        if peak / (k * step) <= 4:
            step *= k
            break
    n = int(peak // step) + 1
    return [i * step for i in range(-n, n + 1)]


def rows_height(n: int) -> int:
    """A table height that shows every row (the total row must not hide below a scroll)."""
    return 38 + 35 * n


def section(key: str) -> None:
    st.subheader(t(f"pop.sec.{key}"))


f = sidebar(show_period=False)
name = call(areas.names).get(f.area_code, f.area_code)
st.title(f"{md(name)} · {t('page.population')}")
st.caption(t("pop.caption"))
banner()

s = call(population.summary, f.scope, f.area_code)
if not s["residents"]:
    st.info(t("pop.none"))
    st.stop()
special = call(population.special_groups, f.scope, f.area_code)
staff = call(population.staffing, f.scope, f.area_code)
grand = special.filter(pl.col("area_code").is_null())
special_total = suppression.display(grand)["total"][0]

cols = st.columns(6)
cols[0].metric(t("pop.card.residents"), fmt.num(s["residents"]))
cols[1].metric(t("pop.card.households"), fmt.num(s["households"]))
cols[2].metric(t("pop.card.floating_share"), fmt.pct(s["floating_share"]))
cols[3].metric(t("pop.card.age_60_share"), fmt.pct(s["age_60_share"]))
cols[4].metric(t("pop.card.special_total"), special_total)
cols[5].metric(t("pop.card.staff_short"), f"{(staff['shortfalls'] > 0).sum()} / {staff.height}",
               help=t("pop.card.staff_short_help"))

# ---------------------------------------------------------------- residents by area and type
section("residents")
res = call(population.residents_by_area, f.scope, f.area_code)
fig = go.Figure()
for kind, col in (("户籍", "registered"), ("流动", "floating"), ("境外", "abroad")):
    fig.add_bar(x=res["area_name"].to_list(), y=res[col].to_list(), name=t(f"pop.type.{kind}"),
                marker_color=TYPE_COLOURS[kind], customdata=res["area_code"].to_list(),
                hovertemplate="%{x}<br>%{fullData.name}: %{y:,}<extra></extra>")
fig.update_layout(barmode="stack", height=360, margin=dict(l=10, r=10, t=10, b=10),
                  legend=dict(orientation="h", y=1.08, traceorder="normal"), yaxis_title=t("pop.axis.people"))
drillable = len(f.area_code) < 15
event = st.plotly_chart(localize(fig), config=CONFIG, key="pop_res_chart",
                        on_select="rerun" if drillable else "ignore", selection_mode="points")
if drillable:
    st.caption(t("pop.sec.residents_help"))
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points and points[0].get("customdata"):
        set_area(str(points[0]["customdata"]))
        st.rerun()
res_view = res.select("area_code", "area_name", "residents", "registered", "floating", "abroad",
                      "households", "persons_per_household", "floating_share")
tables.show(headers(res_view), hide_index=True, placeholder="—", width="stretch", column_config={
    t("pop.col.floating_share"): st.column_config.NumberColumn(format="percent"),
    t("pop.col.persons_per_household"): st.column_config.NumberColumn(format="%.2f")})
buttons(headers(res_view), "population_by_area", key="pop_res")

# ---------------------------------------------------------------- pyramid and floating trend
left, right = st.columns(2)
with left:
    section("pyramid")
    pyr = call(population.pyramid, f.scope, f.area_code)
    fig = go.Figure()
    for sex in ("M", "F"):
        part = pyr.filter(pl.col("sex") == sex)
        values = part["residents"].to_list()
        fig.add_bar(y=part["band"].to_list(), x=[-v for v in values] if sex == "M" else values,
                    orientation="h", name=t(f"pop.sex.{sex}"), marker_color=SEX_COLOURS[sex],
                    customdata=values, hovertemplate="%{y}: %{customdata:,}<extra>%{fullData.name}</extra>")
    ticks = nice_ticks(pyr["residents"].max() or 1)
    fig.update_layout(barmode="relative", bargap=0.05, height=460, margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=1.06), yaxis_title=t("pop.axis.age"),
                      xaxis=dict(title=t("pop.axis.people"), tickvals=ticks,
                                 ticktext=[f"{abs(v):,}" for v in ticks]))
    st.plotly_chart(localize(fig), config=CONFIG, key="pop_pyramid")
    buttons(headers(pyr.select("band", "sex", "residents")), "age_pyramid", key="pop_pyr")
with right:
    section("floating")
    trend = call(population.floating_trend, f.scope, f.area_code)
    fig = go.Figure()
    fig.add_bar(x=trend["month"].to_list(), y=trend["floating_arrivals"].to_list(), name=t("pop.axis.arrivals"),
                marker_color="#ffbb78", yaxis="y2", hovertemplate="%{x|%Y-%m}: %{y:,}<extra></extra>")
    fig.add_scatter(x=trend["month"].to_list(), y=trend["floating_share"].to_list(), mode="lines+markers",
                    name=t("pop.card.floating_share"), line=dict(color=TYPE_COLOURS["流动"], width=3),
                    hovertemplate="%{x|%Y-%m}: %{y:.1%}<extra></extra>")
    share = trend["floating_share"].drop_nulls()
    lo, hi = (share.min(), share.max()) if share.len() else (0, 1)
    pad = max((hi - lo) * 0.5, 0.01)
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=1.06),
                      yaxis=dict(title=t("pop.axis.share"), tickformat=".1%", range=[max(lo - pad, 0), hi + pad]),
                      yaxis2=dict(title=t("pop.axis.arrivals"), overlaying="y", side="right", showgrid=False,
                                  range=[0, max(trend["floating_arrivals"].max() or 1, 1) * 3], tickformat=",d",
                                  nticks=4))
    st.plotly_chart(localize(fig), config=CONFIG, key="pop_floating")
    st.caption(t("pop.floating_note"))
    buttons(headers(trend), "floating_trend", key="pop_trend")

# ---------------------------------------------------------------- care groups
section("care")
care = call(population.care_groups, f.scope, f.area_code)
care_cols = ["age_60", "age_80", "lives_alone", "is_dibao", "is_disabled", "is_left_behind"]
fig = go.Figure()
for c in care_cols[2:]:
    fig.add_bar(x=care["area_name"].to_list(), y=care[c].to_list(), name=t(f"pop.col.{c}"),
                hovertemplate="%{x}<br>%{fullData.name}: %{y:,}<extra></extra>")
fig.update_layout(barmode="group", height=320, margin=dict(l=10, r=10, t=10, b=10),
                  legend=dict(orientation="h", y=1.1), yaxis_title=t("pop.axis.people"))
st.plotly_chart(localize(fig), config=CONFIG, key="pop_care")
care_view = care.select("area_code", "area_name", "residents", *care_cols)
tables.show(headers(care_view), hide_index=True, placeholder="—", width="stretch")
buttons(headers(care_view), "care_groups", key="pop_care")

# ---------------------------------------------------------------- special groups (suppressed)
section("special")
st.info(t("pop.special_note"), icon=":material/lock:")
shown = suppression.display(special).with_columns(pl.col("area_code").fill_null(""))
right = {t(f"pop.col.{c}"): st.column_config.TextColumn(alignment="right") for c in shown.columns[2:]}
tables.show(headers(shown), hide_index=True, placeholder="—", width="stretch", column_config=right,
             height=rows_height(shown.height))
buttons(headers(suppression.export(special, {c: t(f"pop.col.{c}") for c in special.columns})),
        "special_groups", key="pop_special")

# ---------------------------------------------------------------- staffing
section("staffing")
st.caption(t("pop.staffing_note"))
view_cols = ["area_name", "shortfalls", "patrol_per_10k", "volunteer_share", "floating_per_warden",
             "grids_staffed_share"]
attain = {"patrol_per_10k": "patrol_attainment", "volunteer_share": "volunteer_attainment",
          "floating_per_warden": "warden_attainment", "grids_staffed_share": "grid_attainment"}
formats = {"patrol_per_10k": "{:.1f}", "volunteer_share": "{:.2%}", "floating_per_warden": "{:.0f}",
           "grids_staffed_share": "{:.1%}"}
missing = {"floating_per_warden": t("pop.no_warden")}
view = staff.select(view_cols).with_columns(
    mapped(staff, c, f.format).fill_null(missing.get(c, "—")) for c, f in formats.items()).to_pandas()
short = staff.select(attain.values()).to_pandas().fillna(1.0) < 1.0


def _red(col):
    return ["background-color: #f8d7da; color: #842029; font-weight: 600" if x else ""
            for x in short[attain[col.name]]]


config = {c: st.column_config.Column(t(f"pop.col.{c}")) for c in view_cols}
config |= {c: st.column_config.TextColumn(t(f"pop.col.{c}"), alignment="right") for c in formats}
tables.show(view.style.apply(_red, subset=list(attain)), hide_index=True, placeholder="—", width="stretch",
             height=rows_height(len(view)), column_config=config)
buttons(headers(staff), "staffing", key="pop_staff")
