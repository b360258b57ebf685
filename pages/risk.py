"""风险研判: the grid risk index, its warnings, explanations, sensitivity and backtest."""

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from ui import fmt, forecast_view, tables
from ui.cache import call
from ui.cards import level_card
from ui.download import buttons
from ui.filters import sidebar
from ui.freshness import banner
from ui.i18n import t
from ui.mdtext import md
from ui.plotting import localize
from ui.tabs import url_tabs
from warehouse import areas, risk

LEVEL_KEY = {"蓝": "blue", "黄": "yellow", "橙": "orange", "红": "red"}
LEVEL_COLOUR = {"蓝": "#2f6fb5", "黄": "#e0b400", "橙": "#ee7d1f", "红": "#d62728"}
DIM_COLOUR = {"hazard": "#c0504d", "vulnerability": "#8064a2", "coping": "#4f81bd"}
PLOTLY = {"displaylogo": False}

f = sidebar()
lang = f.lang
names = call(areas.names)
st.title(f"{md(names.get(f.area_code, f.area_code))} · {t('page.risk')}")
banner()
month = call(risk.month_for, f.period)
if month is None:
    st.info(t("risk.no_data"))
    st.stop()
st.caption(t("risk.caption", month=fmt.month(month)))
if f.period.grain != "month" or f.period.start != month:
    st.caption(t("risk.month_note", month=fmt.month(month)))


def level_name(lv: str) -> str:
    return t(f"risk.level.{LEVEL_KEY[lv]}")


def unique_labels(labels, codes) -> list[str]:
    """Grid names as chart categories; a repeated name gets its code's tail so bars never merge."""
    labels = list(labels)
    return [f"{n} ({c[-6:]})" if labels.count(n) > 1 else n for n, c in zip(labels, codes)]


def score(x) -> str:
    return "—" if x is None else f"{x:.2f}"


counts = call(risk.level_counts, f.scope, month, f.area_code)
warn = call(risk.warnings, f.scope, month, f.area_code, lang=lang)
cols = st.columns(5)
for col, lv in zip(cols, reversed(risk.LEVELS)):
    row = counts.filter(pl.col("level") == lv)
    now_n, prev_n = int(row["grids"][0]), int(row["previous"][0])
    level_card(col, lv, t("risk.level_count", level=level_name(lv)), fmt.num(now_n), delta=now_n - prev_n,
               delta_color="inverse" if lv in ("橙", "红") else "off", help=t("risk.vs_prev"))
cols[4].metric(t("risk.warnings_n"), fmt.num(warn.height))

# Lazy tabs: only the open one runs its queries and charts (the Monte Carlo and the backtest
# are the page's heaviest work); the open tab is kept in the URL (?risk_tab=…).
tabs = list(url_tabs("risk_tab", ["overview", "explain", "sensitivity", "backtest", "method", "forecast"],
                     "risk.tab.{}").values())

