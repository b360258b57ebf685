"""舆情监测: volume and sentiment over time, spike warnings with their places and posts, hot
topics and keywords, handling status, and the post list. All figures come from warehouse.opinion."""

import json

import plotly.express as px
import polars as pl
import pydeck as pdk
import streamlit as st

from ui import fmt
from ui.cache import call
from ui.download import buttons
from ui.filters import sidebar
from ui.freshness import banner
from ui.i18n import t
from warehouse import areas, opinion

LEVEL_RGB = {"红": [220, 38, 38], "橙": [234, 120, 20], "黄": [230, 190, 20], "蓝": [37, 99, 235]}
PLOT = {"displaylogo": False}

f = sidebar()
start, end = f.period.start, f.period.end
name = call(areas.names).get(f.area_code, f.area_code)
st.title(f"{name} · {t('page.opinion')}")
st.caption(t("opinion.caption"))
banner()

s = call(opinion.summary, f.scope, f.area_code, start, end)
w = call(opinion.warnings, f.scope, f.area_code)
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
    st.dataframe(shown, hide_index=True, use_container_width=True, column_config={
        t("opinion.col.neg_share"): st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
        t("opinion.col.started"): st.column_config.DateColumn(format="YYYY-MM-DD"),
        t("opinion.col.last"): st.column_config.DateColumn(format="YYYY-MM-DD")})
    buttons(w, "opinion_warnings", key="dl_warnings")
    options = list(range(w.height))
    pick = st.selectbox(t("opinion.pick_warning"), options, format_func=lambda i: (
        f"[{w['level'][i]}] {w['area_name'][i]} · {w['topic'][i]} · "
        f"{fmt.day(w['started_at'][i])}"))
    warn = w.row(pick, named=True)
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
            view = pdk.ViewState(longitude=float(places["lon"].mean()), latitude=float(places["lat"].mean()),
                                 zoom=10.5)
            st.pydeck_chart(pdk.Deck(
                layers=[pdk.Layer("GeoJsonLayer", outlines, stroked=True, filled=True,
                                  get_fill_color=[245, 245, 240, 255], get_line_color=[150, 150, 150],
                                  line_width_min_pixels=1),
                        pdk.Layer("ScatterplotLayer", pts, get_position=["lon", "lat"],
                                  get_radius="radius", get_fill_color=colour + [170], pickable=True,
                                  stroked=True, get_line_color=[40, 40, 40], line_width_min_pixels=1)],
                initial_view_state=view, map_style=None,
                tooltip={"text": "{place_text}: {posts}"}), height=320)
    with right:
        st.dataframe(places.select(pl.col("place_text").alias(t("opinion.place")),
                                   pl.col("posts").alias(t("opinion.col.posts")),
                                   pl.col("negative_share").alias(t("opinion.col.neg_share"))),
                     hide_index=True, use_container_width=True, height=320, column_config={
                         t("opinion.col.neg_share"): st.column_config.NumberColumn(format="percent")})
    if f.scope.person_level:
        st.markdown(f"**{t('opinion.warning_posts')}**")
        wp = call(opinion.posts, f.scope, warn["area_code"], warn["started_at"], None, topic=warn["topic"],
                  limit=200)
        st.dataframe(wp.select(
            pl.col("published_at").alias(t("opinion.col.time")), pl.col("platform").alias(t("opinion.col.platform")),
            pl.col("author").alias(t("opinion.col.author")), pl.col("content").alias(t("opinion.col.content")),
            pl.col("sentiment").alias(t("opinion.col.sentiment")), pl.col("sentiment_score").alias(t("opinion.col.score")),
            pl.col("handling_status").alias(t("opinion.col.status"))),
            hide_index=True, use_container_width=True, height=240)

tab_trend, tab_topics, tab_handling, tab_posts = st.tabs(
    [t("opinion.tab.trend"), t("opinion.tab.topics"), t("opinion.tab.handling"), t("opinion.tab.posts")])

# ---------------------------------------------------------------- trend
with tab_trend:
    by = st.radio(t("opinion.by"), ["platform", "area"], horizontal=True,
                  format_func=lambda b: t(f"opinion.by.{b}"), key="opinion_by")
    tr = call(opinion.trend, f.scope, f.area_code, start, end, by=by)
    if tr.is_empty():
        st.info(t("opinion.no_posts"))
    else:
        labels = {"day": t("opinion.day"), "posts": t("opinion.col.posts"), "group": t("opinion.group"),
                  "avg_sentiment": t("opinion.col.avg")}
        fig = px.bar(tr.to_pandas(), x="day", y="posts", color="group", labels=labels,
                     title=t("opinion.chart.volume"))
        fig.update_layout(height=330, margin=dict(t=40, b=10), legend_title_text="")
        st.plotly_chart(fig, config=PLOT, use_container_width=True)
        fig = px.line(tr.to_pandas(), x="day", y="avg_sentiment", color="group", labels=labels,
                      title=t("opinion.chart.sentiment"), range_y=[0, 1])
        fig.update_layout(height=300, margin=dict(t=40, b=10), legend_title_text="")
        st.plotly_chart(fig, config=PLOT, use_container_width=True)
        buttons(tr, "opinion_daily", key="dl_trend")

