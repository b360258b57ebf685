"""What changed: the largest period-on-period movements, as plain sentences in zh and en.

For an area and a period, every catalogue indicator is compared with the previous period for
the area itself and each of its child areas (county → its towns). A move is reported when
- the indicator has history (not a snapshot register) and is not suppressed,
- both periods have a denominator of at least the indicator's min_base (small samples swing),
- |change| ≥ the indicator's notable_change (indicators.yaml).
Moves are ranked by |change| / notable_change, so "2 notable steps" on one indicator outranks
"1.5 steps" on another whatever their units. Example: 岔河镇 逾期率 上升 4.2 个百分点（10.1% → 14.3%），变差.
"""

from __future__ import annotations

import polars as pl

from warehouse import areas as wa
from warehouse import indicators as wi
from warehouse.datasets import dataset
from warehouse.db import Scope
from warehouse.periods import Period

TOP_N = 8


def fmt_value(v: float | None, unit: str) -> str:
    """A value in its unit, language-neutral (%, ‰, plain numbers)."""
    if v is None:
        return "—"
    if unit == "pct":
        return f"{v * 100:.1f}%"
    if unit == "permille":
        return f"{v * 1000:.2f}‰"
    if unit == "count":
        return f"{v:,.0f}"
    return f"{v:,.2f}" if abs(v) < 10 else f"{v:,.1f}"


def fmt_change(d: float, unit: str, lang: str) -> str:
    """The size of a change without its sign: 4.2 个百分点 / 4.2 pp, 3 起 / 3."""
    d = abs(d)
    if unit == "pct":
        return f"{d * 100:.1f} 个百分点" if lang == "zh" else f"{d * 100:.1f} pp"
    if unit == "permille":
        return f"{d * 1000:.2f} 个千分点" if lang == "zh" else f"{d * 1000:.2f} ‰ points"
    if unit == "count":
        return f"{d:,.0f} 起" if lang == "zh" else f"{d:,.0f}"
    return f"{d:,.2f}" if d < 10 else f"{d:,.1f}"


def sentence(area_name: str, ind: wi.Indicator, prev: float, value: float, lang: str) -> str:
    change = value - prev
    better = (change > 0) == (ind.direction == "higher")
    amount = fmt_change(change, ind.unit, lang)
    span = f"{fmt_value(prev, ind.unit)} → {fmt_value(value, ind.unit)}"
    if lang == "zh":
        verb = ("增加" if change > 0 else "减少") if ind.unit == "count" else ("上升" if change > 0 else "下降")
        return f"{area_name} {ind.zh} {verb} {amount}（{span}），{'向好' if better else '变差'}"
    verb = "up" if change > 0 else "down"
    return f"{area_name} {ind.en} {verb} {amount} ({span}), {'better' if better else 'worse'}"


def what_changed(scope: Scope, area: str, period: Period, n: int = TOP_N, path=None) -> pl.DataFrame:
    """The n largest notable moves since the previous period (see module doc), largest first."""
    level = wa.level_of(area)
    levels = [lv for lv in (level, wa.child_level(level)) if lv]
    prev = period.previous()
    long = wi.evaluate(scope, area, levels, [period, prev], path=path)
    cur = long.filter(pl.col("period") == period.key)
    old = long.filter(pl.col("period") == prev.key).select(
        "key", "area_code", pl.col("value").alias("prev_value"), pl.col("denominator").alias("prev_den"))
    cat = wi.catalogue()
    names = wa.names(path)
    rows = []
    for r in cur.join(old, on=["key", "area_code"], how="inner").iter_rows(named=True):
        ind = cat[r["key"]]
        if ind.window == "snapshot" or r["value"] is None or r["prev_value"] is None:
            continue
        if ind.unit != "count" and min(r["denominator"] or 0, r["prev_den"] or 0) < ind.min_base:
            continue
        change = r["value"] - r["prev_value"]
        if not ind.notable_change or abs(change) < ind.notable_change - 1e-12:
            continue
        name = names.get(r["area_code"], r["area_code"])
        rows.append({"area_code": r["area_code"], "area_name": name, "level": r["level"],
                     "key": ind.key, "value": r["value"], "prev_value": r["prev_value"],
                     "change": change, "magnitude": abs(change) / ind.notable_change,
                     "better": (change > 0) == (ind.direction == "higher"),
                     "sentence_zh": sentence(name, ind, r["prev_value"], r["value"], "zh"),
                     "sentence_en": sentence(name, ind, r["prev_value"], r["value"], "en"),
                     "period": period.key})
    schema = {"area_code": pl.Utf8, "area_name": pl.Utf8, "level": pl.Utf8, "key": pl.Utf8,
              "value": pl.Float64, "prev_value": pl.Float64, "change": pl.Float64,
              "magnitude": pl.Float64, "better": pl.Boolean, "sentence_zh": pl.Utf8,
              "sentence_en": pl.Utf8, "period": pl.Utf8}
    df = pl.DataFrame(rows, schema=schema)
    return df.sort(["magnitude", "area_code", "key"], descending=[True, False, False]).head(n)


@dataset("changes", "what changed since the previous period: the largest notable indicator moves "
         "for an area and its child areas, as zh and en sentences")
def changes_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    root = wi.root_area(scope, area, path)
    return what_changed(scope, root, wi.period_for(start, end, path), n=50, path=path)
