"""事件闭环: funnel, dwell times, deadlines, 三率, resolution level, variants, channels, case list.

`/cases?case=<case_id>` opens one case's timeline instead. Every figure comes from
warehouse/caseloop.py through ui.cache.call; this page only lays out and draws.
"""

import math
from functools import partial

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from ui import dispute_view, fmt, tables
from ui.cache import call
from ui.download import buttons
from ui.filters import sidebar
from ui.freshness import banner
from ui.i18n import t
from ui.mdtext import md
from ui.plotting import show
from ui.tabs import url_tabs
from warehouse import areas, process
from warehouse import caseloop as cl
from warehouse.periods import shift
from warehouse.pymap import mapped

PAGE_SIZE = 50
UNIT_ROWS = 20  # units in the dwell-by-unit heatmap
VARIANT_ROWS = 10  # paths in the variant explorer chart (the table lists 20)
# main steps in the funnel's blues; the detours stand out
VARIANT_COLOURS = {"report": "#1f4e79", "accept": "#2e75b6", "dispatch": "#4a90c8", "handle": "#74a9d8",
                   "verify": "#9dc3e6", "close": "#c5dbef", "return": "#f59e0b", "escalate": "#c00000"}
# case ids link to their timeline (/cases?case=…); the link shows the id itself
CASE_LINK = st.column_config.LinkColumn(display_text=r"case=(.*)$")
STEP_COLOURS = ["#1f4e79", "#2e75b6", "#4a90c8", "#74a9d8", "#9dc3e6", "#c5dbef"]

f = sidebar()


def step_label(s: str) -> str:
    return t(f"cl.step.{s}")


def path_label(variant: str) -> str:
    return " → ".join(step_label(s) for s in variant.split(">"))


def rename(df: pl.DataFrame) -> pl.DataFrame:
    """Column headers in the reader's language."""
    return df.rename({c: t(f"cl.col.{c}") for c in df.columns if t(f"cl.col.{c}") != f"cl.col.{c}"})


def translate(df: pl.DataFrame, col: str, prefix: str) -> pl.DataFrame:
    return df.with_columns(mapped(df, col, lambda v: t(f"{prefix}.{v}") if v else v))


def chart(fig, height=360):
    fig.update_layout(margin={"t": 40})
    show(fig, height)  # shared layout, Chinese date ticks, PNG download


# ---------------------------------------------------------------- one case's timeline

