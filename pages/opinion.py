"""舆情监测: volume and sentiment over time, spike warnings with their places and posts, hot
topics and keywords, handling status, and the post list. All figures come from warehouse.opinion."""

import json
from datetime import timedelta

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import pydeck as pdk
import streamlit as st

from ui import fmt, tables
from ui import map as umap
from ui.cache import call
from ui.download import buttons
from ui.filters import sidebar
from ui.freshness import banner
from ui.i18n import t
from ui.mdtext import md
from ui.plotting import draw, finish, kept_figures, show
from ui.tabs import url_tabs
from warehouse import areas, opinion
from warehouse.pymap import mapped

LEVEL_RGB = {"红": [220, 38, 38], "橙": [234, 120, 20], "黄": [230, 190, 20], "蓝": [37, 99, 235]}

f = sidebar()
SENTIMENT = {v: t(f"opinion.sentiment.{v}") for v in ("negative", "neutral", "positive")}
STAGE = {s: t(f"opinion.stage.{s}") for s in opinion.STATUS_FLOW + ("发现",)}
start, end = f.period.start, f.period.end
name = call(areas.names).get(f.area_code, f.area_code)
st.title(f"{md(name)} · {t('page.opinion')}")
st.caption(t("opinion.caption"))
banner()

s = call(opinion.summary, f.scope, f.area_code, start, end)
w = call(opinion.warnings, f.scope, f.area_code)
# the handling register as it stands now, like the warnings: the year up to the data's now
hv = call(opinion.handling_view, f.scope, f.area_code)
now, prev = s["now"], s["prev"]
cols = st.columns(5)
cols[0].metric(t("opinion.posts"), fmt.num(now["posts"]),
               f"{now['posts'] - prev['posts']:+,} {t('opinion.vs_prev')}" if prev["posts"] else None,
               delta_color="off")
cols[1].metric(t("opinion.negative_share"), fmt.pct(now["negative_share"]),
               fmt.pp(now["negative_share"] - prev["negative_share"])
               if now["negative_share"] is not None and prev["negative_share"] is not None else None,
               delta_color="inverse")
cols[2].metric(t("opinion.avg_sentiment"),
               "—" if now["avg_sentiment"] is None else f"{now['avg_sentiment']:.2f}")
cols[3].metric(t("opinion.located_share"), fmt.pct(now["located_share"]))
cols[4].metric(t("opinion.active_warnings"), fmt.num(w.height))

# ---------------------------------------------------------------- warnings
st.subheader(t("opinion.warnings"), help=t("opinion.warnings_help"))
if w.is_empty():
    st.success(t("opinion.no_warnings"), icon=":material/check_circle:")
