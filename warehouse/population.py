"""Population (实有人口), care groups, special groups and staffing: aggregates only.

Every function takes the viewer's scope and an area code and breaks the figures down by the
area's children (county → towns, town → villages, village → grids; a grid shows itself).
Nothing here returns person-level rows. Special groups leave this module only through
warehouse.suppression, so the page, its downloads and `python -m warehouse export` all carry
the same "<5" cells.
"""

from __future__ import annotations

import polars as pl

from warehouse import areas as wa
from warehouse import db, meta, suppression
from warehouse.datasets import dataset
from warehouse.db import Scope
from warehouse.definitions import AGE, CARE_GROUP_COLUMNS, SPECIAL_GROUP_COLUMNS, sql
from warehouse.scope import unscoped_within

RESIDENCE_TYPES = ("户籍", "流动", "境外")
BAND_YEARS = 5
TOP_BAND = 90  # 90+ is the last band
# Staffing targets (domain brief, seeds 000/001/003)
PATROL_PER_10K = 10          # 巡防 professional patrol staff per 10,000 residents
VOLUNTEER_SHARE = 0.01       # 群防群治 volunteer patrol, share of residents
FLOATING_PER_WARDEN = 400    # 流动人口协管员: one per 400 floating residents
GRID_WORKERS, GRID_VOLUNTEERS = 1, 2  # "1+2" per grid


# ---------------------------------------------------------------- area helpers


def _root(scope: Scope, area: str | None, path) -> str:
    code = area or wa.root_codes(scope, path=path)[0]
    scope.check_area(code)
    return db._digits(code)


def child_length(area: str) -> int:
    """Code length of the rows a breakdown of `area` shows (a grid shows itself)."""
    child = wa.child_level(wa.level_of(area))
    return wa.CODE_LENGTH[child or "grid"]


def _where(scope: Scope, area: str, column: str = "area_code") -> str:
    return scope.within(area, column)


def _named(df: pl.DataFrame, path) -> pl.DataFrame:
    """Put the area name next to its code (first two columns)."""
    names = wa.names(path)
    named = df.with_columns(pl.col("area_code").replace_strict(names, default=pl.col("area_code"),
                                                               return_dtype=pl.Utf8).alias("area_name"))
    return named.select("area_code", "area_name", pl.exclude("area_code", "area_name"))


# ---------------------------------------------------------------- residents


def residents_by_area(scope: Scope, area: str | None = None, path=None) -> pl.DataFrame:
    """One row per child area: residents by type, households, floating share."""
    area = _root(scope, area, path)
    n = child_length(area)
    df = db.query(f"""
        SELECT left(area_code, {n}) AS area_code, count(*) AS residents,
               count(*) FILTER (WHERE residence_type = '户籍') AS registered,
               count(*) FILTER (WHERE residence_type = '流动') AS floating,
               count(*) FILTER (WHERE residence_type = '境外') AS abroad,
               count(DISTINCT household_key) AS households
        FROM person WHERE {_where(scope, area)} GROUP BY 1 ORDER BY 1""", path=path)
    df = df.with_columns(
        (pl.col("floating") / pl.col("residents")).alias("floating_share"),
        (pl.col("residents") / pl.col("households")).alias("persons_per_household"))
    return _named(df, path)


def summary(scope: Scope, area: str | None = None, path=None) -> dict:
    """Headline figures for the selected area."""
    area = _root(scope, area, path)
    now = meta.data_now(path)
    row = db.query(f"""
        SELECT count(*) AS residents, count(DISTINCT household_key) AS households,
               count(*) FILTER (WHERE residence_type = '流动') AS floating,
               count(*) FILTER (WHERE residence_type = '境外') AS abroad,
               count(*) FILTER (WHERE {sql(AGE, '$now')} >= 60) AS age_60,
               count(*) FILTER (WHERE {sql(AGE, '$now')} >= 80) AS age_80
        FROM person WHERE {_where(scope, area)}""", {"now": now}, path).row(0, named=True)
    res = row["residents"]
    row["floating_share"] = row["floating"] / res if res else None
    row["age_60_share"] = row["age_60"] / res if res else None
    row["as_of"] = now
    return row