# ------------------------------------------------------------------ ranking and warnings
with tabs[0]:
    if tabs[0].open:
        top_n = 30
        top = call(risk.top_grids, f.scope, month, f.area_code, top_n)
        st.subheader(t("risk.ranked_title", n=min(top_n, top.height)))
        if top.height:
            top = top.sort("score")
            labels = unique_labels(top["area_name"], top["area_code"])
            fig = go.Figure()
            for d in risk.DIMENSIONS:
                fig.add_bar(y=labels, x=top[f"part_{d}"], orientation="h", name=t(f"risk.dim.{d}"),
                            marker_color=DIM_COLOUR[d],
                            hovertemplate="%{y}<br>" + t(f"risk.dim.{d}") + ": %{x:.2f}<extra></extra>")
            fig.add_scatter(y=labels, x=top["score"], mode="markers+text", name=t("risk.level"),
                            marker={"color": [LEVEL_COLOUR[lv] for lv in top["level"]], "size": 12,
                                    "symbol": "diamond", "line": {"color": "white", "width": 1}},
                            text=[f" {s:.1f}" for s in top["score"]], textposition="middle right",
                            hovertemplate="%{y}: %{x:.2f}<extra></extra>", showlegend=False)
            fig.update_layout(barmode="stack", height=max(360, 22 * top.height + 80),
                              margin={"l": 10, "r": 30, "t": 10, "b": 10}, xaxis_title=t("risk.score"),
                              legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"})
            st.plotly_chart(localize(fig), config=PLOTLY, width="stretch")

        tr = call(risk.trend, f.scope, f.area_code)
        if tr.height:
            fig = go.Figure()
            for lv in risk.LEVELS:
                part = tr.filter(pl.col("level") == lv)
                fig.add_bar(x=part["month"], y=part["grids"], name=level_name(lv), marker_color=LEVEL_COLOUR[lv])
            fig.update_layout(barmode="stack", title=t("risk.trend_title"), height=300, xaxis_tickformat="%Y-%m",
                              yaxis_title=t("risk.grids"), margin={"l": 10, "r": 10, "t": 50, "b": 10},
                              legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0.5})
            st.plotly_chart(localize(fig), config=PLOTLY, width="stretch")

        st.subheader(t("risk.warning_title"))
        if warn.height == 0:
            st.success(t("risk.no_warnings"))
        else:
            table = warn.select(
                pl.col("area_name").alias(t("risk.grid")),
                pl.col("level").replace_strict({k: level_name(k) for k in LEVEL_KEY}).alias(t("risk.level")),
                pl.col("score").round(2).alias(t("risk.score")),
                pl.col("change").round(2).alias(t("risk.change")),
                pl.col("main_drivers").alias(t("risk.main_drivers")),
                ("/grid?grid=" + pl.col("area_code") + "&area=" + pl.col("area_code") + f"&lang={lang}")
                .alias(t("risk.profile")),
                pl.col("reason").replace_strict({k: t(f"risk.reason.{k}") for k in ("rise", "entered", "level")})
                .alias(t("risk.reason")),
                pl.col("town_name").alias(t("risk.town")),
                pl.col("previous_score").round(2).alias(t("risk.previous")),
                pl.col("rank").alias(t("risk.rank")),
                pl.col("area_code").alias("code"),
            )
            st.caption(t("risk.warning_help", rise=call(risk.config)["warning_rise"]))
            tables.show(table, hide_index=True, width="stretch", column_config={
                t("risk.profile"): st.column_config.LinkColumn(display_text=t("risk.open_profile")),
                t("risk.score"): st.column_config.ProgressColumn(min_value=0, max_value=10, format="%.2f"),
            })
            buttons(table.drop(t("risk.profile")), f"risk_warnings_{month:%Y-%m}")

# ------------------------------------------------------------------ one grid explained
with tabs[1]:
    if tabs[1].open:
        options = call(risk.grid_options, f.scope, month, f.area_code)
        wanted = st.query_params.get("grid", f.area_code if len(f.area_code) == 15 else None)
        index = options.index(wanted) if wanted in options else 0
        grid = st.selectbox(t("risk.pick_grid"), options, index=index,
                            format_func=lambda c: f"{names.get(c[:9], '')} · {names.get(c, c)}",
                            key="risk_grid")
        info = call(risk.grid_summary, f.scope, month, grid)
        parts = call(risk.contributions, f.scope, month, grid)
        if info and parts.height:
            change = "—" if info["change"] is None else f"{info['change']:+.2f}"
            main = risk.describe_main(info["main"], lang) or t("risk.words_none")
            st.markdown(t("risk.words", grid=md(names.get(grid, grid)), score=score(info["score"]),
                          level=level_name(info["level"]), rank=info["rank"], change=change, main=main))
            cfg = call(risk.config)
            parts = parts.sort("contribution", descending=True)
            driver_names = [cfg["drivers"][k][lang] for k in parts["driver"]]
            fig = go.Figure(go.Waterfall(
                x=[*driver_names, t("risk.total")], y=[*parts["contribution"], info["score"]],
                measure=["relative"] * parts.height + ["total"],
                text=[f"{v:.2f}" for v in [*parts["contribution"], info["score"]]], textposition="outside",
                increasing={"marker": {"color": "#ee7d1f"}}, totals={"marker": {"color": LEVEL_COLOUR[info["level"]]}},
                connector={"line": {"color": "#bbbbbb"}}))
            fig.update_layout(title=t("risk.waterfall_title"), height=420, yaxis_title=t("risk.score"),
                              margin={"l": 10, "r": 10, "t": 50, "b": 10}, showlegend=False)
            st.plotly_chart(localize(fig), config=PLOTLY, width="stretch")
            with st.expander(t("risk.contrib_table")):
                tables.show(parts.select(
                    pl.Series(t("risk.driver"), driver_names),
                    pl.col("dimension").replace_strict({d: t(f"risk.dim.{d}") for d in risk.DIMENSIONS})
                    .alias(t("risk.dimension")),
                    pl.col("normalised").round(2).alias(t("risk.normalised")),
                    pl.col("weight").round(3).alias(t("risk.weight")),
                    pl.col("contribution").round(3).alias(t("risk.contribution"))), hide_index=True)

