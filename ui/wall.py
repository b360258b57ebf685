"""Drawing the wall display: URL parameters, last-good data, and the one HTML block it shows.

The whole wall is one fixed-position grid in viewport units (see wall.css), drawn as HTML and
inline SVG: no tiles, no iframes, no chart library, so a refresh swaps the markup in one
frame without flicker and renders identically in headless Chromium.
"""

from __future__ import annotations

import base64
import html
import json
import math
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import streamlit as st

from ui import fmt
from ui.auth import wall_scope
from ui.cache import call
from ui.i18n import lang, t
from warehouse import wall as ww

CSS_FILE = Path(__file__).with_name("wall.css")
WARNING_KINDS = ("risk", "opinion")
LEVEL_FILL = {"blue": "#2f6fd6", "yellow": "#e8c33a", "orange": "#ff8a1f", "red": "#ff3b3b"}
SVG_FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"
HEAT_RAMP = ("#0f2f57", "#1679c4", "#38d6ff", "#ffd23f", "#ff9a2e", "#ff4d4f")
LEVEL_CLASS = {"红": "red", "红色": "red", "red": "red", "橙": "orange", "橙色": "orange", "orange": "orange",
               "黄": "yellow", "黄色": "yellow", "yellow": "yellow", "蓝": "blue", "蓝色": "blue", "blue": "blue"}


# ---------------------------------------------------------------- URL parameters


@dataclass(frozen=True)
class WallParams:
    refresh: int = 30   # seconds between data refreshes
    rotate: int = 20    # seconds between panel rotations
    play: bool = True   # rotation running (?play=1) or paused (?play=0)
    panel: int = 0      # rotation step shown while paused

    @property
    def tick(self) -> int:
        """How often the fragment reruns: data refresh, and rotation while playing."""
        return min(self.refresh, self.rotate) if self.play else self.refresh

    def step(self, now: float | None = None) -> int:
        """The rotation step: from the wall clock while playing, so every wall shows the same."""
        if not self.play:
            return self.panel
        return int((now if now is not None else time.time()) // self.rotate)


def _int(value, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(value)))
    except (TypeError, ValueError):
        return default


def params_from(query: dict) -> WallParams:
    return WallParams(refresh=_int(query.get("refresh"), 30, 2, 3600),
                      rotate=_int(query.get("rotate"), 20, 3, 3600),
                      play=str(query.get("play", "1")) not in ("0", "false", "no", "off"),
                      panel=_int(query.get("panel"), 0, 0, 1000))


# ---------------------------------------------------------------- data, with last-good fallback


LIGHT, HEAVY = "light", "heavy"


def _sources(step: int, phase: str | None = None) -> dict:
    """What the wall needs at this rotation step. The risk index and the warning feeds are
    'heavy' (a new warehouse makes warehouse.risk recompute its panel): they are drawn in a
    second pass so new headline figures never wait for them."""
    metric = ww.MAP_METRICS[step % len(ww.MAP_METRICS)]
    kind = WARNING_KINDS[step % len(WARNING_KINDS)]
    light = {"headline": (ww.headline, ()), "shapes": (ww.shapes, ()), "towns": (ww.town_cases, ()),
             "daily": (ww.daily_cases, ()), "ticker": (ww.ticker, ()), "fresh": (ww.freshness, ())}
    heavy = {kind: (ww.warnings, (kind, lang()))}
    (heavy if metric == "risk" else light)["heat"] = (ww.village_heat, (metric,))
    return {LIGHT: light, HEAVY: heavy}.get(phase, light | heavy)


def load(step: int, phase: str | None = None) -> tuple[dict, list[str]]:
    """The figures for this step; a failing query keeps its last good value (listed as stale).

    Returns a view with every key the step shows: None for one never loaded yet.
    """
    last = st.session_state.setdefault("wall_last", {})
    stale = []
    scope = wall_scope()  # the viewer's areas, aggregates only (WALL in demo mode)
    for key, (fn, args) in _sources(step, phase).items():
        slot = f"{key}:{args}"
        try:
            last[slot] = call(fn, scope, *args)
            last["at"] = datetime.now()
        except Exception:  # a rebuild, a lock or a bad query: keep the last good figures
            stale.append(key)
    view = {key: last.get(f"{key}:{args}") for key, (fn, args) in _sources(step).items()}
    return view | {"at": last.get("at")}, stale


