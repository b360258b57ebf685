"""Shared Plotly touches: date axes in Chinese, the common layout, and one way to show a chart.

Plotly formats date ticks itself in English ("Oct 2026"); `localize(fig)` gives every date
axis Chinese tick formats per zoom level (2026年10月, 10月5日, 10月5日 08:00) when the UI is
Chinese, and leaves English alone. Call it on any figure before `st.plotly_chart`:

    from ui.plotting import localize
    st.plotly_chart(localize(fig), config={"displaylogo": False}, width="stretch")
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui.i18n import lang as current_lang

CONFIG = {"displaylogo": False}  # keeps the modebar's PNG download
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"

_DAY = 86_400_000  # Plotly's dtick unit for dates is milliseconds
# (dtick range, format): the tick label for each zoom level, as Plotly's tickformatstops
ZH_STOPS = [
    ([None, _DAY], "%-m月%-d日 %H:%M"),
    ([_DAY, 28 * _DAY], "%-m月%-d日"),
    ([28 * _DAY, "M12"], "%Y年%-m月"),
    (["M12", None], "%Y年"),
]
ZH_HOVER = "%Y年%-m月%-d日"
_ISO_DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?")


def _is_dates(values) -> bool:
    if values is None:
        return False
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        return True
    first = next((v for v in arr.ravel()[:50] if v is not None), None) if arr.size else None
    if isinstance(first, str):  # '2026-10' or '2026-10-05': Plotly makes a date axis of these too
        return bool(_ISO_DATE.fullmatch(first))
    return isinstance(first, (date, np.datetime64)) or type(first).__name__ == "Timestamp"


def date_axes(fig: go.Figure) -> set[str]:
    """Layout names ('xaxis', 'yaxis2', …) of the axes that show dates."""
    found = {name for name in fig.layout.to_plotly_json() if name[1:5] == "axis"
             and fig.layout[name].type == "date"}
    for trace in fig.data:
        for letter in ("x", "y"):
            if _is_dates(getattr(trace, letter, None)):
                ref = getattr(trace, f"{letter}axis", None) or letter  # 'x', 'x2', …
                found.add(f"{letter}axis{ref[1:]}")
    return found


def localize(fig: go.Figure, lang: str | None = None) -> go.Figure:
    """Chinese date ticks and hover dates on every date axis when lang is zh (default: the
    UI's language); English figures are returned unchanged."""
    if (lang or current_lang()) != "zh":
        return fig
    wan_ticks(fig)
    stops = [{"dtickrange": r, "value": v} for r, v in ZH_STOPS]
    for name in date_axes(fig):
        fig.layout[name].update(type="date", tickformatstops=stops, hoverformat=ZH_HOVER)
    return fig


def _nice_step(top: float, n: int = 5) -> float:
    raw = top / n
    mag = 10 ** np.floor(np.log10(raw))
    return float(next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw))


def wan_label(v: float) -> str:
    if abs(v) >= 1e8:
        return f"{v / 1e8:g}亿"
    if abs(v) >= 1e4:
        return f"{v / 1e4:g}万"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:g}"


def _numbers(values) -> np.ndarray:
    if values is None:
        return np.array([])
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        return np.array([])
    return arr.astype(float).ravel()


def wan_ticks(fig: go.Figure, letters: str = "xy") -> go.Figure:
    """Chinese value axes: ticks at round steps labelled 2万, 10万, 1亿 instead of Plotly's SI
    20k, 100k, 100M. Only axes whose values reach 10,000 change; stacked bars count their sum."""
    tops: dict[str, float] = {}
    for trace in fig.data:
        for letter in letters:
            v = _numbers(getattr(trace, letter, None))
            if v.size == 0 or np.isnan(v).all():
                continue
            ref = getattr(trace, f"{letter}axis", None) or letter
            name = f"{letter}axis{ref[1:]}"
            tops.setdefault(name, 0.0)
            tops[name] = max(tops[name], float(np.nanmax(np.abs(v))))
    if fig.layout.barmode in ("stack", "relative"):
        for letter in letters:
            other = "x" if letter == "y" else "y"
            sums: dict = {}
            for trace in fig.data:
                if trace.type != "bar":
                    continue
                keys, vals = getattr(trace, other, None), _numbers(getattr(trace, letter, None))
                if keys is None or vals.size == 0:
                    continue
                for k, v in zip(list(keys), vals):
                    if v == v:
                        sums[k] = sums.get(k, 0.0) + abs(v)
            if sums:
                tops[f"{letter}axis"] = max(tops.get(f"{letter}axis", 0.0), max(sums.values()))
    for name, top in tops.items():
        if top < 10_000 or fig.layout[name].type in ("date", "category", "log"):
            continue
        step = _nice_step(top)
        vals = [i * step for i in range(int(top // step) + 2)]
        fig.layout[name].update(tickmode="array", tickvals=vals, ticktext=[wan_label(v) for v in vals])
    return fig


def style(fig: go.Figure, height: int | None = None, title: str | None = None) -> go.Figure:
    """The layout the analyst pages share: CJK font, tight margins (room for a title), no
    legend title. Legend position and the rest stay as the figure set them."""
    if title:
        fig.update_layout(title=title)
    top = 40 if fig.layout.title.text else fig.layout.margin.t if fig.layout.margin.t is not None else 10
    fig.update_layout(font={"family": FONT}, margin={"l": 10, "r": 10, "t": top, "b": 10},
                      legend_title_text="")
    if height:
        fig.update_layout(height=height)
    return fig


def show(fig: go.Figure, height: int | None = None, title: str | None = None, **kw):
    """style + localize + st.plotly_chart at full width with the PNG download."""
    return draw(finish(fig, None, height, title), **kw)


def kept_figures(builder):
    """Keep the figures a builder made from the same arguments (data frames, language): Plotly
    Express spends 50–150 ms building a many-trace figure, on every rerun otherwise. The
    builder must be pure and return finished figures (styled and localized, with the language
    passed in); draw them with `draw`, which does not change them (one object serves every
    session)."""
    return st.cache_resource(max_entries=256, show_spinner=False)(builder)


def finish(fig: go.Figure, lang: str | None, height: int | None = None, title: str | None = None) -> go.Figure:
    """What `show` does to a figure before drawing it (lang None: the UI's), for builders
    under kept_figures."""
    return localize(style(fig, height, title), lang)


def draw(fig: go.Figure, **kw):
    """st.plotly_chart at full width with the PNG download; the figure is not changed."""
    return st.plotly_chart(fig, config=CONFIG, width="stretch", **kw)
