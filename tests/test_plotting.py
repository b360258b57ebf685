"""ui.plotting.localize: Chinese date ticks on date axes only, English figures untouched."""

from datetime import date, datetime

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from ui.plotting import ZH_STOPS, date_axes, localize, style

DAYS = pl.DataFrame({"day": [date(2026, 10, 1), date(2026, 10, 2)], "posts": [3, 5], "g": ["a", "b"]})


def test_zh_formats_every_date_axis_and_nothing_else():
    fig = localize(px.bar(DAYS.to_pandas(), x="day", y="posts"), "zh")
    assert [s.value for s in fig.layout.xaxis.tickformatstops] == [v for _, v in ZH_STOPS]
    assert "%Y年%-m月" in [s.value for s in fig.layout.xaxis.tickformatstops]
    assert fig.layout.xaxis.hoverformat == "%Y年%-m月%-d日" and not fig.layout.yaxis.tickformatstops
    bars = localize(px.bar(DAYS.to_pandas(), x="posts", y="g", orientation="h"), "zh")
    assert date_axes(bars) == set() and not bars.layout.xaxis.tickformatstops  # a number axis stays


def test_graph_objects_facets_and_timelines_are_found():
    assert date_axes(go.Figure(go.Scatter(x=DAYS["day"].to_list(), y=[1, 2]))) == {"xaxis"}
    assert date_axes(px.line(DAYS.to_pandas(), x="day", y="posts", facet_col="g")) == {"xaxis", "xaxis2"}
    spans = pl.DataFrame({"s": [datetime(2026, 1, 1)], "e": [datetime(2026, 1, 2)], "r": ["x"]})
    assert date_axes(px.timeline(spans.to_pandas(), x_start="s", x_end="e", y="r")) == {"xaxis"}


def test_english_is_left_alone():
    fig = localize(px.bar(DAYS.to_pandas(), x="day", y="posts"), "en")
    assert not fig.layout.xaxis.tickformatstops and fig.layout.xaxis.hoverformat is None


def test_style_keeps_a_set_top_margin_and_makes_room_for_a_title():
    fig = go.Figure()
    fig.update_layout(margin={"t": 60})
    assert style(fig).layout.margin.t == 60
    assert style(go.Figure(), 300, title="标题").layout.margin.t == 40
    assert style(go.Figure()).layout.margin.t == 10


def test_iso_month_strings_count_as_dates():
    import plotly.graph_objects as go

    from ui.plotting import date_axes
    fig = go.Figure(go.Scatter(x=["2025-01", "2025-02"], y=[1, 2]))
    assert date_axes(fig) == {"xaxis"}
    assert date_axes(go.Figure(go.Bar(x=["一月", "二月"], y=[1, 2]))) == set()


def test_kept_figures_are_built_once_per_data_and_language():
    import plotly.graph_objects as go
    import polars as pl

    from ui.plotting import kept_figures

    calls = []

    @kept_figures
    def build(df: pl.DataFrame, lang: str) -> go.Figure:
        calls.append(lang)
        return go.Figure(go.Bar(x=df["x"].to_list(), y=df["y"].to_list()))

    a = pl.DataFrame({"x": ["a", "b"], "y": [1, 2]})
    assert build(a, "zh") is build(a.clone(), "zh")  # same data: the same figure, built once
    assert build(a, "en") is not build(a, "zh")
    assert build(a.with_columns(pl.col("y") + 1), "zh").data[0].y == (2, 3)
    assert calls == ["zh", "en", "zh"]