case_id = st.query_params.get("case")
if case_id:
    detail = call(cl.case_detail, f.scope, case_id)
    st.page_link("pages/cases.py", label=t("cl.case.back"), icon=":material/arrow_back:",
                 query_params={"area": f.area_code, "lang": f.lang})
    if detail is None:
        st.title(t("page.cases"))
        st.warning(t("cl.case.missing", case_id=md(case_id)))
        st.stop()
    st.title(t("cl.case.title", case_id=md(case_id)))
    st.caption(f"{md(detail['case_type'])} · {md(detail['category'])} · {md(detail['source_channel'])} · "
               f"{md(detail['town_name'] or '')} {md(detail['area_code'])}")
    cols = st.columns(4)
    cols[0].metric(t("cl.col.status"), t(f"cl.status.{detail['status']}"))
    cols[1].metric(t("cl.col.is_overdue"), t("cl.yes") if detail["overdue"] else t("cl.no"))
    cols[2].metric(t("cl.col.resolved_level"),
                   t(f"cl.level.{detail['resolved_level']}") if detail["resolved_level"] else "—")
    cols[3].metric(t("cl.col.satisfaction"),
                   t(f"cl.sat.{detail['satisfaction']}") if detail["satisfaction"] else "—")
    def plain(v) -> str:  # data is text, never Markdown: no link, image or emphasis (#18)
        return md(v or None)

    st.markdown(f"**{t('cl.col.reported_at')}**：{fmt.moment(detail['reported_at'])} · "
                f"**{t('cl.case.deadline')}**：{fmt.moment(detail['deadline_at'])} · "
                f"**{t('cl.col.duration_h')}**：{fmt.num(detail['duration_h'], 1)}  \n"
                f"**{t('cl.case.description')}**：{plain(detail['description'])}  \n"
                f"**{t('cl.col.reporter_masked')}**：{plain(detail['reporter_masked'])} · "
                f"{plain(detail['phone_masked'])}  \n"
                f"**{t('cl.case.path')}**：{path_label(detail['variant']) if detail['variant'] else '—'}")
    tl = call(cl.case_timeline, f.scope, case_id)
    st.subheader(t("cl.case.timeline"))
    if tl.height:
        fig = go.Figure(go.Scatter(
            x=tl["occurred_at"].to_list(), y=[step_label(s) if s else a for s, a in zip(tl["step"], tl["activity"])],
            text=tl["activity"].to_list(), mode="lines+markers",
            hovertext=[u or "" for u in tl["unit"]], marker={"size": 12, "color": "#2e75b6"},
            line={"color": "#9dc3e6"}))
        fig.add_vline(x=detail["deadline_at"], line_dash="dash", line_color="#c00000")
        fig.add_annotation(x=detail["deadline_at"], y=1, yref="paper", text=t("cl.case.deadline"),
                           showarrow=False, font={"color": "#c00000"}, xanchor="right")
        fig.update_yaxes(categoryorder="array", categoryarray=[step_label(s) for s in
                         ("report", "accept", "dispatch", "escalate", "handle", "return", "verify", "close")])
        chart(fig, 380)
        tables.show(rename(translate(tl, "step", "cl.step")), hide_index=True, placeholder="—", width="stretch",
                     column_config={t(f"cl.col.{c}"): st.column_config.NumberColumn(format="%.1f")
                                    for c in ("hours_since_previous", "hours_since_report")})
    used = call(process.of_case, case_id)
    with st.expander(t("proc.title", name=md(used["process"])), expanded=False):
        st.caption(t("proc.help"))
        tables.show(used["map"].with_columns(
            pl.col("stage").replace_strict({s: t(f"cl.step.{s}") for s in process.ALL}, default=t("proc.unmapped"),
                                           return_dtype=pl.Utf8))
                     .rename({"activity": t("cl.col.activity"), "stage": t("proc.stage"), "events": t("proc.events")}),
                     hide_index=True, width="stretch")
    st.stop()

# ---------------------------------------------------------------- the loop for a selection

name = call(areas.names).get(f.area_code, f.area_code)
st.title(f"{md(name)} · {t('page.cases')}")
st.caption(t("cl.caption"))
banner()

opts = call(cl.filter_options, f.scope)
c1, c2, c3 = st.columns(3)
categories = tuple(c2.multiselect(t("cl.f.categories"), opts["category"], key="cl_categories",
                                  placeholder=t("cl.f.all")))
type_opts = opts["case_type"]
types = tuple(c1.multiselect(t("cl.f.types"), type_opts, key="cl_types", placeholder=t("cl.f.all")))
channels = tuple(c3.multiselect(t("cl.f.channels"), opts["source_channel"], key="cl_channels",
                                placeholder=t("cl.f.all")))
sel = {"area": f.area_code, "start": f.period.start, "end": f.period.end, "case_types": types,
       "categories": categories}
sel_ch = sel | {"channels": channels}

s = call(cl.summary, f.scope, **sel_ch)
if not s["cases"]:
    st.info(t("cl.empty"))
    st.stop()
m = st.columns(6)
m[0].metric(t("cl.m.cases"), fmt.num(s["cases"]))
m[1].metric(t("cl.m.closed"), fmt.pct(s["closed_share"]))
m[2].metric(t("cl.m.overdue"), fmt.pct(s["overdue_share"]))
m[3].metric(t("cl.m.open_overdue"), f"{fmt.num(s['open_overdue_now'])} / {fmt.num(s['open_now'])}",
            help=t("cl.m.open_help"))
m[4].metric(t("cl.m.local"), fmt.pct(s["local_share"]),
            fmt.pp(s["local_share"] - s["local_target"]) if s["local_share"] is not None else None,
            help=t("cl.m.local_help"))
m[5].metric(t("cl.m.satisfaction"), fmt.pct(s["satisfaction_rate"]))