else:
    shown = w.with_columns(
        pl.col("kind").replace_strict({k: t(f"opinion.kind.{k}") for k in ("volume", "negative")}),
    ).select(
        pl.col("level").alias(t("opinion.col.level")), pl.col("topic").alias(t("opinion.col.topic")),
        pl.col("area_name").alias(t("opinion.col.area")), pl.col("kind").alias(t("opinion.col.kind")),
        pl.col("started_at").alias(t("opinion.col.started")), pl.col("last_at").alias(t("opinion.col.last")),
        pl.col("posts").alias(t("opinion.col.posts")),
        pl.col("negative_share").alias(t("opinion.col.neg_share")),
        pl.col("peak_z").alias(t("opinion.col.peak_z")),
        pl.col("baseline_median").alias(t("opinion.col.baseline")))
    tables.show(shown, hide_index=True, placeholder="—", width="stretch", column_config={
        t("opinion.col.neg_share"): st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
        t("opinion.col.started"): st.column_config.DateColumn(format="YYYY-MM-DD"),
        t("opinion.col.last"): st.column_config.DateColumn(format="YYYY-MM-DD")})
    buttons(w, "opinion_warnings", key="dl_warnings")
    options = list(range(w.height))
    pick = st.selectbox(t("opinion.pick_warning"), options, format_func=lambda i: (
        f"[{w['level'][i]}] {w['area_name'][i]} · {w['topic'][i]} · "
        f"{fmt.day(w['started_at'][i])}"))
    warn = w.row(pick, named=True)
    record = hv["records"].filter((pl.col("area_code") == warn["area_code"]) & (pl.col("topic") == warn["topic"])
                                  & pl.col("is_open"))
    if record.height:  # where its handling stands (the register below has the full record)
        r = record.row(0, named=True)
        st.info(t("opinion.warning_stage", id=md(r["opinion_case_id"]), stage=STAGE.get(r["stage"], r["stage"]),
                  hours=fmt.num(r["waiting_hours"], 0), opened=fmt.moment(r["opened_at"])),
                icon=":material/assignment:")
    places = call(opinion.warning_places, f.scope, warn["topic"], warn["area_code"], warn["started_at"])
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**{t('opinion.places')}**")
        if places.height:
            pts = places.with_columns(radius=(pl.col("posts").sqrt() * 120).clip(150, 2500)).to_dicts()
            colour = LEVEL_RGB.get(warn["level"], [37, 99, 235])
            shapes = call(areas.areas, f.scope, parent=warn["area_code"], with_geometry=True)
            outlines = {"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": json.loads(g), "properties": {}}
                for g in shapes["geometry"].to_list() if g]}
            view = umap.view_for(shapes, 600, 320, fallback=(places["lon"].min(), places["lat"].min(),
                                                             places["lon"].max(), places["lat"].max()))
            st.pydeck_chart(umap.deck(
                [pdk.Layer("GeoJsonLayer", outlines, stroked=True, filled=True,
                                  get_fill_color=[245, 245, 240, 255], get_line_color=[150, 150, 150],
                                  line_width_min_pixels=1),
                        pdk.Layer("ScatterplotLayer", pts, get_position=["lon", "lat"],
                                  get_radius="radius", get_fill_color=colour + [170], pickable=True,
                                  stroked=True, get_line_color=[40, 40, 40], line_width_min_pixels=1)],
                view, {"text": "{place_text}: {posts}"}), height=320)
    with right:
        tables.show(places.select(pl.col("place_text").alias(t("opinion.place")),
                                   pl.col("posts").alias(t("opinion.col.posts")),
                                   pl.col("negative_share").alias(t("opinion.col.neg_share"))),
                     hide_index=True, placeholder="—", width="stretch", height=320, column_config={
                         t("opinion.col.neg_share"): st.column_config.NumberColumn(format="percent")})
    if f.scope.person_level:
        st.markdown(f"**{t('opinion.warning_posts')}**")
        wp = call(opinion.posts, f.scope, warn["area_code"], warn["started_at"], None, topic=warn["topic"],
                  limit=200)
        tables.show(wp.select(
            pl.col("published_at").alias(t("opinion.col.time")), pl.col("platform").alias(t("opinion.col.platform")),
            pl.col("author").alias(t("opinion.col.author")), pl.col("content").alias(t("opinion.col.content")),
            pl.col("sentiment").replace_strict(SENTIMENT, default=None).alias(t("opinion.col.sentiment")), pl.col("sentiment_score").alias(t("opinion.col.score")),
            pl.col("handling_status").replace(STAGE).alias(t("opinion.col.status"))),
            hide_index=True, placeholder="—", width="stretch", height=240)

# Lazy tabs: only the open one runs its queries and charts; the open tab is kept in the URL.
tab_trend, tab_topics, tab_handling, tab_posts = url_tabs(
    "opinion_tab", ["trend", "topics", "handling", "posts"], "opinion.tab.{}").values()

# ---------------------------------------------------------------- trend


@kept_figures
def trend_figures(tr: pl.DataFrame, lang: str) -> tuple[go.Figure, go.Figure]:
    """Daily volume and 7-day sentiment per group: one trace per platform or town each."""
    labels = {"day": t("opinion.day", lang), "posts": t("opinion.col.posts", lang),
              "group": t("opinion.group", lang), "avg_sentiment_7d": t("opinion.col.avg_7d", lang)}
    df = tr.to_pandas()
    volume = px.bar(df, x="day", y="posts", color="group", labels=labels)
    sentiment = px.line(df, x="day", y="avg_sentiment_7d", color="group", labels=labels, range_y=[0, 1])
    return (finish(volume, lang, 330, t("opinion.chart.volume", lang)),
            finish(sentiment, lang, 300, t("opinion.chart.sentiment", lang)))


with tab_trend:
    if tab_trend.open:
        by = st.radio(t("opinion.by"), ["platform", "area"], horizontal=True,
                      format_func=lambda b: t(f"opinion.by.{b}"), key="opinion_by")
        tr = call(opinion.trend, f.scope, f.area_code, start, end, by=by)
        if tr.is_empty():
            st.info(t("opinion.no_posts"))
        else:
            for fig in trend_figures(tr, f.lang):
                draw(fig)
            buttons(tr, "opinion_daily", key="dl_trend")