def pyramid(scope: Scope, area: str | None = None, path=None) -> pl.DataFrame:
    """Residents by 5-year age band × sex (age at the data's now; 90+ is one band)."""
    area = _root(scope, area, path)
    age = sql(AGE, "$now")
    df = db.query(f"""
        SELECT least(({age}) // {BAND_YEARS}, {TOP_BAND // BAND_YEARS})::INTEGER * {BAND_YEARS} AS band_start,
               sex, count(*) AS residents
        FROM person WHERE {_where(scope, area)} GROUP BY ALL""", {"now": meta.data_now(path)}, path)
    bands = pl.DataFrame({"band_start": list(range(0, TOP_BAND + 1, BAND_YEARS))}, schema={"band_start": pl.Int32})
    full = bands.join(pl.DataFrame({"sex": ["M", "F"]}), how="cross").join(
        df.with_columns(pl.col("band_start").cast(pl.Int32)), on=["band_start", "sex"], how="left")
    return full.with_columns(
        pl.col("residents").fill_null(0).cast(pl.Int64),
        pl.when(pl.col("band_start") >= TOP_BAND).then(pl.lit(f"{TOP_BAND}+"))
        .otherwise(pl.format("{}-{}", pl.col("band_start"), pl.col("band_start") + BAND_YEARS - 1))
        .alias("band")).sort("band_start", "sex")


def floating_trend(scope: Scope, area: str | None = None, months: int = 24, path=None) -> pl.DataFrame:
    """Floating residents by month: arrivals, and the share of residents present at month end.

    Approximation: the warehouse holds today's residents only, with their arrival month
    (person.moved_in; NULL = always lived here). A month's figure counts today's residents who
    had arrived by its end, so people who have since left are missing and the early months
    understate both numbers; the recent months are close to the truth. The series ends with
    the last complete month before the data's now (the current month is still filling up).
    """
    area = _root(scope, area, path)
    now = meta.data_now(path)
    last = now.year * 12 + now.month - 2  # the last complete month, as a month index
    first = last - (months - 1)
    as_date = lambda m: f"{m // 12:04d}-{m % 12 + 1:02d}-01"  # noqa: E731
    df = db.query(f"""
        WITH months AS (
            SELECT unnest(generate_series(?::DATE, ?::DATE, INTERVAL 1 MONTH))::DATE AS month),
        p AS (SELECT date_trunc('month', moved_in)::DATE AS arrived, residence_type = '流动' AS fl
              FROM person WHERE {_where(scope, area)})
        SELECT m.month,
               count(*) FILTER (WHERE p.fl AND p.arrived = m.month) AS floating_arrivals,
               count(*) FILTER (WHERE p.fl AND (p.arrived IS NULL OR p.arrived <= m.month)) AS floating,
               count(*) FILTER (WHERE p.arrived IS NULL OR p.arrived <= m.month) AS residents
        FROM months m, p GROUP BY m.month ORDER BY m.month""", [as_date(first), as_date(last)], path)
    return df.with_columns((pl.col("floating") / pl.col("residents")).alias("floating_share"))


# ---------------------------------------------------------------- care and special groups


def care_groups(scope: Scope, area: str | None = None, path=None) -> pl.DataFrame:
    """One row per child area: 60+, 80+, 独居, 低保, 残疾, 留守儿童 (counts; not suppressed)."""
    area = _root(scope, area, path)
    n = child_length(area)
    age = sql(AGE, "$now")
    flags = ", ".join(f"count(*) FILTER (WHERE {c}) AS {c}" for c in CARE_GROUP_COLUMNS)
    df = db.query(f"""
        SELECT left(area_code, {n}) AS area_code, count(*) AS residents,
               count(*) FILTER (WHERE {age} >= 60) AS age_60,
               count(*) FILTER (WHERE {age} >= 80) AS age_80, {flags}
        FROM person WHERE {_where(scope, area)} GROUP BY 1 ORDER BY 1""", {"now": meta.data_now(path)}, path)
    return _named(df, path)