# Lazy tabs: only the open one runs its queries and charts; the open tab is kept in the URL.
TAB_KEYS = ("funnel", "dwell", "overdue", "rates", "variants", "channels", "list")
tab = url_tabs("cl_tab", list(TAB_KEYS), "cl.tab.{}")

# -- funnel
with tab["funnel"]:
    if tab["funnel"].open:
        fun = call(cl.funnel, f.scope, **sel_ch)
        left, right = st.columns([3, 2])
        with left:
            fig = go.Figure(go.Funnel(
                y=[step_label(s) for s in fun["step"]], x=fun["reached"].to_list(),
                text=[f"{fmt.num(n)} · {fmt.pct(p)}" for n, p in zip(fun["reached"], fun["share_of_reported"])],
                textinfo="text", marker={"color": STEP_COLOURS}))
            fig.update_layout(title=t("cl.funnel.title"))
            chart(fig, 380)
        with right:
            stuck = fun.filter(pl.col("step") != "close")
            y = [step_label(s) for s in stuck["step"]]
            fig = go.Figure([go.Bar(name=t("cl.col.open_now_all"), y=y, x=stuck["open_now_all"].to_list(),
                                    orientation="h", marker_color="#9dc3e6", text=stuck["open_now_all"].to_list(),
                                    textangle=0),
                             go.Bar(name=t("cl.col.open_overdue_now_all"), y=y,
                                    x=stuck["open_overdue_now_all"].to_list(), orientation="h",
                                    marker_color="#c00000", text=stuck["open_overdue_now_all"].to_list(), textangle=0)])
            fig.update_layout(title=t("cl.funnel.stuck_title"), barmode="group",
                              legend={"orientation": "h", "y": -0.15})
            fig.update_yaxes(autorange="reversed")
            chart(fig, 380)
        st.caption(t("cl.funnel.note"))
        tables.show(rename(translate(fun, "step", "cl.step")), hide_index=True, placeholder="—", width="stretch",
                     column_config={t("cl.col.share_of_reported"): st.column_config.NumberColumn(format="percent"),
                                    t("cl.col.conversion"): st.column_config.NumberColumn(format="percent"),
                                    t("cl.col.stuck_median_hours"): st.column_config.NumberColumn(format="%.1f")})
        buttons(fun, "funnel", key="funnel")

# -- dwell
with tab["dwell"]:
    if tab["dwell"].open:
        st.subheader(t("cl.dwell.title"))
        st.caption(t("cl.dwell.note"))
        overall = call(cl.dwell, f.scope, **sel_ch, by=None)
        labels = [t("cl.dwell.next", a=step_label(s), b=step_label(cl.NEXT_STEP[s])) for s in overall["step"]]
        fig = go.Figure([go.Bar(name=t("cl.col.median_hours"), x=labels, y=overall["median_hours"].to_list(),
                                marker_color="#2e75b6", texttemplate="%{y:.1f}"),
                         go.Bar(name=t("cl.col.p90_hours"), x=labels, y=overall["p90_hours"].to_list(),
                                marker_color="#9dc3e6", texttemplate="%{y:.1f}")])
        fig.update_layout(barmode="group", yaxis_title=t("cl.hours"))
        chart(fig, 340)
        # options are the labels themselves (no format_func), mapped back to the grouping column
        by_options = {t("cl.dwell.by_type"): "case_type", t("cl.dwell.by_unit"): "responsible_unit"}
        by = by_options[st.radio(t("cl.dwell.by"), list(by_options), horizontal=True, key="cl_dwell_by")]
        dw = call(cl.dwell, f.scope, **sel_ch, by=by)
        if by == "case_type" and dw.height:
            heat = dw.pivot(on="step", index="case_type", values="median_hours").sort("case_type")
            steps = [s for s in cl.DWELL_STEPS if s in heat.columns]
            fig = px.imshow(heat.select(steps).to_numpy(), x=[step_label(s) for s in steps],
                            y=heat["case_type"].to_list(), color_continuous_scale="Blues", aspect="auto",
                            text_auto=".0f", title=t("cl.dwell.heat"))
            chart(fig, 40 + 24 * heat.height)
        elif by == "responsible_unit" and dw.height:
            # the units that handled most cases (readable at a glance; the table lists them all)
            busiest = (dw.group_by("responsible_unit").agg(pl.col("n").max()).sort("n", descending=True)
                       .head(UNIT_ROWS)["responsible_unit"].to_list())
            heat = (dw.filter(pl.col("responsible_unit").is_in(busiest))
                    .pivot(on="step", index="responsible_unit", values="median_hours"))
            heat = heat.join(pl.DataFrame({"responsible_unit": busiest, "_o": range(len(busiest))}),
                             on="responsible_unit").sort("_o")
            steps = [s for s in cl.DWELL_STEPS if s in heat.columns]
            fig = px.imshow(heat.select(steps).to_numpy(), x=[step_label(s) for s in steps],
                            y=heat["responsible_unit"].to_list(), color_continuous_scale="Blues", aspect="auto",
                            text_auto=".0f", title=t("cl.dwell.heat_unit", n=len(busiest)))
            chart(fig, 60 + 24 * heat.height)
        tables.show(rename(translate(dw, "step", "cl.step")), hide_index=True, placeholder="—", width="stretch", height=320,
                     column_config={t(f"cl.col.{c}"): st.column_config.NumberColumn(format="%.1f")
                                    for c in ("median_hours", "p90_hours", "mean_hours")})
        buttons(dw, f"dwell_{by}", key="dwell")