# ---------------------------------------------------------------- drawing helpers


def esc(x) -> str:
    return html.escape("" if x is None else str(x))


def ramp(share: float) -> str:
    share = max(0.0, min(1.0, share))
    i = min(int(share * (len(HEAT_RAMP) - 1) + 0.5), len(HEAT_RAMP) - 1)
    return HEAT_RAMP[i]


def svg_img(svg: str, alt: str = "") -> str:
    """Inline SVG as an <img> data URI: st.html's sanitiser drops <svg> elements, not images."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="w-svg" alt="{esc(alt)}" src="data:image/svg+xml;base64,{data}"/>'


def _rings(geometry: str) -> list[list[list[float]]]:
    g = json.loads(geometry)
    polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
    return [ring for poly in polys for ring in poly[:1]]


class Projection:
    """Equirectangular with a cos(latitude) squeeze: fine for one county."""

    def __init__(self, rings, width: float = 1000.0):
        xs = [p[0] for r in rings for p in r]
        ys = [p[1] for r in rings for p in r]
        self.x0, self.y1 = min(xs), max(ys)
        self.k = math.cos(math.radians((min(ys) + max(ys)) / 2))
        span = (max(xs) - self.x0) * self.k or 1.0
        self.s = width / span
        self.w, self.h = width, (self.y1 - min(ys)) * self.s or 1.0

    def xy(self, p) -> tuple[float, float]:
        return (p[0] - self.x0) * self.k * self.s, (self.y1 - p[1]) * self.s

    def path(self, rings) -> str:
        return " ".join("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in map(self.xy, r)) + "Z" for r in rings)


def _label_points(by_level, proj):
    """A label point per town: the mean of its villages' vertices (town outlines can be crude)."""
    towns, villages = by_level["town"], by_level["village"]
    for code, name, geom in zip(towns["code"], towns["name"], towns["geometry"]):
        kids = villages.filter(villages["parent_code"] == code)["geometry"].to_list() or [geom]
        pts = [proj.xy(p) for g in kids for r in _rings(g) for p in r[:-1]]
        yield name, (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


def short_place(name: str | None) -> str:
    """Village names without the committee suffix: 曹庄村委会 → 曹庄村, 江淮居委会 → 江淮社区."""
    if not name:
        return ""
    for suffix, keep in (("社区居委会", "社区"), ("村委会", "村"), ("居委会", "社区")):
        if name.endswith(suffix):
            return name[: -len(suffix)] + keep
    return name


@st.cache_resource(max_entries=16, show_spinner=False)
def _static_layers(shapes):
    """The village paths, the town and county outlines and the town labels: they depend on
    the geometry alone, and the wall redraws every few seconds, so they are projected once
    (a few hundred ms of Python at city scale) and kept."""
    by_level = {lv: shapes.filter(shapes["level"] == lv) for lv in ("county", "town", "village")}
    outline = by_level["county"] if by_level["county"].height else by_level["town"]
    proj = Projection([r for g in outline["geometry"] for r in _rings(g)])
    villages = [(code, proj.path(_rings(geom)))
                for code, geom in zip(by_level["village"]["code"], by_level["village"]["geometry"])]
    parts = []
    for geom in by_level["town"]["geometry"]:
        parts.append(f'<path d="{proj.path(_rings(geom))}" fill="none" stroke="#5fb8ff" '
                     'stroke-width="2.2" stroke-opacity="0.85"/>')
    for geom in by_level["county"]["geometry"]:
        parts.append(f'<path d="{proj.path(_rings(geom))}" fill="none" stroke="#38d6ff" stroke-width="5" '
                     'stroke-opacity="0.9"/>')
    size, placed = proj.w / 34, []
    for name, (cx, cy) in _label_points(by_level, proj):
        half = size * len(name) / 2
        while any(abs(cx - x) < half + hx and abs(cy - y) < size for x, y, hx in placed):
            cy += size  # nudge down until it clears the labels already placed
        placed.append((cx, cy, half))
        parts.append(f'<text x="{cx:.0f}" y="{cy:.0f}" text-anchor="middle" font-size="{size:.0f}" '
                     f'fill="#ffffff" stroke="#020814" stroke-width="5" paint-order="stroke" '
                     f'font-weight="700">{esc(name)}</text>')
    return villages, "".join(parts), proj


def svg_map(shapes, heat, metric: str = "") -> str:
    if heat is None and metric == "risk":  # warehouse.risk not there yet
        return f'<div class="w-empty">{esc(t("wall.warn.missing"))}</div>'
    if shapes is None or not shapes.height:
        return f'<div class="w-empty">{esc(t("wall.empty.shapes"))}</div>'
    if heat is None:
        return f'<div class="w-empty">{esc(t("wall.nodata"))}</div>'
    villages, overlay, proj = _static_layers(shapes)
    values = dict(zip(heat["code"], heat["value"]))
    low = min(values.values(), default=0) if heat.schema["value"].is_float() else 0
    levels = dict(zip(heat["code"], heat["level"])) if "level" in heat.columns else {}
    top = max(values.values(), default=0) or 1
    parts = [f'<svg viewBox="-20 -20 {proj.w + 40:.0f} {proj.h + 40:.0f}" preserveAspectRatio="xMidYMid meet" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="{SVG_FONT}">']
    for code, d in villages:
        v = values.get(code, 0)
        fill = ramp((v - low) / ((top - low) or 1)) if v else "#0c2547"
        if levels:  # risk: the warning colours themselves, never a relative ramp
            fill = LEVEL_FILL.get(LEVEL_CLASS.get(str(levels.get(code)).lower(), ""), "#0c2547")
        parts.append(f'<path d="{d}" fill="{fill}" stroke="#0a1d3a" stroke-width="1.2"/>')
    parts.append(overlay)
    parts.append("</svg>")
    return svg_img("".join(parts), t("wall.map"))


def svg_trend(daily) -> str:
    if daily is None:
        return f'<div class="w-empty">{esc(t("wall.nodata"))}</div>'
    if not daily.height:
        return f'<div class="w-empty">{esc(t("wall.empty.trend"))}</div>'
    n, top = daily.height, max(daily["cases"].max() or 0, 1)
    w, h, base = 100.0 * n, 700.0, 610.0
    bars = []
    for i, (day, v) in enumerate(zip(daily["day"], daily["cases"])):
        bh = (base - 80) * v / top
        x = i * 100 + 18
        last = i == n - 1
        bars.append(f'<rect x="{x}" y="{base - bh:.0f}" width="64" height="{bh:.0f}" rx="4" '
                    f'fill="{"#ff9a2e" if last else "url(#g)"}"/>'
                    f'<text x="{x + 32}" y="{base - bh - 14:.0f}" text-anchor="middle" font-size="50" '
                    f'fill="#e6f1ff" font-weight="700">{v}</text>'
                    f'<text x="{x + 32}" y="{base + 62}" text-anchor="middle" font-size="46" '
                    f'fill="#8fb1d9">{day.day}</text>')
    return svg_img(f'<svg viewBox="0 0 {w:.0f} {h:.0f}" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" '
                   f'font-family="{SVG_FONT}">'
            '<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#38d6ff"/>'
            '<stop offset="1" stop-color="#1679c4" stop-opacity="0.6"/></linearGradient></defs>'
            f'<line x1="0" y1="{base}" x2="{w:.0f}" y2="{base}" stroke="#1d4f8c" stroke-width="3"/>'
            + "".join(bars) + "</svg>", t("wall.trend"))


def town_bars(towns) -> str:
    if towns is None:
        return f'<div class="w-empty">{esc(t("wall.nodata"))}</div>'
    if not towns.height:
        return f'<div class="w-empty">{esc(t("wall.empty.towns"))}</div>'
    top = max(towns["cases"].max() or 0, 1)
    rows = [f'<div class="w-bar"><span class="name">{esc(r["name"])}</span>'
            f'<span class="track"><span class="fill" style="display:block;width:{100 * r["cases"] / top:.0f}%">'
            f'</span></span><span class="num">{r["cases"]}</span></div>' for r in towns.iter_rows(named=True)]
    return f'<div class="w-bars">{"".join(rows)}</div>'


def ticker_rows(ticker, today=None) -> str:
    if ticker is None or not ticker.height:
        return f'<div class="w-empty">{esc(t("wall.ticker.empty"))}</div>'
    rows = []
    for r in ticker.iter_rows(named=True):
        when = r["reported_at"]
        shown = f"{when:%H:%M}" if today and when.date() == today else f"{when:%m-%d %H:%M}"
        rows.append(f'<div class="w-row"><span class="time">{shown}</span>'
                    f'<span class="type">{esc(r["case_type"])}</span>'
                    f'<span class="place">{esc(r["town"])}·{esc(short_place(r["village"]))}</span>'
                    f'<span class="chip {esc(r["status"])}">{esc(t("wall.status." + r["status"]))}</span></div>')
    return f'<div class="w-rows">{"".join(rows)}</div>'


def _first(row: dict, names: tuple[str, ...]):
    return next((row[n] for n in names if row.get(n) is not None), None)


def _warning_details(r: dict) -> list[str]:
    out = []
    if r.get("negative_share") is not None:
        out.append(t("wall.warn.negative", pct=fmt.pct(r["negative_share"], 0)))
    since = _first(r, ("started_at", "since", "date", "day"))
    if since is not None:
        out.append(t("wall.warn.since", date=f"{since:%m-%d}" if hasattr(since, "month") else since))
    return out


def warning_key(r: dict) -> str:
    """Identifies a warning across refreshes: its place, topic and start."""
    return "|".join(str(_first(r, names) or "") for names in (
        ("area_code", "village_code", "grid_code", "area_name", "name"), ("topic", "title"),
        ("started_at", "since", "date", "day")))


def red_keys(df) -> set[str]:
    if df is None or not getattr(df, "height", 0):
        return set()
    out = set()
    for r in df.head(6).iter_rows(named=True):
        level = _first(r, ("color", "colour", "warning_level", "level", "risk_level"))
        if level is not None and LEVEL_CLASS.get(str(level).lower(), "") == "red":
            out.add(warning_key(r))
    return out


def warning_rows(df, missing: bool, flash: set[str] | None = None) -> str:
    if missing:
        return f'<div class="w-empty">{esc(t("wall.warn.missing"))}</div>'
    if df is None or not df.height:
        return f'<div class="w-empty">{esc(t("wall.warn.none"))}</div>'
    rows = []
    for r in df.head(6).iter_rows(named=True):
        level = _first(r, ("color", "colour", "warning_level", "level", "risk_level"))
        cls = LEVEL_CLASS.get(str(level).lower(), "") if level is not None else ""
        label = t(f"wall.level.{cls}") if cls else str(level or "")
        name = _first(r, ("area_name", "village_name", "grid_name", "town_name", "name"))
        topic = _first(r, ("topic", "title"))
        name = " · ".join(str(x) for x in (topic, name) if x)
        detail = r.get("main_drivers") or "  ".join(_warning_details(r))
        value = _first(r, ("risk_score", "score", "posts", "count", "value", "ratio"))
        shown = f"{value:.1f}" if isinstance(value, float) else esc(value if value is not None else "")
        new = " new" if flash and cls == "red" and warning_key(r) in flash else ""
        rows.append(f'<div class="w-row{new}"><span class="lvl {cls}">{esc(label)}</span>'
                    f'<span class="type">{esc(name)}</span><span class="place">{esc(detail)}</span>'
                    f'<span class="val">{shown}</span></div>')
    return f'<div class="w-rows">{"".join(rows)}</div>'


def legend(metric: str, heat=None) -> str:
    if metric == "risk":
        return "".join(f'<span class="swatch" style="background:{LEVEL_FILL[c]}"></span><span>{esc(t("wall.level." + c))}</span>'
                       for c in ("blue", "yellow", "orange", "red"))
    values = [v for v in (heat["value"].to_list() if heat is not None and "value" in heat.columns else [])
              if v is not None]
    if not values:
        return (f'<span>{esc(t("wall.legend.low"))}</span><span class="ramp"></span>'
                f'<span>{esc(t("wall.legend.high"))}</span>')
    low = min(values) if heat.schema["value"].is_float() else 0  # as svg_map colours them
    digits = 1 if heat.schema["value"].is_float() else 0
    return (f'<span>{esc(fmt.num(low, digits))}</span><span class="ramp"></span>'
            f'<span>{esc(fmt.num(max(values), digits))}</span>'
            f'<span class="unit">{esc(t("wall.unit." + metric))}</span>')


def _kpi(label: str, value: str, note: str = "", cls: str = "", key: str = "", extra: str = "") -> str:
    return (f'<div class="w-kpi {cls}" data-kpi="{key}"><div class="label">{esc(label)}</div>'
            f'<div class="value">{esc(value)}</div><div class="note">{esc(note)}</div>{extra}</div>')


def _against_target(key: str, status: dict) -> tuple[str, str]:
    """(css class, markup) of a rate card's target line: 目标 96% · 较上期 +1.0个百分点."""
    s = status.get(key) or {}
    if s.get("target") is None:
        return "", ""
    change = s.get("change")
    arrow = "" if change is None or abs(change) < 5e-4 else ("▲" if change > 0 else "▼")
    better = change is not None and (change > 0) == (s.get("direction") == "higher")
    trend = "" if not arrow else ("up" if better else "down")
    text = t("wall.kpi.target", target=fmt.pct(s["target"], 0))
    delta = f'<span class="chg {trend}">{arrow}{esc(fmt.pp(change))}</span>' if change is not None else ""
    return f"rag-{s['rag']}" if s.get("rag") else "", f'<div class="target">{esc(text)} {delta}</div>'


def _quarter(d) -> str:
    if d is None:
        return "—"
    q = (d.month - 1) // 3 + 1
    return f"{d.year}年第{q}季度" if lang() == "zh" else f"{d.year} Q{q}"


def kpis(h: dict | None) -> str:
    h = h or {}
    g = h.get
    pct = lambda k: fmt.pct(g(k))  # noqa: E731
    status = ww.kpi_status(h) if h else {}

    def rate(label_key: str, key: str, note: str, kpi: str) -> str:
        cls, extra = _against_target(key, status)
        return _kpi(t(label_key), pct(key), note, cls=cls, key=kpi, extra=extra)

    return "".join([
        _kpi(t("wall.kpi.today"), fmt.num(g("cases_today")), t("wall.kpi.week_note", n=fmt.num(g("cases_7d"))),
             key="today"),
        _kpi(t("wall.kpi.open"), fmt.num(g("open")), key="open"),
        _kpi(t("wall.kpi.overdue"), fmt.num(g("open_overdue")), cls="alert" if g("open_overdue") else "",
             key="overdue"),
        rate("wall.kpi.response", "rate_response", t("wall.kpi.rates_note"), "response"),
        rate("wall.kpi.solved", "rate_solved", t("wall.kpi.rates_note"), "solved"),
        rate("wall.kpi.satisfied", "rate_satisfied", t("wall.kpi.rates_note"), "satisfied"),
        rate("wall.kpi.safety", "safety", t("wall.kpi.safety_note", quarter=_quarter(g("safety_quarter"))), "safety"),
    ])


def clock_text(now: datetime) -> tuple[str, str]:
    weekday = t("wall.weekday").split(",")[now.weekday()]
    # minutes only: the markup then changes once a minute, and the browser ticks the seconds
    return f"{now:%H:%M}", f"{fmt.day(now)} {weekday}"


# ---------------------------------------------------------------- the page


def county_name(shapes) -> str:
    if shapes is None or not shapes.height:
        return ""
    county = shapes.filter(shapes["level"] == "county")
    return county["name"][0] if county.height else ""


def render(data: dict, stale: list[str], p: WallParams, step: int, now: datetime | None = None,
           pending: bool = False, flash: set[str] | None = None) -> str:
    """The whole wall as one HTML string (pure: data in, markup out).

    pending: the heavy figures are still being computed (None means 'wait', not 'missing');
    flash: keys (warning_key) of red warnings new to this screen, drawn flashing."""
    now = now or datetime.now()
    metric = ww.MAP_METRICS[step % len(ww.MAP_METRICS)]
    kind = WARNING_KINDS[step % len(WARNING_KINDS)]
    hhmmss, date_text = clock_text(now)
    fresh = data.get("fresh") or {}
    foot = [t("wall.fresh", when=fmt.moment(fresh["data_now"])) if fresh.get("data_now") else t("wall.nodata")]
    if fresh.get("last_loaded"):
        foot.append(t("wall.fresh.loaded", when=fmt.moment(fresh["last_loaded"])))
    late = fresh.get("stale_domains") or []
    late_html = (f'<span class="warn">{esc(t("wall.fresh.stale_domains", domains="、".join(t("domain." + d) for d in late)))}</span>'
                 if late else "")
    stale_html = ""
    if stale:
        when = data["at"].strftime("%H:%M:%S") if data.get("at") else "—"
        stale_html = f'<span class="w-stale" data-stale-marker="1">{esc(t("wall.stale", when=when))}</span>'
    rot = t("wall.playing", rotate=p.rotate) if p.play else t("wall.paused")
    dots = "".join(f'<i class="{"on" if i == step % len(ww.MAP_METRICS) else ""}"></i>'
                   for i in range(len(ww.MAP_METRICS)))
    return f"""
<div id="wall" data-lang="{lang()}" data-step="{step}" data-play="{int(p.play)}" data-stale-keys="{",".join(stale)}">
 <div class="w-head" data-panel="header">
  <div class="w-title">{esc(t("wall.title", county=county_name(data.get("shapes"))))}</div>
  <div class="w-clock" data-panel="clock"><span class="time" id="wall-clock">{hhmmss}</span>
   <span class="date" id="wall-date">{esc(date_text)}</span></div>
 </div>
 <div class="w-kpis" data-panel="kpi">{kpis(data.get("headline"))}</div>
 <div class="w-col w-left">
  <div class="w-panel" data-panel="trend"><h2>{esc(t("wall.trend"))}</h2>
   <div class="w-body">{svg_trend(data.get("daily"))}</div></div>
  <div class="w-panel" data-panel="towns"><h2>{esc(t("wall.towns"))}</h2>
   <div class="w-body">{town_bars(data.get("towns"))}</div></div>
 </div>
 <div class="w-panel w-map" data-panel="map" data-metric="{metric}">
  <h2>{esc(t("wall.map"))}<span class="sub">{esc(t("wall.metric." + metric))}</span></h2>
  <div class="w-body">{svg_map(data.get("shapes"), data.get("heat"), "" if pending else metric)}</div>
  <div class="legend">{legend(metric, None if pending else data.get("heat"))}</div>
  <div class="dots">{dots}</div>
 </div>
 <div class="w-col w-right">
  <div class="w-panel w-ticker" data-panel="ticker"><h2>{esc(t("wall.ticker"))}</h2>
   <div class="w-body">{ticker_rows(data.get("ticker"), fresh["data_now"].date() if fresh.get("data_now") else None)}</div></div>
  <div class="w-panel w-warn" data-panel="warnings" data-kind="{kind}"><h2>{esc(t("wall.warn." + kind))}</h2>
   <div class="w-body">{warning_rows(data.get(kind), data.get(kind) is None and kind not in stale and not pending, flash)}</div></div>
 </div>
 <div class="w-foot" data-panel="freshness">{"".join(f"<span>{esc(x)}</span>" for x in foot)}{late_html}
  {stale_html}<span class="grow"></span><span>{esc(t("wall.privacy"))}</span>
  <span>{esc(t("wall.refresh", refresh=p.refresh))}</span><span>{esc(rot)}</span></div>
</div>"""


def css() -> str:
    return f'<style class="wall-aux">{CSS_FILE.read_text(encoding="utf-8")}</style>'


# The browser ticks the seconds. A redraw puts the server's HH:MM back; the observer rewrites it
# in the same task, before the next paint, so the clock never visibly changes format.
CLOCK_JS = """<script class="wall-aux">
(function () {
  if (window.__wallClock) return;
  const pad = n => String(n).padStart(2, "0");
  const tick = function () {
    const el = document.getElementById("wall-clock");
    const d = new Date();
    const text = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    if (el && el.textContent !== text) el.textContent = text;
  };
  window.__wallClock = setInterval(tick, 1000);
  new MutationObserver(tick).observe(document.body, {childList: true, subtree: true});
  tick();
})();
</script>"""