def _special_counts(area: str, path) -> pl.DataFrame:
    """RAW counts per child area of `area` and special group. Private: callers check scope,
    and only suppressed forms leave this module."""
    n = child_length(area)
    flags = ", ".join(f"count(*) FILTER (WHERE {c}) AS {c}" for c in SPECIAL_GROUP_COLUMNS)
    kids = db.query(f"SELECT code AS area_code FROM area WHERE {unscoped_within(area, 'code')} "
                    f"AND length(code) = {n} ORDER BY code", path=path)
    df = db.query(f"""SELECT left(area_code, {n}) AS area_code, {flags}
                      FROM person WHERE {unscoped_within(area)} GROUP BY 1""", path=path)
    # every child area appears (a row of zeros is a fact, and keeps the margins honest)
    out = kids.join(df, on="area_code", how="full", coalesce=True).sort("area_code")
    return out.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in SPECIAL_GROUP_COLUMNS)


def _special_table(area: str, path, memo: dict, counts=None) -> pl.DataFrame:
    """The suppressed children table of `area`, consistent with every level above it: its
    total row keeps the markers the area's own row has in its parent's table.

    counts: a callable area -> raw children counts (default: queried from the warehouse at
    `path`, with area names); published_grid_totals() passes one over preloaded counts."""
    if area not in memo:
        parent = area[:wa.CODE_LENGTH[wa.LEVELS[wa.LEVELS.index(wa.level_of(area)) - 1]]] \
            if wa.level_of(area) != "county" else None
        fixed = None
        if parent:
            up = _special_table(parent, path, memo, counts)
            idx = up["area_code"].to_list().index(area) if area in up["area_code"].to_list() else None
            fixed = suppression.row_hidden(up, idx) if idx is not None else None
        raw = counts(area) if counts else _named(_special_counts(area, path), path)
        memo[area] = suppression.suppress(raw, list(SPECIAL_GROUP_COLUMNS), "area_name",
                                          fixed_total_row=fixed)
    return memo[area]


def published_grid_totals(con) -> pl.DataFrame:
    """Per grid: its special-group total exactly as the population page publishes it (null when
    hidden: 1–4, or a complement), and the published remainder of its village shared evenly
    over the village's hidden grids (null when the village total is hidden too).

    For figures derived from special groups elsewhere (the risk index's density): whatever is
    computed from these columns follows from published cells alone, so it cannot give a hidden
    count away. Works on an open connection (the private copy a load or build writes)."""
    cols = list(SPECIAL_GROUP_COLUMNS)
    flags = ", ".join(f"count(*) FILTER (WHERE {c}) AS {c}" for c in cols)
    per_grid = con.sql(f"SELECT area_code, {flags} FROM person GROUP BY 1").pl()
    codes = con.sql("SELECT code FROM area").pl()["code"]

    def counts(area: str) -> pl.DataFrame:
        n = child_length(area)
        kids = pl.DataFrame({"area_code": codes.filter(codes.str.starts_with(area) & (codes.str.len_chars() == n))})
        df = (per_grid.filter(pl.col("area_code").str.starts_with(area))
              .group_by(pl.col("area_code").str.slice(0, n)).agg(pl.col(c).sum() for c in cols))
        out = kids.join(df, on="area_code", how="full", coalesce=True).sort("area_code")
        return out.with_columns(pl.col("area_code").alias("area_name"),
                                *[pl.col(c).fill_null(0).cast(pl.Int64) for c in cols]) \
            .select("area_code", "area_name", *cols)

    grids = codes.filter(codes.str.len_chars() == wa.CODE_LENGTH["grid"])
    memo: dict = {}
    parts = []
    for village in sorted(set(grids.str.slice(0, wa.CODE_LENGTH["village"]).to_list())):
        t = _special_table(village, None, memo, counts)
        kids = t.filter(pl.col("area_code").is_not_null())
        total = t.filter(pl.col("area_code").is_null())["total"][0]
        hidden = kids["total"].null_count()
        rest = None if total is None or not hidden else (total - kids["total"].sum()) / hidden
        parts.append(kids.select("area_code", pl.col("total").alias("special_shown"),
                                 pl.lit(rest, pl.Float64).alias("village_share")))
    if not parts:
        return pl.DataFrame(schema={"area_code": pl.Utf8, "special_shown": pl.Int64,
                                    "village_share": pl.Float64})
    return pl.concat(parts)


