"""The 预测预警 tab of the risk page: case volume forecasts with bands, their backtest against
seasonal naive, and the early-warning model against the naive baselines and the risk index.
Draws only: every figure comes from warehouse.forecast and warehouse.early_warning."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from ui import fmt, tables
from ui.cache import call
from ui.download import buttons
from ui.i18n import t
from ui.plotting import localize
from warehouse import early_warning as ew
from warehouse import forecast as wf

PLOTLY = {"displaylogo": False}
MODEL_ORDER = ("selected", "snaive", "mean", "ets", "theta")


def model_name(model: str) -> str:
    base, _, fest = model.partition("+")
    return t(f"fc.model.{base}") + (t("fc.festival") if fest else "")


def feature_name(feature: str) -> str:
    for c in ("cases", "disputes", "petitions", "incidents"):
        if feature.startswith(c + "_"):
            return t(f"fc.feature.{c}") + "·" + t(f"fc.feature.{feature[len(c) + 1:]}")
    return t(f"fc.feature.{feature}")


def draw(f, names: dict) -> None:
    volume(f, names)
    backtest(f)
    early_warning(f, names)


def volume(f, names: dict) -> None:
    st.subheader(t("fc.volume_title"))
    left, right = st.columns([1, 3])
    freq = left.radio(t("fc.freq"), list(wf.FREQS), format_func=lambda k: t(f"fc.freq.{k}"), key="fc_freq")
    opts = call(wf.series_options, f.scope, f.area_code, freq)
    if opts.height == 0:
        st.info(t("fc.no_data"))
        return
    labels = {r["series"]: f"{names.get(r['area_code'], r['area_code'])} · "
                           f"{t('fc.all_classes') if r['class'] == wf.ALL else r['class']}"
              for r in opts.iter_rows(named=True)}
    series = right.selectbox(t("fc.series"), list(labels), format_func=labels.get, key="fc_series")
    hist = call(wf.actuals, f.scope, series)
    fc = call(wf.forecasts, f.scope, None, freq).filter(pl.col("series") == series).sort("period_start")
    if fc.height == 0:
        st.info(t("fc.no_data"))
        return
    tail = hist.tail(36 if freq == "month" else 104)
    fig = go.Figure()
    for lo, hi, name, colour in (("lo95", "hi95", t("fc.band95"), "rgba(192,80,77,0.15)"),
                                 ("lo80", "hi80", t("fc.band80"), "rgba(192,80,77,0.30)")):
        x = [*fc["period_start"], *fc["period_start"].reverse()]
        fig.add_scatter(x=x, y=[*fc[hi], *fc[lo].reverse()], fill="toself", fillcolor=colour,
                        line={"width": 0}, name=name, hoverinfo="skip")
    fig.add_scatter(x=tail["period_start"], y=tail["actual"], mode="lines", name=t("fc.actual"),
                    line={"color": "#2f6fb5"})
    fig.add_scatter(x=fc["period_start"], y=fc["point"], mode="lines+markers", name=t("fc.point"),
                    line={"color": "#c0504d", "dash": "dash"})
    fig.update_layout(height=360, yaxis_title=t("fc.cases"), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": -0.15})
    st.plotly_chart(localize(fig), config=PLOTLY, width="stretch")
    row = fc.row(0, named=True)
    st.caption(t("fc.uses_model", model=model_name(row["model"])) if row["beats_naive"] else t("fc.uses_naive"))


def backtest(f) -> None:
    st.subheader(t("fc.backtest_title"))
    s = call(wf.summary, f.scope, f.area_code)
    if s.height == 0:
        st.info(t("fc.no_data"))
        return
    cols = [m for m in MODEL_ORDER if m in s.columns]
    table = s.select(
        pl.col("freq").replace_strict({k: t(f"fc.freq.{k}") for k in wf.FREQS}).alias(t("fc.col.freq")),
        pl.col("level").replace_strict({k: t(f"fc.level.{k}") for k in ("county", "town")}, default=pl.col("level"))
        .alias(t("fc.col.level")),
        pl.col("n_series").alias(t("fc.col.series_n")),
        *[pl.col(m).round(3).alias(f"MASE · {model_name(m)}") for m in cols],
        pl.col("share_beats_naive").round(3).alias(t("fc.col.beats")),
        pl.col("coverage_80").round(3).alias(t("fc.col.cov80")),
        pl.col("coverage_95").round(3).alias(t("fc.col.cov95")))
    tables.show(table, hide_index=True, width="stretch")
    st.caption(t("fc.backtest_caption"))
    with st.expander(t("fc.per_series")):
        per = call(wf.backtest_table, f.scope, f.area_code)
        tables.show(per.select("series", "model", pl.col("mase").round(3), pl.col("coverage_80").round(3),
                                pl.col("coverage_95").round(3), "chosen", "beats_naive"),
                     hide_index=True, width="stretch")
        buttons(per, "forecast_backtest", key="fc_bt")


def early_warning(f, names: dict) -> None:
    st.subheader(t("fc.ew_title"))
    bt = call(ew.backtest)
    if bt.height == 0:
        st.info(t("fc.no_data"))
        return
    st.caption(t("fc.ew_caption", months=ew.TEST_MONTHS, refit=ew.REFIT_EVERY))
    for v in call(ew.verdict).iter_rows(named=True):
        key = ("fc.ew_wins" if v["wins_auc"] and v["wins_precision"] else
               "fc.ew_loses" if not v["wins_auc"] and not v["wins_precision"] else "fc.ew_mixed")
        text = t(key, target=t(f"fc.target.{v['target']}"), model=t(f"fc.ew.{v['model']}"),
                 baseline=t(f"fc.ew.{v['best_baseline']}"), m_auc=f"{v['model_auc']:.3f}",
                 b_auc=f"{v['baseline_auc']:.3f}", m_p=fmt.pct(v["model_precision_top10"]),
                 b_p=fmt.pct(v["baseline_precision_top10"]))
        (st.success if key == "fc.ew_wins" else st.warning)(text)
    table = bt.select(
        pl.col("target").replace_strict({k: t(f"fc.target.{k}") for k in ew.TARGETS}).alias(t("fc.col.target")),
        pl.col("model").replace_strict({k: t(f"fc.ew.{k}") for k in (*ew.ALL_MODELS, *ew.BASELINES)})
        .alias(t("fc.col.model")),
        pl.col("auc").round(3).alias(t("fc.col.auc")),
        pl.col("precision_top10").round(3).alias(t("fc.col.precision")),
        pl.col("lift_top10").round(2).alias(t("fc.col.lift")),
        pl.col("base_rate").round(3).alias(t("fc.col.base_rate")))
    tables.show(table, hide_index=True, width="stretch")
    buttons(table, "early_warning_backtest", key="fc_ew")
    st.caption(t("fc.ew_policy"))
    target = st.radio(t("fc.ew_target_pick"), list(ew.TARGETS), format_func=lambda k: t(f"fc.target.{k}"),
                      horizontal=True, key="fc_target")
    top = call(ew.top_grids, f.scope, target, f.area_code, 20)
    if top.height:
        st.markdown("**" + t("fc.ew_top", target=t(f"fc.target.{target}")) + "**")
        tables.show(top.select(
            pl.col("area_code").replace_strict(names, default="").alias(t("fc.col.grid")),
            pl.col("area_code").str.slice(0, 9).replace_strict(names, default="").alias(t("fc.col.town")),
            pl.col("probability").round(3).alias(t("fc.col.probability")),
            pl.Series(t("fc.col.main"), ["、".join(feature_name(x) for x in (m or [])) for m in top["main"].to_list()]),
            pl.col("area_code").alias(t("cl.col.area_code"))), hide_index=True, width="stretch")
        st.caption(t("fc.ew_explain_note"))
