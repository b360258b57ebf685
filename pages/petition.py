"""信访研判: petitions received in the period, weekly clearing (周周清), outcomes, level reached,
matter types and the key-petitioner register (aggregates, small cells hidden)."""

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from ui import fmt, tables
from ui.cache import call
from ui.download import buttons
from ui.filters import sidebar
from ui.freshness import banner
from ui.i18n import t
from ui.mdtext import md
from ui.plotting import show
from warehouse import areas, petition, suppression

f = sidebar()
names = call(areas.names)
st.title(f"{md(names.get(f.area_code, f.area_code))} · {t('page.petition')}")
banner()
st.caption(t("pet.caption", period=fmt.period(f.period)))


def v(x) -> str:
    """A register value (已化解, 进京, 征地拆迁, …) in the current language."""
    return t(f"pet.v.{x}") if x else "—"


s = call(petition.summary, f.scope, f.area_code, f.period.start, f.period.end)
weeks = call(petition.weekly, f.scope, f.area_code, None, f.period.end)
c = st.columns(6)
c[0].metric(t("pet.m.petitions"), fmt.num(s["petitions"]))
c[1].metric(t("pet.m.resolution"), fmt.pct(s["resolution_rate"]), help=t("pet.m.resolution_help"))
c[2].metric(t("pet.m.beyond"), fmt.num(s["beyond_county"]), help=t("pet.m.beyond_help"))
c[3].metric(t("pet.m.beijing"), fmt.num(s["beijing_irregular"]))
c[4].metric(t("pet.m.repeat"), fmt.pct(s["repeat_rate"]), help=t("pet.m.repeat_help"))
c[5].metric(t("pet.m.backlog"), fmt.num(weeks["backlog_end"][-1]) if weeks.height else "—")

# 周周清: new and settled per week as bars, the backlog at week end as a line
if weeks.height:
    fig = go.Figure([
        go.Bar(x=weeks["week"], y=weeks["new_petitions"], name=t("pet.weekly.new"), marker_color="#4f81bd"),
        go.Bar(x=weeks["week"], y=weeks["settled_petitions"], name=t("pet.weekly.settled"), marker_color="#9bbb59"),
        go.Scatter(x=weeks["week"], y=weeks["backlog_end"], name=t("pet.weekly.backlog"),
                   mode="lines+markers", line={"color": "#c0504d", "width": 3}),
    ])
    fig.update_layout(barmode="group", yaxis_rangemode="tozero", legend={"orientation": "h", "y": -0.15},
                      xaxis_type="category")
    show(fig, height=360, title=t("pet.weekly.title"))
    table = weeks.select(
        pl.col("week").alias(t("pet.weekly.week")),
        pl.col("backlog_start").alias(t("pet.weekly.backlog_start")),
        pl.col("new_petitions").alias(t("pet.weekly.new")), pl.col("settled_petitions").alias(t("pet.weekly.settled")),
        pl.col("backlog_end").alias(t("pet.weekly.backlog")),
        pl.Series(t("pet.weekly.clearance"), [fmt.pct(x) for x in weeks["clearance"]]))
    tables.show(table, hide_index=True, width="stretch")
    st.caption(t("pet.weekly.note"))
    buttons(lambda: petition.weekly(f.scope, f.area_code, None, f.period.end), "petition_weekly")

if not s["petitions"]:
    st.info(t("pet.empty"))
else:
    left, right = st.columns(2)
    out = call(petition.outcomes, f.scope, f.area_code, f.period.start, f.period.end)
    fig = go.Figure(go.Bar(x=out["petition_count"], y=[v(x) for x in out["petition_status"]], orientation="h",
                           text=[fmt.num(x) for x in out["petition_count"]], textposition="auto",
                           marker_color="#4f81bd"))
    fig.update_layout(yaxis_autorange="reversed", xaxis_rangemode="tozero")
    with left:
        show(fig, height=340, title=t("pet.outcomes.title"))
    lv = call(petition.levels, f.scope, f.area_code, f.period.start, f.period.end)
    fig = go.Figure([
        go.Bar(x=[v(x) for x in lv["level_reached"]], y=lv["petition_count"], name=t("pet.col.count"),
               text=[fmt.num(x) for x in lv["petition_count"]], textposition="auto", marker_color="#4f81bd"),
        go.Bar(x=[v(x) for x in lv["level_reached"]], y=lv["irregular_count"], name=t("pet.levels.irregular"),
               marker_color="#c0504d")])
    fig.update_layout(barmode="group", yaxis_rangemode="tozero", legend={"orientation": "h", "y": -0.15})
    with right:
        show(fig, height=340, title=t("pet.levels.title"))

    iss = call(petition.issues, f.scope, f.area_code, f.period.start, f.period.end)
    fig = go.Figure(go.Bar(x=[v(x) for x in iss["issue_type"]], y=iss["petition_count"],
                           text=[fmt.num(x) for x in iss["petition_count"]], textposition="auto",
                           marker_color="#4f81bd"))
    fig.update_layout(yaxis_rangemode="tozero")
    show(fig, height=320, title=t("pet.issues.title"))

st.subheader(t("pet.key.title"))
key = call(petition.key_petitioner_table, f.scope, f.area_code)
shown = suppression.display(key).select(
    pl.col("issue_type").replace_strict({x: v(x) for x in key["issue_type"].to_list()}, default="—")
    .alias(t("pet.col.type")),
    *[pl.col(c).alias(v(c)) for c in petition.CONTROL],
    pl.col(suppression.TOTAL).alias(t("pet.col.total")))
tables.show(shown, hide_index=True, width="stretch")
st.caption(t("pet.key.note"))
buttons(lambda: petition.key_petitioners(f.scope, f.area_code), "key_petitioners")