def special_groups(scope: Scope, area: str | None = None, path=None) -> pl.DataFrame:
    """Special groups by child area with a total row and column, suppressed (null = hidden).

    The table agrees with the tables above it (same markers on the shared cells), so drilling
    down cannot undo a suppression. Use suppression.display() to draw it and
    suppression.export() to download it.
    """
    return _special_table(_root(scope, area, path), path, {})


def special_groups_at(scope: Scope, area: str | None = None, level: str = "grid", path=None) -> pl.DataFrame:
    """Every area at `level` under `area` (e.g. all grids, for a map), one row each, taken from
    its parent's suppressed table so it matches the drill-down tables. No total row."""
    area = _root(scope, area, path)
    if wa.CODE_LENGTH[level] <= len(area):
        raise ValueError(f"{level} is not below {area}")
    parent_len = wa.CODE_LENGTH[wa.LEVELS[wa.LEVELS.index(level) - 1]]
    parents = db.query(f"SELECT code FROM area WHERE {scope.within(area, 'code')} AND length(code) = "
                       f"{parent_len} ORDER BY code", path=path)["code"].to_list() if parent_len > len(area) \
        else [area]
    memo: dict = {}
    parts = [_special_table(p, path, memo).filter(pl.col("area_code").is_not_null()) for p in parents]
    return pl.concat(parts) if parts else _special_table(area, path, memo).clear()


# ---------------------------------------------------------------- staffing


def _town_of(area: str) -> str:
    return area[:9] if len(area) >= 9 else area


def staffing(scope: Scope, area: str | None = None, path=None) -> pl.DataFrame:
    """One row per town (patrol, volunteers and wardens are staffed by towns): each ratio, its
    attainment against the target (1.0 = met) and the number of targets missed; the towns that
    fall short come first. Below town level, the town containing the area is shown.
    """
    area = _root(scope, area, path)
    if scope.allows_area(_town_of(area)):  # a village viewer's town lies outside its scope
        area = _town_of(area)
    df = db.query(f"""
        WITH people AS (
            SELECT left(area_code, 9) AS area_code, count(*) AS residents,
                   count(*) FILTER (WHERE residence_type = '流动') AS floating
            FROM person WHERE {_where(scope, area)} GROUP BY 1),
        town_staff AS (
            SELECT area_code,
                   sum(staff_count) FILTER (WHERE role = 'patrol') AS patrol,
                   sum(staff_count) FILTER (WHERE role = 'patrol_volunteer') AS patrol_volunteers,
                   sum(staff_count) FILTER (WHERE role = 'floating_warden') AS floating_wardens
            FROM grid_staff WHERE length(area_code) = 9 AND {_where(scope, area)} GROUP BY 1),
        grids AS (
            SELECT left(code, 9) AS area_code, count(*) AS grids,
                   count(*) FILTER (WHERE coalesce(w.staff_count, 0) >= {GRID_WORKERS}
                                      AND coalesce(v.staff_count, 0) >= {GRID_VOLUNTEERS}) AS grids_staffed
            FROM area g
            LEFT JOIN grid_staff w ON w.area_code = g.code AND w.role = 'grid_worker'
            LEFT JOIN grid_staff v ON v.area_code = g.code AND v.role = 'grid_volunteer'
            WHERE g.level = 'grid' AND {_where(scope, area, 'g.code')} GROUP BY 1)
        SELECT a.code AS area_code, coalesce(p.residents, 0) AS residents,
               coalesce(p.floating, 0) AS floating,
               coalesce(s.patrol, 0)::BIGINT AS patrol,
               coalesce(s.patrol_volunteers, 0)::BIGINT AS patrol_volunteers,
               coalesce(s.floating_wardens, 0)::BIGINT AS floating_wardens,
               coalesce(g.grids, 0) AS grids, coalesce(g.grids_staffed, 0) AS grids_staffed
        FROM area a LEFT JOIN people p ON p.area_code = a.code
        LEFT JOIN town_staff s ON s.area_code = a.code LEFT JOIN grids g ON g.area_code = a.code
        WHERE a.level = 'town' AND {_where(scope, area, 'a.code')}""", path=path)
    return _named(staffing_ratios(df), path)


