"""领导总览: indicators against targets (RAG), town ranking (定量考核) and what changed.

Everything shown comes from warehouse.indicators.values, warehouse.ranking.town_ranking and
warehouse.changes.what_changed; this page only formats and draws.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from ui import fmt, tables, unit_scorecard
from ui.cache import call
from ui.download import buttons
from ui.filters import _period_label, set_area, sidebar
from ui.freshness import banner
from ui.i18n import t
from ui.mdtext import md
from warehouse import areas, changes, forecast, ranking
from warehouse import indicators as wi
from warehouse.pymap import joined_names

RAG_COLOUR = {"green": "#188038", "amber": "#e37400", "red": "#c5221f", None: "#80868b"}
RAG_BADGE = {"green": "green", "amber": "orange", "red": "red", None: "gray"}
SECTIONS = ("safety", "service", "hotline", "groups", "teams")
PER_ROW = 4
CONFIG = {"displaylogo": False}
CARD_CSS = "".join(
    f'[class*="st-key-ovcard_{rag}_"] {{border-left: 6px solid {colour} !important;}}'
    for rag, colour in RAG_COLOUR.items() if rag)
CARD_CSS += '[class*="st-key-ovcard_none_"] {border-left: 6px solid #bdc1c6 !important;}'


def show(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    if unit == "pct":
        return fmt.pct(v, 1)
    if unit == "permille":
        return f"{v * 1000:.2f}‰"
    if unit == "count":
        return fmt.num(v)
    return f"{v:,.1f}" if unit == "per10k" else f"{v:,.2f}"


def show_change(d: float | None, unit: str) -> str | None:
    if d is None:
        return None
    if unit == "pct":
        return fmt.pp(d)
    if unit == "permille":
        return f"{d * 1000:+.2f}‰"
    if unit == "count":
        return f"{d:+,.0f}"
    return f"{d:+,.1f}" if unit == "per10k" else f"{d:+,.2f}"


def name_of(row: dict, lang: str) -> str:
    return row["name_en"] if lang == "en" else row["name_zh"]


def target_text(row: dict) -> str:
    if row["target"] is None:
        return t("ov.no_target")
    target, unit = row["target"], row["unit"]
    # a target keeps the decimals it was set with: 帮教率 99.98% must not read 100.0%
    places = next((d for d in range(3) if abs(target * 100 - round(target * 100, d)) < 1e-9), 2)
    value = fmt.pct(target, places) if unit == "pct" else show(target, unit)
    return t("ov.target", op="≥" if row["direction"] == "higher" else "≤", value=value)


def card(row: dict, lang: str, band: dict | None = None) -> None:
    rag = row["rag"] or "none"
    with st.container(border=True, key=f"ovcard_{rag}_{row['key']}"):
        value = show(row["value"], row["unit"])
        history = [v for v in (row["history"] or []) if v is not None]
        help_text = t("ov.help", source=row["target_source"], num=fmt.num(row["numerator"]),
                      den=fmt.num(row["denominator"]))
        st.metric(name_of(row, lang), value, delta=show_change(row["change_prev"], row["unit"]),
                  delta_color="normal" if row["direction"] == "higher" else "inverse",
                  delta_description=t("ov.vs_prev") if row["change_prev"] is not None else None,
                  delta_arrow="off" if not row["change_prev"] else "auto",
                  help=help_text, chart_data=history if len(history) > 1 else None, chart_type="line")
        badge = f":{RAG_BADGE[row['rag']]}-badge[{t('ov.rag.' + rag)}]"
        tail = (t("ov.snapshot") if row["window"] == "snapshot"
                else t("ov.yoy", change=show_change(row["change_yoy"], row["unit"]) or "—"))
        if row["suppressed"]:
            tail = t("ov.suppressed")
        elif row["value"] is None:
            tail = t("ov.no_data")
        st.markdown(f"{badge} {target_text(row)} · {tail}")
        if band and band["expected_lo"] is not None and not row["suppressed"]:
            lo, hi = show(band["expected_lo"], row["unit"]), show(band["expected_hi"], row["unit"])
            if band["outside"]:
                st.markdown(f":violet-badge[{t('fc.outside')}]", help=t("fc.outside_help", lo=lo, hi=hi))
            else:
                st.caption(t("fc.inside_help", lo=lo, hi=hi))


def summary(vals: pl.DataFrame, lang: str, sep: str) -> None:
    shown = vals.filter(pl.col("applicable"))
    counts = {rag: shown.filter(pl.col("rag") == rag).height for rag in ("green", "amber", "red")}
    counts["none"] = shown.filter(pl.col("rag").is_null()).height
    parts = [f":{RAG_BADGE[None if r == 'none' else r]}-badge[{t('ov.rag.' + r)} {n}]"
             for r, n in counts.items() if n]
    st.markdown(t("ov.summary", n=shown.height) + " ".join(parts))
    red = [name_of(r, lang) for r in shown.filter(pl.col("rag") == "red").iter_rows(named=True)]
    if red:
        st.markdown(f":red[{t('ov.off_target', names=sep.join(red))}]")


def _on_rank_click() -> None:
    event = st.session_state.get("ov_rank_chart") or {}
    points = (event.get("selection") or {}).get("points") or []
    if points:
        code = points[0].get("customdata")
        code = code[0] if isinstance(code, list) else code
        if code:
            set_area(str(code))


def _on_pick() -> None:
    code = st.session_state.get("ov_pick")
    if code:
        set_area(code)
        st.session_state["ov_pick"] = ""


def ranking_chart(rk: pl.DataFrame, current: str) -> go.Figure:
    colours = ["#b22222" if v else "#0b3d91" if c == current else "#5b8def"
               for c, v in zip(rk["area_code"], rk["vetoed"])]
    arrows = ["" if d is None or d == 0 else (f"  ↑{d}" if d > 0 else f"  ↓{-d}") for d in rk["rank_change"]]
    arrows = [a + (f"  {t('ov.vetoed')}" if v else "") for a, v in zip(arrows, rk["vetoed"])]
    labels = [f"{r}. {n}" for r, n in zip(rk["rank"], rk["name"])]
    fig = go.Figure(go.Bar(
        x=rk["score"].to_list(), y=labels, orientation="h", marker_color=colours,
        customdata=rk["area_code"].to_list(), text=[f"{s:.1f}{a}" for s, a in zip(rk["score"], arrows)],
        textposition="outside", cliponaxis=False, textfont=dict(size=13),
        hovertemplate="%{y}<br>" + t("ov.score") + " %{x:.2f}<extra></extra>"))
    fig.update_layout(height=34 * rk.height + 60, font=dict(size=13), margin=dict(l=10, r=40, t=10, b=30),
                      xaxis=dict(range=[0, 108], title=t("ov.score")),
                      yaxis=dict(autorange="reversed"), showlegend=False)
    return fig


# ---------------------------------------------------------------- page

f = sidebar()
lang = f.lang
sep = "、" if lang == "zh" else "; "
st.html(f"<style>{CARD_CSS}</style>")
area_name = call(areas.names).get(f.area_code, f.area_code)
st.title(f"{md(area_name)} · {t('page.overview')}")
st.caption(t("ov.period", period=_period_label(f.period), prev=_period_label(f.period.previous()),
             yoy=_period_label(f.period.year_ago())))
banner()

vals = call(wi.values, f.scope, f.area_code, f.period)
bands = {r["key"]: r for r in call(forecast.expected_ranges, f.scope, f.area_code, f.period).iter_rows(named=True)}
summary(vals, lang, sep)
rows = list(vals.iter_rows(named=True))
for section in SECTIONS:
    members = [r for r in rows if r["section"] == section and r["applicable"]]
    if not members:
        continue
    st.subheader(t(f"ov.section.{section}"), divider="gray")
    for start in range(0, len(members), PER_ROW):
        cols = st.columns(PER_ROW)
        for col, row in zip(cols, members[start:start + PER_ROW]):
            with col:
                card(row, lang, bands.get(row["key"]))
skipped = [name_of(r, lang) for r in rows if not r["applicable"]]
if skipped:
    st.caption(t("ov.not_applicable", names=sep.join(skipped)))

names = {r["key"]: name_of(r, lang) for r in rows}
county_wide = f.scope.allows_area(f.area_code[:6])  # the ranking shows every town of the county
rk = call(ranking.town_ranking, f.scope, f.area_code[:6], f.period) if county_wide else pl.DataFrame()
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(t("ov.ranking"), divider="gray")
    st.caption(t("ov.ranking_caption") if county_wide else t("scope.ranking_county_only"))
    if rk.height:
        st.plotly_chart(ranking_chart(rk, f.area_code[:9]), key="ov_rank_chart", on_select=_on_rank_click,
                        selection_mode="points", config=CONFIG)
with right:
    st.subheader(t("ov.changes"), divider="gray")
    st.caption(t("ov.changes_caption"))
    moves = call(changes.what_changed, f.scope, f.area_code, f.period)
    if moves.height == 0:
        st.info(t("ov.no_changes"))
    for m in moves.iter_rows(named=True):
        arrow = "▲" if m["change"] > 0 else "▼"
        colour = "green" if m["better"] else "red"
        st.markdown(f":{colour}[**{arrow}**] {md(m['sentence_' + lang])}")

if rk.height:
    table = rk.select(
        pl.col("rank").alias(t("ov.col.rank")), pl.col("name").alias(t("ov.col.town")),
        pl.col("score").alias(t("ov.col.score")), pl.col("prev_rank").alias(t("ov.col.prev_rank")),
        pl.col("rank_change").alias(t("ov.col.rank_change")),
        joined_names("up_keys", names, sep).alias(t("ov.col.up")),
        joined_names("down_keys", names, sep).alias(t("ov.col.down")),
        pl.Series(t("ov.col.veto"), [sep.join(names.get(k, k) for k in ks) for ks in rk["veto_keys"].to_list()]),
        pl.Series(t("ov.col.deductions"), [sep.join(f"{names.get(k, k)} −{p:.1f}" for k, p in zip(ks, ps))
                                           for ks, ps in zip(rk["deduction_keys"].to_list(),
                                                             rk["deduction_points"].to_list())]))
    tables.show(table, hide_index=True, width="stretch", column_config={
        t("ov.col.score"): st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.2f",
                                                           color="blue"),
        t("ov.col.rank_change"): st.column_config.NumberColumn(format="%+d")})
    buttons(table, f"town_ranking_{f.period.key}", key="ov_rank")
    town_names = dict(zip(rk["area_code"], rk["name"]))
    st.selectbox(t("ov.pick_town"), ["", *rk["area_code"].to_list()], key="ov_pick", on_change=_on_pick,
                 format_func=lambda c: town_names.get(c, t("ov.pick_none")))

unit_scorecard.show(f.scope, f.area_code, f.period)

with st.expander(t("ov.details")):
    detail = vals.filter(pl.col("applicable")).select(
        pl.col("name_en" if lang == "en" else "name_zh").alias(t("ov.col.indicator")),
        pl.col("value").alias(t("ov.col.value")), pl.col("target").alias(t("ov.col.target")),
        pl.col("rag").replace_strict({k: t(f"ov.rag.{k}") for k in ("green", "amber", "red")},
                                     default=t("ov.rag.none")).alias(t("ov.col.rag")),
        pl.col("prev_value").alias(t("ov.col.prev")), pl.col("yoy_value").alias(t("ov.col.yoy")),
        pl.col("numerator").alias(t("ov.col.num")), pl.col("denominator").alias(t("ov.col.den")),
        pl.col("unit"), pl.col("key"))
    tables.show(detail, hide_index=True, width="stretch")
    buttons(detail, f"indicators_{f.area_code}_{f.period.key}", key="ov_detail")
