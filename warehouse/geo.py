"""Values behind the grid heatmap (网格热力): one row per area at the level the area filter implies.

county → its towns, town → its villages, village → its grids, grid → the grids of its village
(the chosen one flagged `selected`). Every metric is computed here, for a half-open time
window [start, end); pages only draw. Special groups appear only as suppressed aggregates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import h3
import polars as pl

from warehouse import areas as wa
from warehouse import db, definitions, meta
from warehouse.datasets import dataset
from warehouse.db import Scope, _digits
from warehouse.periods import Period

# metric → (higher is worse?) for reading; ranks are always 1 = highest value among siblings.
METRICS = ("cases_per_1k", "disputes", "overdue_share", "special_per_1k", "negative_posts",
           "staffing_fill", "risk_score")
# 红网格 party building, 蓝网格 public safety, 绿网格 services: each overlay is a group of metrics.
OVERLAYS = {
    "red": ("staffing_fill", "special_per_1k", "negative_posts"),
    "blue": ("cases_per_1k", "disputes", "risk_score", "special_per_1k"),
    "green": ("overdue_share", "cases_per_1k", "staffing_fill", "negative_posts"),
}
# 1+2 rule: one paid grid worker and two volunteers per grid.
RULE_WORKERS, RULE_VOLUNTEERS = 1, 2
SPECIAL_ANY = "(" + " OR ".join(definitions.SPECIAL_GROUP_COLUMNS) + ")"


def map_level(area_code: str, level: str | None = None) -> tuple[str, str]:
    """(level of the areas shown, the code they all lie under) for the chosen area.

    level=None: the children of the area (a grid shows its village's grids). A deeper level,
    e.g. "grid" under a county, shows every area of that level inside it.
    """
    own = wa.level_of(_digits(area_code))
    if own == "grid":
        return "grid", area_code[:12]
    if level and wa.LEVELS.index(level) > wa.LEVELS.index(own):
        return level, area_code
    return wa.child_level(own), area_code


def _as_datetime(d: date | datetime) -> datetime:
    return d if isinstance(d, datetime) else datetime(d.year, d.month, d.day)


def risk_available() -> bool:
    try:
        from warehouse import risk
        return callable(risk.grid_scores)
    except (ImportError, AttributeError):
        return False


def _risk(scope: Scope, parent: str, length: int, start, end, path) -> pl.DataFrame | None:
    """Mean grid risk score per shown area (the risk module's own score at grid level)."""
    try:
        from warehouse import risk
        scores = risk.grid_scores(scope, Period(start, end, "custom"),
                                  area=parent if scope.allows_area(parent) else None, path=path)
    except (ImportError, AttributeError):
        return None
    if scores is None or scores.height == 0:
        return None
    scores = scores.filter(pl.col("area_code").str.starts_with(parent))  # already scoped above
    if length == 15:
        return scores.select(code="area_code", risk_score=pl.col("score").cast(pl.Float64),
                             risk_level=pl.col("level").cast(pl.Utf8))
    return (scores.group_by(code=pl.col("area_code").str.slice(0, length))
            .agg(risk_score=pl.col("score").cast(pl.Float64).mean(), risk_level=pl.lit(None, pl.Utf8)))


def map_values(scope: Scope, area: str, start: date, end: date, path=None, level: str | None = None) -> pl.DataFrame:
    """One row per shown area with every map metric and its rank among siblings.

    Columns: code, name, parent_code, selected, residents, cases, cases_per_1k, disputes,
    overdue, overdue_share, special (NULL when 1–4, or hidden so that one cannot be worked out
    from the parent's total), special_per_1k, negative_posts (NULL at grid level: posts are
    linked to villages or towns at best), grids, grids_full (meeting 1+2), staffing_fill
    (filled posts / 3 per grid), risk_score, risk_level, rank_<metric> (1 = highest among
    the areas with the same parent).
    """
    scope.check_area(area)
    level, parent = map_level(area, level)
    L = wa.CODE_LENGTH[level]
    p = _digits(parent)
    now = meta.data_now(path)
    s, e = _as_datetime(start), _as_datetime(end)
    overdue = definitions.sql(definitions.OVERDUE, "$now")
    df = db.query(f"""
        WITH u AS (
            SELECT code, name, parent_code FROM area
            WHERE level = $level AND {scope.under(parent, 'code')}),
        p AS (
            SELECT left(area_code, {L}) AS code, count(*) AS residents
            FROM person WHERE {scope.under(parent)} GROUP BY 1),
        c AS (
            SELECT left(area_code, {L}) AS code, count(*) AS cases,
                   count(*) FILTER (WHERE {definitions.DISPUTE}) AS disputes,
                   count(*) FILTER (WHERE {overdue}) AS overdue
            FROM mart_case_flow WHERE {scope.under(parent)}
              AND reported_at >= $s AND reported_at < $e GROUP BY 1),
        o AS (
            SELECT left(area_code, {L}) AS code, count(*) AS negative_posts
            FROM opinion_post WHERE {scope.under(parent)} AND length(area_code) >= {L}
              AND sentiment = 'negative'
              AND published_at >= $s AND published_at < $e GROUP BY 1),
        g AS (
            SELECT a.code,
                   coalesce(sum(gs.staff_count) FILTER (WHERE gs.role = 'grid_worker'), 0)::INTEGER AS w,
                   coalesce(sum(gs.staff_count) FILTER (WHERE gs.role = 'grid_volunteer'), 0)::INTEGER AS v
            FROM area a LEFT JOIN grid_staff gs ON gs.area_code = a.code
            WHERE a.level = 'grid' AND {scope.under(parent, 'a.code')}
            GROUP BY a.code),
        st AS (
            SELECT left(code, {L}) AS code, count(*) AS grids,
                   count(*) FILTER (WHERE w >= {RULE_WORKERS} AND v >= {RULE_VOLUNTEERS}) AS grids_full,
                   sum(least(w, {RULE_WORKERS}) + least(v, {RULE_VOLUNTEERS}))::DOUBLE AS filled
            FROM g GROUP BY 1)
        SELECT u.code, u.name, u.parent_code,
               coalesce(p.residents, 0) AS residents,
               coalesce(c.cases, 0) AS cases, coalesce(c.disputes, 0) AS disputes,
               coalesce(c.overdue, 0) AS overdue, coalesce(o.negative_posts, 0) AS negative_posts,
               coalesce(st.grids, 0) AS grids, coalesce(st.grids_full, 0) AS grids_full,
               coalesce(st.filled, 0.0) AS filled
        FROM u LEFT JOIN p USING (code) LEFT JOIN c USING (code) LEFT JOIN o USING (code)
               LEFT JOIN st USING (code)
        ORDER BY u.code""",
        {"level": level, "s": s, "e": e, "now": now}, path)
    # the special-group total exactly as the population tables publish it (null = hidden):
    # a map of its own suppression would show cells those tables hide as complements
    df = df.join(_published_special(p, level, path), on="code", how="left")
    df = df.with_columns(
        selected=pl.col("code") == area,
        cases_per_1k=pl.when(pl.col("residents") > 0).then(pl.col("cases") * 1000 / pl.col("residents")),
        overdue_share=pl.when(pl.col("cases") > 0).then(pl.col("overdue") / pl.col("cases")),
        special_per_1k=pl.when(pl.col("special").is_not_null() & (pl.col("residents") > 0))
        .then(pl.col("special") * 1000 / pl.col("residents")),
        negative_posts=pl.col("negative_posts") if level != "grid" else pl.lit(None, pl.Int64),
        staffing_fill=pl.when(pl.col("grids") > 0)
        .then(pl.col("filled") / (pl.col("grids") * (RULE_WORKERS + RULE_VOLUNTEERS))),
    ).drop("filled")
    risk = _risk(scope, p, L, s, e, path)
    if risk is not None:
        df = df.join(risk, on="code", how="left")
    else:
        df = df.with_columns(risk_score=pl.lit(None, pl.Float64), risk_level=pl.lit(None, pl.Utf8))
    return df.with_columns(
        pl.col(m).cast(pl.Float64).rank("min", descending=True).over("parent_code").cast(pl.Int32)
        .alias(f"rank_{m}") for m in METRICS)


def _published_special(parent: str, level: str, path) -> pl.DataFrame:
    """code, special: each area's special-group total as warehouse.population publishes it."""
    from warehouse import population

    if wa.CODE_LENGTH[level] <= len(_digits(parent)):
        return pl.DataFrame(schema={"code": pl.Utf8, "special": pl.Int64})
    # the published tables are the same for every viewer; the join keeps the rows in scope
    pub = population.special_groups_at(Scope(person_level=False, name="published"), parent, level, path)
    return pub.select(pl.col("area_code").alias("code"), pl.col("total").cast(pl.Int64).alias("special"))


def available_metrics(level: str) -> list[str]:
    """Metrics the map can show at this level (risk only when the risk module exists)."""
    out = [m for m in METRICS if not (m == "negative_posts" and level == "grid")]
    return [m for m in out if m != "risk_score" or risk_available()]


def polygons(scope: Scope, area: str, path=None, level: str | None = None) -> pl.DataFrame:
    """Outlines (GeoJSON geometry text) and label points of the shown areas."""
    level, parent = map_level(area, level)
    return db.query(f"""
        SELECT code, name, geometry, lon, lat FROM area
        WHERE level = ? AND {scope.under(parent, 'code')} ORDER BY code""",
        [level], path)


def outline(scope: Scope, code: str, path=None) -> pl.DataFrame:
    """One area's own outline (the frame around its children, or the grid profile inset)."""
    if not scope.allows_area(code):  # the frame of a scope's parent: no outline, not a refusal
        scope.under(code, "code")
        return db.query("SELECT code, name, level, geometry, lon, lat FROM area WHERE FALSE", path=path)
    return db.query(f"SELECT code, name, level, geometry, lon, lat FROM area WHERE code = ? "
                    f"AND {scope.area_clause('code')}", [_digits(code)], path)


def months(path=None) -> list[date]:
    """First days of every month the case log covers, oldest first (the time slider)."""
    lo, hi = meta.data_range(path)
    out, y, m = [], lo.year, lo.month
    while (y, m) <= (hi.year, hi.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def hexagons(scope: Scope, area: str, start: date, end: date, resolution: int = 8,
             source: str = "cases", path=None) -> pl.DataFrame:
    """Case or opinion-post points in the area aggregated to H3 cells: hex (id), count."""
    if source not in ("cases", "posts"):
        raise ValueError(f"unknown point source {source!r}")
    table, when = ("cases", "reported_at") if source == "cases" else ("opinion_post", "published_at")
    pts = db.query(f"""
        SELECT lon, lat FROM {table}
        WHERE {scope.under(area)} AND lon IS NOT NULL AND lat IS NOT NULL
          AND {when} >= ? AND {when} < ?""",
        [_as_datetime(start), _as_datetime(end)], path)
    cells = [h3.latlng_to_cell(la, lo, resolution) for lo, la in pts.iter_rows()]
    return (pl.DataFrame({"hex": cells}, schema={"hex": pl.Utf8})
            .group_by("hex").agg(count=pl.len()).sort(["count", "hex"], descending=[True, False]))


# ---------------------------------------------------------------- named datasets


def _window(start, end, path) -> tuple[date, date]:
    """Export's --from/--to (inclusive last day) as a half-open window; default last month."""
    p = meta.default_period("month", path)
    return start or p.start, (end + timedelta(days=1)) if end else p.end


@dataset("map_values", "网格热力: one row per area under --area (towns/villages/grids) with map metrics and ranks")
def map_values_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    area = area or wa.root_codes(scope, path=path)[0]
    s, e = _window(start, end, path)
    return map_values(scope, area, s, e, path=path)


@dataset("map_hexagons", "网格热力 H3 mode: case points in --area counted per H3 cell (resolution 8)")
def map_hexagons_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    area = area or wa.root_codes(scope, path=path)[0]
    s, e = _window(start, end, path)
    return hexagons(scope, area, s, e, path=path)