# ---------------------------------------------------------------- topics and keywords
with tab_topics:
    if tab_topics.open:
        left, right = st.columns([3, 2])
        topics = call(opinion.hot_topics, f.scope, f.area_code, start, end)
        with left:
            st.markdown(f"**{t('opinion.hot_topics')}**")
            if topics.height:
                fig = px.bar(topics.to_pandas(), x="posts", y="topic", orientation="h", color="negative_share",
                             color_continuous_scale="OrRd", range_color=[0, 1],
                             labels={"posts": t("opinion.col.posts"), "topic": "",
                                     "negative_share": t("opinion.col.neg_share")})
                fig.update_layout(yaxis={"categoryorder": "total ascending"})
                show(fig, 380)
                tables.show(topics.select(
                    pl.col("topic").alias(t("opinion.col.topic")), pl.col("posts").alias(t("opinion.col.posts")),
                    pl.col("prev_posts").alias(t("opinion.col.prev")), pl.col("change").alias(t("opinion.col.change")),
                    pl.col("negative_share").alias(t("opinion.col.neg_share"))),
                    hide_index=True, placeholder="—", width="stretch", column_config={
                        t("opinion.col.change"): st.column_config.NumberColumn(format="percent"),
                        t("opinion.col.neg_share"): st.column_config.NumberColumn(format="percent")})
                buttons(topics, "opinion_topics", key="dl_topics")
        with right:
            st.markdown(f"**{t('opinion.keywords')}**")
            kw = call(opinion.hot_keywords, f.scope, f.area_code, start, end)
            tables.show(kw.select(pl.col("keyword").alias(t("opinion.col.keyword")),
                                   pl.col("posts").alias(t("opinion.col.posts")),
                                   pl.col("prev_posts").alias(t("opinion.col.prev")),
                                   pl.col("change").alias(t("opinion.col.change"))),
                         hide_index=True, placeholder="—", width="stretch", height=560, column_config={
                             t("opinion.col.change"): st.column_config.NumberColumn(format="percent")})