# -- deadlines and overdue
with tab["overdue"]:
    if tab["overdue"].open:
        od = call(cl.overdue_by_type, f.scope, **sel_ch)
        fig = px.bar(od.to_pandas(), x="case_type", y="overdue_share", text="overdue",
                     labels={"case_type": "", "overdue_share": t("cl.col.overdue_share"), "overdue": t("cl.col.overdue")},
                     title=t("cl.overdue.title"), color="overdue_share", color_continuous_scale="OrRd",
                     hover_data=["cases", "deadline_hours"])
        fig.update_yaxes(tickformat=".0%")
        fig.update_coloraxes(showscale=False)
        chart(fig, 360)
        tables.show(rename(od), hide_index=True, placeholder="—", width="stretch", height=240,
                     column_config={t("cl.col.overdue_share"): st.column_config.NumberColumn(format="percent")})
        st.subheader(t("cl.overdue.open"))
        if f.scope.person_level:
            oo = call(cl.overdue_open, f.scope, f.area_code, types, categories, channels)
            if oo.height:
                view = translate(oo, "status", "cl.status").with_columns(
                    ("cases?case=" + pl.col("case_id")).alias("case_id"))
                tables.show(rename(view), hide_index=True, placeholder="—", width="stretch", height=320,
                             column_config={t("cl.col.case_id"): CASE_LINK,
                                            t("cl.col.hours_over"): st.column_config.NumberColumn(format="%.0f")})
                buttons(oo, "overdue_open", key="overdue_open")
            else:
                st.success(t("cl.overdue.none"))