# ------------------------------------------------------------------ sensitivity
with tabs[2]:
    if tabs[2].open:
        sc = call(risk.config)["sensitivity"]
        summary = call(risk.sensitivity_summary, f.scope, month, f.area_code)
        sens = call(risk.sensitivity, f.scope, month, f.area_code)
        c = st.columns(4)
        c[0].metric(t("risk.sens_runs"), fmt.num(summary["runs"]))
        c[1].metric(t("risk.sens_change"), fmt.pct(summary.get("mean_level_change")))
        c[2].metric(t("risk.sens_majority"), fmt.pct(summary.get("majority_change")))
        c[3].metric(t("risk.sens_band"), fmt.num(summary.get("top10_band"), 1))
        st.caption(t("risk.sens_caption", j=sc["weight_jitter"], z=fmt.pct(sc["zscore_share"], 0), seed=sc["seed"]))
        if sens.height:
            n = min(30, sens.height)
            head = sens.head(n).reverse()
            labels = unique_labels([names.get(c_, c_) for c_ in head["area_code"]], head["area_code"])
            fig = go.Figure()
            fig.add_scatter(x=head["rank_median"], y=labels, mode="markers", name=t("risk.band"),
                            marker={"color": "#999999", "size": 1},
                            error_x={"type": "data", "symmetric": False,
                                     "array": head["rank_p95"] - head["rank_median"],
                                     "arrayminus": head["rank_median"] - head["rank_p5"],
                                     "color": "#7f7f7f", "thickness": 6, "width": 0},
                            hovertemplate="%{y}: p5–p95<extra></extra>")
            fig.add_scatter(x=head["base_rank"], y=labels, mode="markers", name=t("risk.base_rank"),
                            marker={"color": [LEVEL_COLOUR[lv] for lv in head["base_level"]], "size": 11,
                                    "symbol": "diamond"})
            fig.update_layout(title=t("risk.sens_title", n=n), height=max(380, 22 * n + 90),
                              xaxis_title=t("risk.rank"), margin={"l": 10, "r": 10, "t": 50, "b": 10},
                              legend={"orientation": "h", "y": 1.0, "yanchor": "bottom"})
            st.plotly_chart(localize(fig), config=PLOTLY, width="stretch")
            buttons(sens, f"risk_sensitivity_{month:%Y-%m}", key="sens")

