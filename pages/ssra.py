"""社会稳定风险评估: the register, level × decision, coverage (应评尽评), time to decision, lessons."""

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
from ui.plotting import localize
from warehouse import areas, ssra
from warehouse.pymap import mapped

PLOTLY = {"displaylogo": False}

f = sidebar()
names = call(areas.names)
st.title(f"{md(names.get(f.area_code, f.area_code))} · {t('page.ssra')}")
banner()
use_period = st.radio(t("ssra.range"), ("all", "period"), horizontal=True, key="ssra_range",
                      format_func=lambda k: t(f"ssra.range.{k}")) == "period"
start, end = (f.period.start, f.period.end) if use_period else (None, None)
st.caption(t("ssra.caption", period=fmt.period(f.period) if use_period else t("ssra.all_time")))


def v(x) -> str:
    """A register value (高, 实施, 重大项目, …) in the current language."""
    return t(f"ssra.v.{x}") if x else "—"


cov = call(ssra.coverage, f.scope, f.area_code, start, end)
times = call(ssra.decision_time, f.scope, f.area_code, start, end)
c = st.columns(4)
c[0].metric(t("ssra.required"), fmt.num(cov["required"]))
c[1].metric(t("ssra.not_assessed"), fmt.num(cov["not_assessed"]))
c[2].metric(t("ssra.coverage"), fmt.pct(cov["coverage"]), help=t("ssra.vs_target"),
            delta=fmt.pp(-cov["gap"]) if cov["gap"] else None)
c[3].metric(t("ssra.median_days"), fmt.num(times["median"]),
            help=t("ssra.p90_days", d=fmt.num(times["p90"])) if times["p90"] is not None else None)

tabs = st.tabs([t("ssra.tab.register"), t("ssra.tab.matrix"), t("ssra.tab.coverage"), t("ssra.tab.lessons")])
reg = call(ssra.register, f.scope, f.area_code, start, end)

with tabs[0]:
    fc = st.columns(4)
    picks = {}
    for col, (field, key) in zip(fc, (("project_type", "type"), ("risk_level", "level"),
                                      ("decision", "decision"), ("status", "status"))):
        options = sorted(x for x in reg[field].unique().to_list() if x is not None)
        picks[field] = col.multiselect(t(f"ssra.filter.{key}"), options, format_func=v, key=f"ssra_{key}",
                                     placeholder=t("filter.all"))
    shown = reg
    for field, chosen in picks.items():
        if chosen:
            shown = shown.filter(pl.col(field).is_in(chosen))
    table = shown.select(
        pl.col("ssra_id").alias(t("ssra.id")), pl.col("project_name").alias(t("ssra.project")),
        mapped(shown, "project_type", v).alias(t("ssra.type")),
        pl.col("area_name").alias(t("ssra.area")),
        mapped(shown, "risk_level", v).alias(t("ssra.level")),
        mapped(shown, "decision", v).alias(t("ssra.decision")),
        mapped(shown, "status", v).alias(t("ssra.status")),
        pl.col("submitted_at").alias(t("ssra.submitted")), pl.col("decided_at").alias(t("ssra.decided")),
        pl.col("days_to_decision").alias(t("ssra.days")),
        pl.col("legality").alias(t("ssra.legality")), pl.col("rationality").alias(t("ssra.rationality")),
        pl.col("feasibility").alias(t("ssra.feasibility")),
        pl.col("controllability").alias(t("ssra.controllability")),
    )
    st.caption(t("ssra.rows", n=fmt.num(table.height)))
    dates = {t(k): st.column_config.DateColumn(format="YYYY-MM-DD") for k in ("ssra.submitted", "ssra.decided")}
    tables.show(table, hide_index=True, width="stretch", height=460, column_config=dates)
    buttons(table, "ssra_register")

with tabs[1]:
    mx = call(ssra.matrix, f.scope, f.area_code, start, end)
    z = mx.select(ssra.DECISIONS).to_numpy()
    fig = go.Figure(go.Heatmap(
        z=z, x=[v(d) for d in ssra.DECISIONS], y=[v(lv) for lv in mx["risk_level"]],
        text=z, texttemplate="%{text}", colorscale="Reds", showscale=False,
        hovertemplate="%{y} × %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=t("ssra.matrix_title"), height=340, yaxis_autorange="reversed",
                      xaxis_title=t("ssra.decision"), yaxis_title=t("ssra.level"),
                      margin={"l": 10, "r": 10, "t": 50, "b": 10})
    st.plotly_chart(localize(fig), config=PLOTLY, width="stretch")
    st.caption(t("ssra.matrix_caption"))

with tabs[2]:
    left, right = st.columns(2)
    towns = call(ssra.coverage_by_town, f.scope, f.area_code, start, end)
    if towns.height:
        fig = go.Figure(go.Bar(
            x=towns["coverage"], y=towns["town_name"], orientation="h",
            marker_color=["#2e8b57" if x >= 1 else "#d62728" for x in towns["coverage"]],
            text=[f"{fmt.pct(x)} ({a}/{r})" for x, a, r in zip(towns["coverage"], towns["assessed"],
                                                              towns["required"])],
            textposition="auto"))
        fig.add_vline(x=1.0, line_dash="dot", line_color="#555555")
        fig.update_layout(title=t("ssra.coverage_title"), height=max(320, 34 * towns.height + 80),
                          xaxis_tickformat=".0%", xaxis_range=[0, 1.08],
                          margin={"l": 10, "r": 10, "t": 50, "b": 10})
        left.plotly_chart(localize(fig), config=PLOTLY, width="stretch")
    days = reg.filter(pl.col("days_to_decision").is_not_null())["days_to_decision"]
    if days.len():
        fig = go.Figure(go.Histogram(x=days, xbins={"size": 7}, marker_color="#4f81bd"))
        if times["median"] is not None:
            fig.add_vline(x=times["median"], line_dash="dash", line_color="#c0504d",
                          annotation_text=f"{t('ssra.median_days')}: {fmt.num(times['median'])}",
                          annotation_position="top right", annotation_bgcolor="white")
        fig.update_layout(title=t("ssra.days_title"), height=360, xaxis_title=t("ssra.days"),
                          yaxis_title=t("ssra.count"), margin={"l": 10, "r": 10, "t": 50, "b": 10})
        right.plotly_chart(localize(fig), config=PLOTLY, width="stretch")

with tabs[3]:
    st.caption(t("ssra.lessons_caption", days=ssra.LESSON_DAYS))
    les = call(ssra.lessons, f.scope, f.area_code, start, end)
    if les.height == 0:
        st.success(t("ssra.no_lessons"))
    else:
        table = les.select(
            pl.col("ssra_id").alias(t("ssra.id")), pl.col("project_name").alias(t("ssra.project")),
            mapped(les, "project_type", v).alias(t("ssra.type")),
            pl.col("area_name").alias(t("ssra.area")), pl.col("decided_at").alias(t("ssra.decided")),
            mapped(les, "decision", v).alias(t("ssra.decision")),
            pl.col("collective_after").alias(t("ssra.collective_after", days=ssra.LESSON_DAYS)))
        tables.show(table, hide_index=True, width="stretch", column_config={
            t("ssra.decided"): st.column_config.DateColumn(format="YYYY-MM-DD")})
        buttons(table, "ssra_lessons")
