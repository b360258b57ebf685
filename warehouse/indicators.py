"""The indicator catalogue (warehouse/indicators.yaml) evaluated for an area and a period.

`values(scope, area, period, path=None)` is the stable entry point (the overview, the monthly
report and the wall use it). It returns one row per catalogue indicator, in catalogue order:

    key, name_zh, name_en, section, domain, unit, direction, target, green, amber,
    target_source, weight, window        – from the catalogue (unit: pct | permille | per10k |
                                           count | ratio; pct/permille values are fractions)
    area_code, period                    – what was asked (period = Period.key)
    applicable   bool  – the indicator is defined at this area's level (else value is null)
    value        f64   – numerator / denominator × scale (annualised when per_year); counts: numerator
    numerator, denominator  f64
    suppressed   bool  – special-group figure with a cell of 1–4: value, numerator, denominator, rag null
    rag          str   – 'green' | 'amber' | 'red', null without a target or a value
    prev_value, change_prev   – previous period, and value − prev_value (same unit as value;
                                for pct a fraction of percentage points ÷ 100); null for a
                                survey indicator when no new survey came in since
    yoy_value, change_yoy     – same period a year before
    history      list[f64]    – the last 12 periods, oldest first (ends with value)
    history_periods list[str] – their keys
Snapshot indicators (registers of staff and special groups) have no history: prev/yoy/changes
are null and history is empty, since the warehouse keeps only the current register.

`evaluate()` is the engine below it: every indicator's SQL runs in one query for any set of
periods and areas, rolled up by area-code prefix, with the viewer's scope applied here. For
months (and snapshot indicators) it reads the same sums from mart_indicator_month instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import polars as pl

from warehouse import areas as wa
from warehouse import db, definitions, meta, yamlfile
from warehouse.datasets import dataset
from warehouse.db import Scope
from warehouse.periods import Period, period_of

CATALOGUE = Path(__file__).with_name("indicators.yaml")
HISTORY = 12
UNITS = ("pct", "permille", "per10k", "count", "ratio")
WINDOWS = ("period", "trailing_12m", "latest_survey", "snapshot")


@dataclass(frozen=True)
class Indicator:
    key: str
    zh: str
    en: str
    section: str
    domain: str
    unit: str
    direction: str
    sql: str
    target: float | None = None
    green: float | None = None
    amber: float | None = None
    target_source: str = ""
    weight: float = 0
    window: str = "period"
    levels: tuple[str, ...] = ("county", "town", "village", "grid")
    scale: float = 1
    per_year: bool = False
    sensitive: bool = False
    notable_change: float = 0
    min_base: float = 0
    veto: float | None = None  # 一票否决: a town at or above this value ranks below every other town
    veto_source: str = ""

    def name(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def rag(self, value: float | None) -> str | None:
        return rag(value, self.direction, self.green, self.amber)


def rag(value, direction: str, green, amber) -> str | None:
    """Red/amber/green against the thresholds; None without a value or a threshold."""
    if value is None or green is None:
        return None
    eps = 1e-9  # 96/100 must count as reaching 0.96
    if direction == "higher":
        return "green" if value >= green - eps else "amber" if amber is not None and value >= amber - eps else "red"
    return "green" if value <= green + eps else "amber" if amber is not None and value <= amber + eps else "red"


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict[str, Indicator]:
    raw = yamlfile.read(path)
    out = {}
    for key, spec in raw.items():
        spec = dict(spec)
        spec["levels"] = tuple(spec.get("levels", Indicator.levels))
        ind = Indicator(key=key, **spec)
        if ind.unit not in UNITS or ind.window not in WINDOWS or ind.direction not in ("higher", "lower"):
            raise ValueError(f"indicator {key}: bad unit, window or direction")
        out[key] = ind
    return out


def catalogue(path: Path = CATALOGUE) -> dict[str, Indicator]:
    """The catalogue in file order (re-read when the file changes)."""
    return _load(str(path), path.stat().st_mtime)


# ---------------------------------------------------------------- engine


def _sql_of(ind: Indicator, now_sql: str) -> str:
    exprs = {name: definitions.sql(v, now_sql) for name, v in vars(definitions).items()
             if name.isupper() and isinstance(v, str)}
    return ind.sql.format(now=now_sql, **exprs)


def _periods_cte(periods: list[Period]) -> str:
    rows = ", ".join(f"('{p.key}', TIMESTAMP '{p.start}', TIMESTAMP '{p.end}')" for p in periods)
    return (f"periods AS (SELECT v.period, v.start_at, v.end_at, "
            f"(SELECT max(survey_period) FROM survey_response WHERE survey_period < v.end_at) AS latest_survey "
            f"FROM (VALUES {rows}) v(period, start_at, end_at))")


# ---------------------------------------------------------------- the mart

MART = "mart_indicator_month"
SNAPSHOT = "*"  # the mart's period for snapshot indicators: the current registers, any period


def _mart_tag() -> str:
    """Which catalogue and definitions a mart was computed with (their SQL, hashed)."""
    text = "\n".join(f"{k}|{i.window}|{_sql_of(i, 'NOW')}" for k, i in catalogue().items())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_marts(con) -> list[str]:
    """mart_indicator_month, rebuilt with the other marts after every build and load.

    Grain: one row per indicator, month ('YYYY-MM', every month from the first case to the
    data's now; '*' for snapshot indicators, which read the current registers) and area code
    the indicator's SQL yields (grids; towns for the SSRA register), with the numerator and
    denominator sums and the `tag` of the catalogue that computed it. The engine rolls these up
    by code prefix instead of running 17 queries over the base tables for every request."""
    first = con.sql("SELECT min(reported_at) FROM cases").fetchall()[0][0]
    if first is None:
        con.execute(f"DROP TABLE IF EXISTS {MART}")
        return []
    now = meta.data_now_of(con)
    now_sql = f"TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}'"
    months = [period_of("month", first.date())]
    while months[-1].end <= now.date():
        months.append(period_of("month", months[-1].end))
    snapshot = (f"periods AS (SELECT '{SNAPSHOT}' AS period, {now_sql} AS start_at, {now_sql} AS end_at, "
                f"NULL::DATE AS latest_survey)")

    def union(inds) -> str:
        return " UNION ALL ".join(
            f"SELECT '{i.key}' AS key, period, area_code, sum(num)::DOUBLE AS num, "
            f"sum(den)::DOUBLE AS den FROM ({_sql_of(i, now_sql)}) s GROUP BY ALL" for i in inds)

    cat = catalogue().values()
    con.execute(f"""CREATE OR REPLACE TABLE {MART} AS
        SELECT *, '{_mart_tag()}' AS tag FROM (
            (WITH {_periods_cte(months)} {union(i for i in cat if i.window != 'snapshot')})
            UNION ALL
            (WITH {snapshot} {union(i for i in cat if i.window == 'snapshot')}))
        ORDER BY period, area_code""")
    return [MART]


# the tables the catalogue's SQL reads, and case_event for the data's now (see warehouse/marts.py)
build_marts.depends_on = ("area", "cases", "case_event", "mart_case_flow", "person", "grid_staff", "ssra",
                          "survey_response", "petition")


@lru_cache(maxsize=8)
def _mart_periods(live: str, ver: str | None, tag: str) -> frozenset[str] | None:
    """The periods the warehouse's indicator mart holds; None without a current mart."""
    con = db.reader(live)
    if not db.has_tables(con, MART):
        return None
    if con.sql(f"SELECT any_value(tag) FROM {MART}").fetchall()[0][0] != tag:
        return None
    return frozenset(r[0] for r in con.sql(f"SELECT DISTINCT period FROM {MART}").fetchall())


def _from_mart(scope: Scope, root: str, levels: list[str], periods: list[Period],
               inds: list[Indicator], path) -> pl.DataFrame:
    """What the live queries give for `inds`, rolled up from the mart: snapshot rows ('*')
    stand for every period asked."""
    keys = [p.key for p in periods]
    parts = []
    for level in levels:
        at_level = [i.key for i in inds if level in i.levels]
        if not at_level:
            continue
        n = wa.CODE_LENGTH[level]
        parts.append(db.query(
            f"SELECT key, period, left(area_code, {n}) AS area_code, sum(num) AS numerator, "
            f"sum(den) AS denominator FROM {MART} WHERE list_contains(?, key) "
            f"AND list_contains(?, period) AND length(area_code) >= {n} "
            f"AND {scope.within(root)} GROUP BY ALL",
            [at_level, keys + [SNAPSHOT]], path))
    if not parts:
        return pl.DataFrame(schema=RAW_SCHEMA)
    df = pl.concat(parts).cast(RAW_SCHEMA)
    snap = df.filter(pl.col("period") == SNAPSHOT)
    return pl.concat([df.filter(pl.col("period") != SNAPSHOT)]
                     + [snap.with_columns(pl.lit(k).alias("period")) for k in keys])


RAW_SCHEMA = {"key": pl.Utf8, "period": pl.Utf8, "area_code": pl.Utf8, "numerator": pl.Float64,
              "denominator": pl.Float64}


def evaluate(scope: Scope, root: str, levels: list[str], periods: list[Period],
             keys: list[str] | None = None, path=None, suppress: bool = True,
             use_mart: bool = True) -> pl.DataFrame:
    """Long frame: one row per (key, period, area_code) for every area at `levels` under `root`.

    Columns: key, period, area_code, level, numerator, denominator, value, suppressed, rag.
    Areas with no rows get a null value (counts get 0). suppress=False keeps small special-group
    cells: only for scores that never show them (the town ranking). use_mart=False runs every
    indicator's SQL on the base tables (the tests compare the two).
    """
    scope.check_area(root)
    cat = catalogue()
    chosen = [cat[k] for k in (keys or cat)]
    now = meta.data_now(path)
    now_sql = f"TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}'"
    root = db._digits(root)
    live = str(db.db_path(path))
    held = _mart_periods(live, db.version(live), _mart_tag()) if use_mart else None
    months_held = held is not None and all(p.grain == "month" and p.key in held for p in periods)
    marted = [i for i in chosen if held is not None and (i.window == "snapshot" or months_held)]
    parts = []
    for ind in chosen:
        if ind in marted:
            continue
        for level in levels:
            if level not in ind.levels:
                continue
            n = wa.CODE_LENGTH[level]
            parts.append(
                f"SELECT '{ind.key}' AS key, period, left(area_code, {n}) AS area_code, "
                f"sum(num)::DOUBLE AS numerator, sum(den)::DOUBLE AS denominator "
                f"FROM ({_sql_of(ind, now_sql)}) s "
                f"WHERE length(area_code) >= {n} AND {scope.within(root)} GROUP BY ALL")
    raw = pl.concat([
        db.query(f"WITH {_periods_cte(periods)} " + " UNION ALL ".join(parts), path=path).cast(RAW_SCHEMA)
        if parts else pl.DataFrame(schema=RAW_SCHEMA),
        _from_mart(scope, root, levels, periods, marted, path) if marted else pl.DataFrame(schema=RAW_SCHEMA)])
    # every (indicator, area, period) asked for, so areas without rows still appear
    area_df = db.query(
        f"SELECT code AS area_code, level FROM area WHERE {scope.within(root, 'code')} AND "
        f"list_contains(?, level)", [list(levels)], path)
    grid = [{"key": ind.key, "period": p.key, "area_code": a, "level": lv}
            for ind in chosen for p in periods for a, lv in area_df.iter_rows() if lv in ind.levels]
    full = pl.DataFrame(grid, schema={"key": pl.Utf8, "period": pl.Utf8, "area_code": pl.Utf8,
                                      "level": pl.Utf8})
    df = full.join(raw, on=["key", "period", "area_code"], how="left")
    return _finish(df, {ind.key: ind for ind in chosen}, {p.key: p for p in periods}, suppress)


def _finish(df: pl.DataFrame, cat: dict[str, Indicator], periods: dict[str, Period],
            suppress: bool) -> pl.DataFrame:
    rows = []
    for r in df.iter_rows(named=True):
        ind = cat[r["key"]]
        num, den = r["numerator"], r["denominator"]
        if ind.unit == "count":
            num = num or 0.0
            value = num
        else:
            value = num / den * ind.scale if den else None
        if value is not None and ind.per_year:
            p = periods[r["period"]]
            value *= 365.25 / (p.end - p.start).days
        # the complement is a cell too: 77 of 78 衔接 publishes "1 not handed over"
        rest = den - num if ind.unit != "count" and num is not None and den is not None else None
        suppressed = suppress and ind.sensitive and any(x is not None and 0 < x < definitions.SUPPRESS_BELOW
                                                        for x in (num, den, rest))
        rows.append(r | {"numerator": None if suppressed else num,
                         "denominator": None if suppressed else den,
                         "value": None if suppressed else value, "suppressed": suppressed,
                         # no colour either: with a sibling's published denominator a band
                         # pins the hidden count (安置 den 90 + 重新犯罪 amber → exactly 1)
                         "rag": None if suppressed else ind.rag(value)})
    return pl.DataFrame(rows, schema={
        "key": pl.Utf8, "period": pl.Utf8, "area_code": pl.Utf8, "level": pl.Utf8,
        "numerator": pl.Float64, "denominator": pl.Float64, "value": pl.Float64,
        "suppressed": pl.Boolean, "rag": pl.Utf8})


# ---------------------------------------------------------------- values()


def _meta_columns(ind: Indicator) -> dict:
    return {"key": ind.key, "name_zh": ind.zh, "name_en": ind.en, "section": ind.section,
            "domain": ind.domain, "unit": ind.unit, "direction": ind.direction,
            "target": None if ind.target is None else float(ind.target),
            "green": None if ind.green is None else float(ind.green),
            "amber": None if ind.amber is None else float(ind.amber),
            "target_source": ind.target_source, "weight": float(ind.weight), "window": ind.window}


def values(scope: Scope, area: str, period: Period, path=None) -> pl.DataFrame:
    """Every indicator for one area and period, with changes and history (see module doc)."""
    level = wa.level_of(area)
    hist = period.history(HISTORY)
    year_ago = period.year_ago()
    wanted = hist + ([year_ago] if year_ago not in hist else [])
    long = evaluate(scope, area, [level], wanted, path=path).filter(pl.col("area_code") == area)
    by = {(r["key"], r["period"]): r for r in long.iter_rows(named=True)}
    prev = period.previous()
    rows = []
    for ind in catalogue().values():
        cur = by.get((ind.key, period.key), {})
        value = cur.get("value")
        snapshot = ind.window == "snapshot"
        before = by.get((ind.key, prev.key), {})
        pv = None if snapshot else before.get("value")
        if ind.window == "latest_survey" and _same_rows(cur, before):
            pv = None  # no new survey since the previous period: nothing changed, nothing to show
        yv = None if snapshot else by.get((ind.key, year_ago.key), {}).get("value")
        rows.append(_meta_columns(ind) | {
            "area_code": area, "period": period.key, "applicable": level in ind.levels,
            "value": value, "numerator": cur.get("numerator"), "denominator": cur.get("denominator"),
            "suppressed": bool(cur.get("suppressed", False)), "rag": cur.get("rag"),
            "prev_value": pv, "change_prev": None if value is None or pv is None else value - pv,
            "yoy_value": yv, "change_yoy": None if value is None or yv is None else value - yv,
            "history": [] if snapshot else [by.get((ind.key, p.key), {}).get("value") for p in hist],
            "history_periods": [] if snapshot else [p.key for p in hist],
        })
    return pl.DataFrame(rows, schema=VALUES_SCHEMA)


def _same_rows(a: dict, b: dict) -> bool:
    return a.get("numerator") is not None and (a.get("numerator"), a.get("denominator")) == (
        b.get("numerator"), b.get("denominator"))


VALUES_SCHEMA = {
    "key": pl.Utf8, "name_zh": pl.Utf8, "name_en": pl.Utf8, "section": pl.Utf8, "domain": pl.Utf8,
    "unit": pl.Utf8, "direction": pl.Utf8, "target": pl.Float64, "green": pl.Float64,
    "amber": pl.Float64, "target_source": pl.Utf8, "weight": pl.Float64, "window": pl.Utf8,
    "area_code": pl.Utf8, "period": pl.Utf8, "applicable": pl.Boolean, "value": pl.Float64,
    "numerator": pl.Float64, "denominator": pl.Float64, "suppressed": pl.Boolean, "rag": pl.Utf8,
    "prev_value": pl.Float64, "change_prev": pl.Float64, "yoy_value": pl.Float64,
    "change_yoy": pl.Float64, "history": pl.List(pl.Float64), "history_periods": pl.List(pl.Utf8)}


# ---------------------------------------------------------------- periods for datasets


def period_for(start: date | None, end: date | None, path=None) -> Period:
    """One period from an export's --from/--to: a whole ISO week, month, quarter or year when the
    range is exactly one, else a custom range; the month containing --from alone; default: last month."""
    if start is None and end is None:
        return meta.default_period("month", path)
    if end is None:
        return period_of("month", start)
    if start is None:
        return period_of("month", end)
    for grain in ("week", "month", "quarter", "year"):
        p = period_of(grain, start)
        if p.start == start and p.end == end + timedelta(days=1):
            return p
    return Period(start, end + timedelta(days=1), "custom")


def months_between(start: date | None, end: date | None, path=None) -> list[Period]:
    if start is None and end is None:
        return [meta.default_period("month", path)]
    first = period_of("month", start or end)
    last = period_of("month", end or start)
    out = [first]
    while out[-1].start < last.start:
        out.append(Period(out[-1].end, period_of("month", out[-1].end).end, "month"))
    return out


def root_area(scope: Scope, area: str | None, path=None) -> str:
    return area or wa.root_codes(scope, path=path)[0]


@dataset("indicators", "catalogue indicators per area (the area and its child areas) × month: "
         "value, target, RAG")
def indicators_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    root = root_area(scope, area, path)
    level = wa.level_of(root)
    levels = [lv for lv in (level, wa.child_level(level)) if lv]
    df = evaluate(scope, root, levels, months_between(start, end, path), path=path)
    cat = catalogue()
    names = wa.names(path)
    meta_df = pl.DataFrame([{"key": k, "name_zh": i.zh, "name_en": i.en, "unit": i.unit,
                             "direction": i.direction,
                             "target": None if i.target is None else float(i.target)}
                            for k, i in cat.items()],
                           schema={"key": pl.Utf8, "name_zh": pl.Utf8, "name_en": pl.Utf8,
                                   "unit": pl.Utf8, "direction": pl.Utf8, "target": pl.Float64})
    return (df.join(meta_df, on="key", how="left")
            .with_columns(pl.col("area_code").replace_strict(names, default=None).alias("area_name"))
            .select("area_code", "area_name", "level", "period", "key", "name_zh", "name_en", "unit",
                    "direction", "value", "numerator", "denominator", "target", "rag", "suppressed")
            .sort("period", "area_code", "key"))