def staffing_ratios(df: pl.DataFrame) -> pl.DataFrame:
    """Add the four ratios, attainments (actual / target; 1 = met) and needed staff."""
    res, fl = pl.col("residents"), pl.col("floating")
    out = df.with_columns(
        pl.when(res > 0).then(pl.col("patrol") / res * 10_000).alias("patrol_per_10k"),
        pl.when(res > 0).then(pl.col("patrol_volunteers") / res).alias("volunteer_share"),
        pl.when(pl.col("floating_wardens") > 0).then(fl / pl.col("floating_wardens"))
        .alias("floating_per_warden"),
        pl.when(pl.col("grids") > 0).then(pl.col("grids_staffed") / pl.col("grids")).alias("grids_staffed_share"),
        (res * PATROL_PER_10K / 10_000).ceil().cast(pl.Int64)
        .alias("patrol_needed"),
        (res * VOLUNTEER_SHARE).ceil().cast(pl.Int64)
        .alias("volunteers_needed"),
        (fl / FLOATING_PER_WARDEN).ceil().cast(pl.Int64)
        .alias("wardens_needed"),
    )
    attain = {
        "patrol_attainment": (pl.col("patrol_per_10k") / PATROL_PER_10K),
        "volunteer_attainment": (pl.col("volunteer_share") / VOLUNTEER_SHARE),
        # wardens against the number needed; no floating residents needs no warden
        "warden_attainment": pl.when(fl > 0).then(pl.col("floating_wardens") * FLOATING_PER_WARDEN / fl),
        "grid_attainment": pl.col("grids_staffed_share"),
    }
    out = out.with_columns(e.alias(k) for k, e in attain.items())
    short = [pl.col(k).fill_null(1.0) < 1.0 - 1e-12 for k in attain]
    out = out.with_columns(pl.sum_horizontal(short).cast(pl.Int64).alias("shortfalls"),
                           pl.min_horizontal(list(attain)).alias("worst_attainment"))
    return out.sort(["shortfalls", "worst_attainment", "area_code"], descending=[True, False, False],
                    nulls_last=True)


# ---------------------------------------------------------------- datasets


@dataset("population", "Residents by child area: type (户籍/流动/境外), households, floating share, care groups")
def population_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    res = residents_by_area(scope, area, path)
    care = care_groups(scope, area, path).drop("area_name", "residents")
    return res.join(care, on="area_code", how="left")


@dataset("special_groups", "Special groups (社区矫正, 刑释解教, …) by child area; cells under 5 suppressed")
def special_groups_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return suppression.export(special_groups(scope, area, path), dict(SPECIAL_GROUP_COLUMNS) | {"total": "合计"})


@dataset("staffing", "Staffing by town against targets (patrol, volunteers, wardens, 1+2 grids), shortfalls first")
def staffing_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return staffing(scope, area, path)