# ---------------------------------------------------------------- topics and keywords
with tab_topics:
    left, right = st.columns([3, 2])
    topics = call(opinion.hot_topics, f.scope, f.area_code, start, end)
    with left:
        st.markdown(f"**{t('opinion.hot_topics')}**")
        if topics.height:
            fig = px.bar(topics.to_pandas(), x="posts", y="topic", orientation="h", color="negative_share",
                         color_continuous_scale="OrRd", range_color=[0, 1],
                         labels={"posts": t("opinion.col.posts"), "topic": "",
                                 "negative_share": t("opinion.col.neg_share")})
            fig.update_layout(height=380, margin=dict(t=10, b=10), yaxis={"categoryorder": "total ascending"})
            st.plotly_chart(fig, config=PLOT, use_container_width=True)
            st.dataframe(topics.select(
                pl.col("topic").alias(t("opinion.col.topic")), pl.col("posts").alias(t("opinion.col.posts")),
                pl.col("prev_posts").alias(t("opinion.col.prev")), pl.col("change").alias(t("opinion.col.change")),
                pl.col("negative_share").alias(t("opinion.col.neg_share"))),
                hide_index=True, use_container_width=True, column_config={
                    t("opinion.col.change"): st.column_config.NumberColumn(format="percent"),
                    t("opinion.col.neg_share"): st.column_config.NumberColumn(format="percent")})
            buttons(topics, "opinion_topics", key="dl_topics")
    with right:
        st.markdown(f"**{t('opinion.keywords')}**")
        kw = call(opinion.hot_keywords, f.scope, f.area_code, start, end)
        st.dataframe(kw.select(pl.col("keyword").alias(t("opinion.col.keyword")),
                               pl.col("posts").alias(t("opinion.col.posts")),
                               pl.col("prev_posts").alias(t("opinion.col.prev")),
                               pl.col("change").alias(t("opinion.col.change"))),
                     hide_index=True, use_container_width=True, height=560, column_config={
                         t("opinion.col.change"): st.column_config.NumberColumn(format="percent")})

# ---------------------------------------------------------------- handling
with tab_handling:
    st.caption(t("opinion.handling_help"))
    h = call(opinion.handling, f.scope, f.area_code)
    if h.is_empty():
        st.info(t("opinion.no_handling"))
    else:
        st.dataframe(h.select(
            pl.col("level").alias(t("opinion.col.level")),
            pl.col("topic").alias(t("opinion.col.topic")), pl.col("area_name").alias(t("opinion.col.area")),
            pl.col("status").alias(t("opinion.col.status")), pl.col("posts").alias(t("opinion.col.posts")),
            pl.col("median_days").round(1).alias(t("opinion.col.days"))),
            hide_index=True, use_container_width=True)

# ---------------------------------------------------------------- posts
with tab_posts:
    if not f.scope.person_level:
        st.info(t("opinion.aggregate_only"))
    else:
        c = st.columns(4)
        platform = c[0].selectbox(t("opinion.filter.platform"), [None, *call(opinion.platforms, f.scope)],
                                  format_func=lambda v: t("filter.all") if v is None else v)
        topic = c[1].selectbox(t("opinion.filter.topic"), [None, *topics["topic"].to_list()],
                               format_func=lambda v: t("filter.all") if v is None else v)
        sentiment = c[2].selectbox(t("opinion.filter.sentiment"), [None, "negative", "neutral", "positive"],
                                   format_func=lambda v: t("filter.all") if v is None else t(f"opinion.sentiment.{v}"))
        text = c[3].text_input(t("opinion.filter.text")).strip() or None
        ps = call(opinion.posts, f.scope, f.area_code, start, end, platform=platform, topic=topic,
                  sentiment=sentiment, text=text)
        st.caption(t("opinion.posts_shown", n=fmt.num(ps.height)))
        st.dataframe(ps.select(
            pl.col("published_at").alias(t("opinion.col.time")), pl.col("platform").alias(t("opinion.col.platform")),
            pl.col("author").alias(t("opinion.col.author")), pl.col("content").alias(t("opinion.col.content")),
            pl.col("area_name").alias(t("opinion.col.area")), pl.col("topic").alias(t("opinion.col.topic")),
            pl.col("sentiment").alias(t("opinion.col.sentiment")), pl.col("sentiment_score").alias(t("opinion.col.score")),
            pl.col("engagement").alias(t("opinion.col.engagement")),
            pl.col("handling_status").alias(t("opinion.col.status"))),
            hide_index=True, use_container_width=True, height=420)
        buttons(ps, "opinion_posts", key="dl_posts")