# -- 三率 and resolution level
with tab["rates"]:
    if tab["rates"].open:
        window = {"area": f.area_code, "start": shift(f.period.end, -12), "end": f.period.end,
                  "case_types": types, "categories": categories}
        trend = call(cl.rates_12345, f.scope, **window, per_town=False)
        st.subheader(t("cl.rates.title"))
        if trend.height:
            long = trend.unpivot(index="month", on=["response_rate", "solve_rate", "satisfaction_rate"])
            long = long.with_columns(mapped(long, "variable", lambda v: t(f"cl.col.{v}")))
            fig = px.line(long.to_pandas(), x="month", y="value", color="variable", markers=True,
                          labels={"month": "", "value": "", "variable": ""}, title=t("cl.rates.trend"))
            fig.update_yaxes(tickformat=".0%")
            chart(fig, 320)
            per_town = call(cl.rates_12345, f.scope, **sel)
            tables.show(rename(per_town.drop("town_code")), hide_index=True, placeholder="—", width="stretch", height=280,
                         column_config={t(f"cl.col.{c}"): st.column_config.NumberColumn(format="percent")
                                        for c in ("response_rate", "solve_rate", "satisfaction_rate")}
                         | {t("cl.col.month"): st.column_config.DateColumn(format="YYYY-MM")})
            buttons(per_town, "rates_12345", key="rates")
        else:
            st.info(t("cl.rates.none"))
        st.subheader(t("cl.level.title"))
        res = call(cl.resolution, f.scope, **sel_ch)
        towns = res.filter(pl.col("town_code").is_not_null())
        left, right = st.columns([3, 2])
        with left:
            fig = px.bar(towns.sort("local_share").to_pandas(), y="town_name", x="local_share", orientation="h",
                         color="meets_target", color_discrete_map={True: "#2e75b6", False: "#c00000"},
                         text="local_share", labels={"town_name": "", "local_share": t("cl.level.axis")})
            # the target is named in the axis title: a label on the line would sit on the bars
            fig.add_vline(x=cl.LOCAL_TARGET, line_dash="dash", line_color="#444")
            fig.update_traces(texttemplate="%{text:.1%}", textangle=0)
            fig.update_xaxes(tickformat=".0%", range=[min(0.8, (towns["local_share"].min() or 0.8) - 0.02), 1.01])
            fig.update_layout(showlegend=False)
            chart(fig, 60 + 28 * max(towns.height, 4))
        with right:
            total = res.filter(pl.col("town_code").is_null())
            if total.height:
                tr = total.row(0, named=True)
                mix = pl.DataFrame({"level": [t(f"cl.level.{lv}") for lv in cl.LEVELS],
                                    "cases": [tr[lv] for lv in cl.LEVELS]})
                fig = px.pie(mix.to_pandas(), names="level", values="cases", hole=0.5,
                             color_discrete_sequence=["#2e75b6", "#9dc3e6", "#c00000"])
                chart(fig, 340)
        total_label = t("cl.total")
        tables.show(rename(res.with_columns(pl.col("town_name").fill_null(total_label)).drop("town_code", "target")),
                     hide_index=True, placeholder="—", width="stretch",
                     column_config={t("cl.col.local_share"): st.column_config.NumberColumn(format="percent")})
        buttons(res, "resolution_level", key="resolution")
        dispute_view.show(f.scope, f.area_code, f.period.start, f.period.end)
        st.subheader(t("cl.rework.title"))
        rw = call(cl.rework, f.scope, **sel_ch)
        tables.show(rename(rw.with_columns(pl.col("case_type").fill_null(total_label))), hide_index=True, placeholder="—",
                     width="stretch", height=300,
                     column_config={t(f"cl.col.{c}"): st.column_config.NumberColumn(format="percent")
                                    for c in ("return_rate", "escalation_rate")})
        buttons(rw, "rework", key="rework")
        left, _ = st.columns([2, 3])
        with left:
            st.subheader(t("cl.sat.title"))
            sm = call(cl.satisfaction_mix, f.scope, **sel_ch)
            fig = px.pie(translate(sm, "satisfaction", "cl.sat").to_pandas(), names="satisfaction", values="cases",
                         hole=0.5, color_discrete_sequence=["#2e75b6", "#9dc3e6", "#c00000"])
            chart(fig, 300)