# ---------------------------------------------------------------- handling
with tab_handling:
    if tab_handling.open:
        rec, stages, tot, seg = hv["records"], hv["stages"], hv["totals"], hv["segments"]
        st.caption(t("opinion.handling_help", start=fmt.day(hv["now"] - timedelta(days=opinion.HANDLING_WINDOW_DAYS)),
                     end=fmt.moment(hv["now"])))
        if rec.is_empty():
            st.info(t("opinion.no_handling"))
        else:
            def stage_name(s: str) -> str:
                return STAGE.get(s, s)


            m = st.columns(4)
            m[0].metric(t("opinion.handling.records"), fmt.num(tot["records"]))
            m[1].metric(t("opinion.handling.open"), fmt.num(tot["open"]))
            m[2].metric(t("opinion.handling.closed"), fmt.num(tot["closed"]))
            mc = tot["median_close_hours"]
            m[3].metric(t("opinion.handling.median_close"), "—" if mc is None else f"{fmt.num(mc, 1)} {t('opinion.hours_unit')}",
                        help=None if mc is None else t("opinion.handling.days", d=fmt.num(mc / 24, 1)))
            left, right = st.columns([5, 4])
            with left:
                names = [stage_name(x) for x in stages["stage"]]
                fig = go.Figure([go.Bar(name=t("opinion.col.median_hours"), x=names, y=stages["median_hours"].to_list(),
                                        marker_color="#2e75b6", texttemplate="%{y:.1f}", textposition="outside"),
                                 go.Bar(name=t("opinion.col.p90_hours"), x=names, y=stages["p90_hours"].to_list(),
                                        marker_color="#9dc3e6", texttemplate="%{y:.1f}", textposition="outside")])
                fig.update_layout(barmode="group", yaxis_title=t("opinion.hours"),
                                  legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"})
                show(fig, 300, title=t("opinion.handling.stage_chart"))
            with right:
                st.markdown(f"**{t('opinion.handling.stage_table')}**")
                tables.show(stages.select(
                    mapped(stages, "stage", stage_name).alias(t("opinion.col.status")),
                    pl.col("reached").alias(t("opinion.col.reached")),
                    pl.col("median_hours").alias(t("opinion.col.median_hours")),
                    pl.col("p90_hours").alias(t("opinion.col.p90_hours")),
                    pl.col("waiting_now").alias(t("opinion.col.waiting_now"))),
                    hide_index=True, placeholder="—", width="stretch", column_config={
                        t(f"opinion.col.{c}"): st.column_config.NumberColumn(format="%.1f")
                        for c in ("median_hours", "p90_hours")})
                buttons(stages, "opinion_handling_stages", key="dl_handling_stages")

            # the timeline: every open record and the latest closed ones, one bar per stage
            shown_ids = pl.concat([rec.filter(pl.col("is_open")), rec.filter(~pl.col("is_open")).head(12)]
                                  ).sort("opened_at", descending=True)
            label = {r["opinion_case_id"]: f"{fmt.day(r['opened_at'])} {r['area_name'] or r['area_code']} · "
                                           f"{r['topic']}（{r['level']}）" for r in shown_ids.iter_rows(named=True)}
            part = seg.filter(pl.col("opinion_case_id").is_in(list(label)))
            running = t("opinion.handling.running")
            part = part.with_columns(
                pl.col("opinion_case_id").replace_strict(label).alias("record"),
                pl.when(pl.col("running")).then(pl.lit(running))
                .otherwise(mapped(part, "stage", stage_name)).alias("what"))
            colours = dict(zip([stage_name(x) for _, x, _ in opinion.HANDLING_STAGES],
                               ["#c5dbef", "#9dc3e6", "#4a90c8", "#2e75b6", "#1f4e79"])) | {running: "#f59e0b"}
            fig = px.timeline(part.to_pandas(), x_start="start", x_end="finish", y="record", color="what",
                              color_discrete_map=colours, hover_data={"hours": ":.1f", "record": False, "what": False},
                              category_orders={"what": list(colours),
                                               "record": [label[i] for i in shown_ids["opinion_case_id"]]},
                              labels={"hours": t("opinion.hours"), "what": "", "record": ""})
            fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
            show(fig, 90 + 26 * len(label), title=t("opinion.handling.timeline"))
            st.caption(t("opinion.handling.timeline_note"))

            hour_cols = [f"{k}_hours" for k, _, _ in opinion.HANDLING_STAGES]
            table = rec.select(
                pl.col("level").alias(t("opinion.col.level")), pl.col("area_name").alias(t("opinion.col.area")),
                pl.col("topic").alias(t("opinion.col.topic")), pl.col("opened_at").alias(t("opinion.col.opened")),
                mapped(rec, "stage", stage_name).alias(t("opinion.col.status")),
                pl.when(pl.col("is_open")).then(pl.lit(t("opinion.handling.open_flag")))
                .otherwise(pl.lit(t("opinion.handling.closed_flag"))).alias(t("opinion.col.state")),
                *[pl.col(c).alias(t("opinion.col.stage_hours", stage=stage_name(n)))
                  for c, (_, n, _) in zip(hour_cols, opinion.HANDLING_STAGES)],
                pl.col("waiting_hours").alias(t("opinion.col.waiting_hours")),
                pl.col("total_hours").alias(t("opinion.col.total_hours")))
            hours = st.column_config.NumberColumn(format="%.1f")  # a stage not reached yet shows —
            tables.show(table, hide_index=True, placeholder="—", width="stretch", height=320, column_config={
                **dict.fromkeys(table.columns[6:], hours),
                t("opinion.col.opened"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
            buttons(rec, "opinion_handling", key="dl_handling")

# ---------------------------------------------------------------- posts
with tab_posts:
    if tab_posts.open:
        if not f.scope.person_level:
            st.info(t("opinion.aggregate_only"))
        else:
            c = st.columns(4)
            platform = c[0].selectbox(t("opinion.filter.platform"), [None, *call(opinion.platforms, f.scope)],
                                      format_func=lambda v: t("filter.all") if v is None else v)
            hot = call(opinion.hot_topics, f.scope, f.area_code, start, end)
            topic = c[1].selectbox(t("opinion.filter.topic"), [None, *hot["topic"].to_list()],
                                   format_func=lambda v: t("filter.all") if v is None else v)
            sentiment = c[2].selectbox(t("opinion.filter.sentiment"), [None, "negative", "neutral", "positive"],
                                       format_func=lambda v: t("filter.all") if v is None else t(f"opinion.sentiment.{v}"))
            text = c[3].text_input(t("opinion.filter.text")).strip() or None
            ps = call(opinion.posts, f.scope, f.area_code, start, end, platform=platform, topic=topic,
                      sentiment=sentiment, text=text)
            st.caption(t("opinion.posts_shown", n=fmt.num(ps.height)))
            tables.show(ps.select(
                pl.col("published_at").alias(t("opinion.col.time")), pl.col("platform").alias(t("opinion.col.platform")),
                pl.col("author").alias(t("opinion.col.author")), pl.col("content").alias(t("opinion.col.content")),
                pl.col("area_name").alias(t("opinion.col.area")), pl.col("topic").alias(t("opinion.col.topic")),
                pl.col("sentiment").replace_strict(SENTIMENT, default=None).alias(t("opinion.col.sentiment")), pl.col("sentiment_score").alias(t("opinion.col.score")),
                pl.col("engagement").alias(t("opinion.col.engagement")),
                pl.col("handling_status").replace(STAGE).alias(t("opinion.col.status"))),
                hide_index=True, placeholder="—", width="stretch", height=420)
            buttons(ps, "opinion_posts", key="dl_posts")