# ------------------------------------------------------------------ backtest
with tabs[3]:
    if tabs[3].open:
        bt = call(risk.backtest, f.scope, f.area_code)
        if not bt or bt.get("auc") is None:
            st.info(t("risk.no_data"))
        else:
            c = st.columns(4)
            c[0].metric(t("risk.bt_auc"), f"{bt['auc']:.3f}")
            c[1].metric(t("risk.bt_baseline"), f"{bt['baseline_auc']:.3f}" if bt["baseline_auc"] else "—")
            c[2].metric(t("risk.bt_capture"), fmt.pct(bt["top_capture"]))
            c[3].metric(t("risk.bt_lift"), f"{bt['top_lift']:.1f}×" if bt["top_lift"] else "—")
            left, right = st.columns(2)
            dec = bt["deciles"]
            fig = go.Figure(go.Bar(x=dec["decile"], y=dec["event_rate"], marker_color="#c0504d",
                                   text=[fmt.pct(v) for v in dec["event_rate"]], textposition="outside"))
            fig.add_hline(y=bt["base_rate"], line_dash="dot", line_color="#555555")
            fig.update_layout(title=t("risk.bt_deciles"), height=380, xaxis_title=t("risk.decile"),
                              yaxis_title=t("risk.event_rate"), yaxis_tickformat=".0%",
                              margin={"l": 10, "r": 10, "t": 60, "b": 10})
            fig.update_xaxes(dtick=1)
            left.plotly_chart(localize(fig), config=PLOTLY, width="stretch")
            pm = bt["per_month"]
            fig = go.Figure()
            fig.add_scatter(x=pm["month"], y=pm["auc"], mode="lines+markers", name=t("risk.auc"),
                            line={"color": "#c0504d"})
            fig.add_scatter(x=pm["month"], y=pm["baseline_auc"], mode="lines", name=t("risk.baseline"),
                            line={"color": "#7f7f7f", "dash": "dash"})
            fig.add_hline(y=0.5, line_dash="dot", line_color="#aaaaaa", annotation_text=t("risk.random"))
            fig.update_layout(title=t("risk.bt_months"), height=380, yaxis_range=[0.2, 1.0],
                              xaxis_tickformat="%Y-%m",
                              margin={"l": 10, "r": 10, "t": 60, "b": 10},
                              legend={"orientation": "h", "y": -0.15})
            right.plotly_chart(localize(fig), config=PLOTLY, width="stretch")
            diff = bt["auc"] - (bt["baseline_auc"] or 0.5)
            verdict = t("risk.verdict_better" if diff > 0.02 else "risk.verdict_worse" if diff < -0.02
                        else "risk.verdict_similar")
            st.caption(t("risk.bt_caption", first=fmt.month(bt["first"]), last=fmt.month(bt["last"]),
                         months=bt["months"], gm=fmt.num(bt["grid_months"]), events=fmt.num(bt["events"]),
                         rate=fmt.pct(bt["base_rate"]), auc=f"{bt['auc']:.3f}",
                         capture=fmt.pct(bt["top_capture"]), baseline=f"{bt['baseline_auc']:.3f}",
                         verdict=verdict))

# ------------------------------------------------------------------ method
with tabs[4]:
    if tabs[4].open:
        cfg = call(risk.config)
        st.markdown(t("risk.method_formula", lo=fmt.pct(cfg["winsorise"]["lower"], 0),
                      hi=fmt.pct(cfg["winsorise"]["upper"], 0)))
        st.latex(r"S_g=\sum_{d}W_d\sum_{i\in d}w_i\,n_{g,i},\qquad "
                 r"n_{g,i}=10\cdot\frac{\tilde x_{g,i}-\min\tilde x_i}{\max\tilde x_i-\min\tilde x_i},\qquad "
                 r"c_{g,i}=W_{d(i)}\,w_i\,n_{g,i},\ \ \sum_i c_{g,i}=S_g")
        lv = cfg["levels"]
        st.markdown(t("risk.method_levels", y=lv["yellow"], o=lv["orange"], r=lv["red"], rise=cfg["warning_rise"]))
        mt = call(risk.method_table, lang)
        st.table(mt.select(
            pl.col("driver").alias(t("risk.driver")), pl.col("dimension").alias(t("risk.dimension")),
            pl.col("dimension_weight").alias(t("risk.dimension_weight")),
            pl.col("weight_in_dimension").round(3).alias(t("risk.weight_in_dimension")),
            pl.col("effective_weight").round(3).alias(t("risk.weight")),
            pl.col("window_months").alias(t("risk.window")),
            pl.col("definition").alias(t("risk.definition"))).to_pandas().set_index(t("risk.driver")))
        st.caption(t("risk.method_config"))

# ------------------------------------------------------------------ forecasts and early warning
with tabs[5]:
    if tabs[5].open:
        forecast_view.draw(f, names)