# -- process variants
with tab["variants"]:
    if tab["variants"].open:
        st.subheader(t("cl.variants.title"))
        st.caption(t("cl.variants.note"))
        va = call(cl.variants, f.scope, **sel_ch, limit=20)
        if va.height:
            # variant explorer, as process-mining tools draw it: one row of step blocks per path
            top = va.head(VARIANT_ROWS)
            rows = [t("cl.variants.row", i=i + 1, n=fmt.num(n), h=fmt.num(h, 0))
                    for i, (n, h) in enumerate(zip(top["cases"], top["mean_hours"]))]
            fig = go.Figure()
            for step, colour in VARIANT_COLOURS.items():
                xs, ys = [], []
                for row, variant in zip(rows, top["variant"]):
                    for j, s_ in enumerate(variant.split(">")):
                        if s_ == step:
                            xs.append(j + 1)
                            ys.append(row)
                fig.add_scatter(x=xs, y=ys, mode="markers", name=step_label(step),
                                marker={"symbol": "square", "size": 22, "color": colour},
                                hovertemplate="%{y}<br>" + step_label(step) + "<extra></extra>")
            fig.update_yaxes(categoryorder="array", categoryarray=rows[::-1], showgrid=False)
            fig.update_xaxes(title=t("cl.variants.position"), dtick=1, showgrid=False, zeroline=False)
            fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
            chart(fig, 110 + 32 * len(rows))
        view = va.with_columns(mapped(va, "variant", path_label)).drop("closed")
        tables.show(rename(view), hide_index=True, placeholder="—", width="stretch",
                     column_config={t("cl.col.variant"): st.column_config.TextColumn(width="large"),
                                    t("cl.col.share"): st.column_config.ProgressColumn(format="percent",
                                                                                       min_value=0, max_value=1),
                                    t("cl.col.mean_hours"): st.column_config.NumberColumn(format="%.1f"),
                                    t("cl.col.median_hours"): st.column_config.NumberColumn(format="%.1f")})
        buttons(va, "variants", key="variants")
        st.subheader(t("cl.variants.transitions"))
        tr = call(cl.transitions, f.scope, **sel_ch)
        tables.show(rename(translate(translate(tr, "from_step", "cl.step"), "to_step", "cl.step")), hide_index=True, placeholder="—",
                     width="stretch",
                     column_config={t(f"cl.col.{c}"): st.column_config.NumberColumn(format="%.1f")
                                    for c in ("mean_hours", "median_hours")})

# -- channels
with tab["channels"]:
    if tab["channels"].open:
        ch = call(cl.channels, f.scope, **sel)
        st.subheader(t("cl.channels.title"))
        shown = translate(ch, "source_channel", "cl.ch")
        fig = px.bar(shown.to_pandas(), x="source_channel", y="cases", text="cases", color="overdue_share",
                     color_continuous_scale="OrRd", labels={"source_channel": "", "cases": t("cl.col.cases"),
                                                             "overdue_share": t("cl.col.overdue_share")})
        fig.update_coloraxes(colorbar_tickformat=".0%")
        fig.update_traces(textangle=0)
        chart(fig, 320)
        tables.show(rename(shown), hide_index=True, placeholder="—", width="stretch",
                     column_config={t(f"cl.col.{c}"): st.column_config.NumberColumn(format="percent")
                                    for c in ("share", "closed_share", "overdue_share", "satisfaction_rate",
                                              "local_share", "return_rate")}
                     | {t("cl.col.median_hours_to_close"): st.column_config.NumberColumn(format="%.1f")})
        buttons(ch, "channels", key="channels")

# -- case list
with tab["list"]:
    if tab["list"].open:
        if f.scope.person_level:
            n = call(cl.case_count, f.scope, **sel_ch)
            pages = max(1, math.ceil(n / PAGE_SIZE))
            a, b, c = st.columns([2, 1, 1])
            sort_options = {t(f"cl.col.{k}"): k for k in cl.SORTABLE}
            sort = sort_options[a.selectbox(t("cl.list.sort"), list(sort_options), key="cl_sort")]
            desc = b.toggle(t("cl.list.desc"), value=True, key="cl_desc")
            page = c.number_input(t("cl.list.page"), 1, pages, 1, key="cl_page")
            st.caption(t("cl.list.total", n=fmt.num(n), page=page, pages=pages))
            rows = call(cl.case_list, f.scope, **sel_ch, sort=sort, descending=desc,
                        offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
            view = (translate(translate(rows, "status", "cl.status"), "resolved_level", "cl.level")
                    .rename({"overdue": "is_overdue"})
                    .with_columns(("cases?case=" + pl.col("case_id")).alias("case_id")))
            tables.show(rename(view), hide_index=True, placeholder="—", width="stretch", height=420,
                         column_config={t("cl.col.case_id"): CASE_LINK,
                                        t("cl.col.duration_h"): st.column_config.NumberColumn(format="%.1f")})
            # the download holds every case of the selection (scope applied), fetched on click
            buttons(partial(cl.case_list, f.scope, **sel_ch, sort=sort, descending=desc, limit=None),
                    f"cases_{f.period.key}", key="cases")
            st.caption(t("cl.list.export_note", n=fmt.num(n)))
