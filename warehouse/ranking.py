"""Town ranking (定量考核): a weighted score from the catalogue's indicators.

Method, per period, over the towns of one county:
1. Each indicator with weight > 0 and defined at town level is evaluated per town, suppressed:
   a special-group figure with a cell of 1–4 counts as missing (an average town), since the
   score and the named contributions are published and would give the hidden value away.
2. Normalise across towns, direction-aware (min–max): s = (v − min) / (max − min) when higher
   is better, (max − v) / (max − min) when lower is better. When every town has the same value
   s = 1 for all (nobody is behind). A town without a value (no cases of that kind), or with a
   denominator below the indicator's min_base (too few cases to judge), is scored as an average
   town on it (s = mean of the other towns' s), so it neither gains nor loses; an indicator no
   town has is left out and the weights are re-normalised over the rest.
3. score = 100 × Σ wᵢ·sᵢ / Σ wᵢ, rounded to 0.01 *before* ranking, so towns that show the same
   score share a rank ('min' method: 1, 2, 2, 4).
4. Change in rank = previous period's rank − this rank (positive: moved up).
5. Pulled up/down: an indicator's contribution = 100 × wᵢ / Σ w × (sᵢ − mean of sᵢ over towns),
   i.e. the points it adds or costs against an average town. The two largest positive
   contributions (≥ 0.5 points) pulled the town up, the two most negative pulled it down.
6. Deductions (扣分): the points an indicator cost against full marks, 100 × wᵢ / Σ w × (1 − sᵢ),
   listed largest first when ≥ 0.5 points.
7. 一票否决: a town whose value on a veto indicator (catalogue `veto`, e.g. 进京非正常上访 ≥ 1)
   reaches the veto figure ranks below every town without a veto, whatever its score; vetoed
   towns are ranked among themselves by score. Veto indicators are not special-group figures,
   so suppression never hides them.
"""

from __future__ import annotations

import polars as pl

from warehouse import areas as wa
from warehouse import indicators as wi
from warehouse.datasets import dataset
from warehouse.db import Scope
from warehouse.periods import Period
from warehouse.pymap import joined_names

TOP = 2
MIN_CONTRIBUTION = 0.5


def normalise(values: dict[str, float | None], direction: str) -> dict[str, float | None]:
    """Min–max across towns, 1 = best; None stays None (see module doc)."""
    present = [v for v in values.values() if v is not None]
    if not present:
        return dict.fromkeys(values)
    lo, hi = min(present), max(present)
    out = {}
    for town, v in values.items():
        if v is None:
            out[town] = None
        elif hi == lo:
            out[town] = 1.0
        else:
            out[town] = (v - lo) / (hi - lo) if direction == "higher" else (hi - v) / (hi - lo)
    return out


def min_rank(scores: dict[str, float]) -> dict[str, int]:
    """Rank by score, highest first; equal scores share the best rank ('min': 1, 2, 2, 4)."""
    ordered = sorted(scores.values(), reverse=True)
    return {town: ordered.index(s) + 1 for town, s in scores.items()}


def scores(long: pl.DataFrame, weights: dict[str, float], directions: dict[str, str]) -> pl.DataFrame:
    """From (key, area_code, value) rows of one period: per town score, rank and contributions."""
    towns = sorted(long["area_code"].unique().to_list())
    norm: dict[str, dict[str, float | None]] = {}
    for key in weights:
        sub = long.filter(pl.col("key") == key)
        vals = dict.fromkeys(towns) | dict(zip(sub["area_code"], sub["value"]))
        norm[key] = normalise(vals, directions[key])
    for key, per_town in norm.items():  # missing → an average town on that indicator
        present = [x for x in per_town.values() if x is not None]
        if present:
            mean = sum(present) / len(present)
            norm[key] = {t: mean if x is None else x for t, x in per_town.items()}
    used = {k: w for k, w in weights.items() if any(x is not None for x in norm[k].values())}
    total_w = sum(used.values())
    rows = {}
    for town in towns:
        score = round(100 * sum(w * norm[k][town] for k, w in used.items()) / total_w, 2) if total_w else 0.0
        rows[town] = {"area_code": town, "score": score}
    ranks = min_rank({t: r["score"] for t, r in rows.items()})
    for town, r in rows.items():
        contrib = {}
        for key, w in used.items():
            col = norm[key]
            contrib[key] = 100 * w / total_w * (col[town] - sum(col.values()) / len(col))
        ups = sorted((k for k, c in contrib.items() if c >= MIN_CONTRIBUTION), key=lambda k: -contrib[k])
        downs = sorted((k for k, c in contrib.items() if c <= -MIN_CONTRIBUTION), key=lambda k: contrib[k])
        lost = {k: round(100 * w / total_w * (1 - norm[k][town]), 2) for k, w in used.items()}
        deduct = sorted((k for k, p in lost.items() if p >= MIN_CONTRIBUTION), key=lambda k: -lost[k])
        r |= {"rank": ranks[town], "up_keys": ups[:TOP], "down_keys": downs[:TOP],
              "deduction_keys": deduct, "deduction_points": [lost[k] for k in deduct]}
    return pl.DataFrame(list(rows.values()), schema={
        "area_code": pl.Utf8, "score": pl.Float64, "rank": pl.Int64, "up_keys": pl.List(pl.Utf8),
        "down_keys": pl.List(pl.Utf8), "deduction_keys": pl.List(pl.Utf8),
        "deduction_points": pl.List(pl.Float64)})


def vetoed(long: pl.DataFrame, vetoes: dict[str, float]) -> dict[str, list[str]]:
    """Towns that reach a veto figure, with the indicator keys that vetoed them (from
    (key, area_code, value) rows of one period)."""
    out: dict[str, list[str]] = {}
    for key, at in vetoes.items():
        hit = long.filter((pl.col("key") == key) & (pl.col("value") >= at))
        for town in hit["area_code"].to_list():
            out.setdefault(town, []).append(key)
    return out


def apply_veto(ranked: pl.DataFrame, veto: dict[str, list[str]]) -> pl.DataFrame:
    """Re-rank: towns without a veto by score ('min' ranks), then vetoed towns by score below them."""
    clear = {t: sc for t, sc in zip(ranked["area_code"], ranked["score"]) if t not in veto}
    hit = {t: sc for t, sc in zip(ranked["area_code"], ranked["score"]) if t in veto}
    ranks = min_rank(clear) | {t: len(clear) + r for t, r in min_rank(hit).items()}
    return ranked.with_columns(
        pl.col("area_code").replace_strict(ranks, return_dtype=pl.Int64).alias("rank"),
        pl.col("area_code").is_in(list(veto)).alias("vetoed"),
        pl.col("area_code").replace_strict({t: veto.get(t, []) for t in ranks},
                                           return_dtype=pl.List(pl.Utf8)).alias("veto_keys"))


def _ranked(scope: Scope, county: str, period: Period, path=None) -> pl.DataFrame:
    cat = wi.catalogue()
    keys = [k for k, i in cat.items() if i.weight > 0 and "town" in i.levels]
    vetoes = {k: float(i.veto) for k, i in cat.items() if i.veto is not None and "town" in i.levels}
    long = wi.evaluate(scope, county, ["town"], [period], keys=list(dict.fromkeys(keys + list(vetoes))),
                       path=path)  # suppressed: a hidden special-group value counts as missing
    base = pl.col("key").replace_strict({k: float(cat[k].min_base) for k in cat})
    weighted = long.filter(pl.col("key").is_in(keys)).with_columns(
        pl.when(pl.col("denominator") < base).then(None).otherwise(pl.col("value")).alias("value"))
    ranked = scores(weighted, {k: float(cat[k].weight) for k in keys}, {k: cat[k].direction for k in keys})
    return apply_veto(ranked, vetoed(long, vetoes))


def town_ranking(scope: Scope, county: str, period: Period, path=None) -> pl.DataFrame:
    """One row per town, best first: rank, area_code, name, score, prev_rank, rank_change,
    up_keys / down_keys (indicator keys that pulled the town up / down), vetoed and veto_keys
    (一票否决), deduction_keys / deduction_points (扣分, largest first)."""
    county = county[:6]
    cur = _ranked(scope, county, period, path)
    prev = _ranked(scope, county, period.previous(), path).select(
        "area_code", pl.col("rank").alias("prev_rank"))
    names = wa.names(path)
    return (cur.join(prev, on="area_code", how="left")
            .with_columns((pl.col("prev_rank") - pl.col("rank")).alias("rank_change"),
                          pl.col("area_code").replace_strict(names, default=None).alias("name"),
                          pl.lit(period.key).alias("period"))
            .select("rank", "area_code", "name", "score", "prev_rank", "rank_change", "up_keys",
                    "down_keys", "vetoed", "veto_keys", "deduction_keys", "deduction_points", "period")
            .sort("rank", "area_code"))


@dataset("town_ranking", "town ranking (定量考核) for one period: weighted score, rank, change in "
         "rank, indicators that pulled each town up or down, 一票否决 and deductions (扣分)")
def town_ranking_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    county = wi.root_area(scope, area, path)
    df = town_ranking(scope, county, wi.period_for(start, end, path), path)
    cat = wi.catalogue()

    zh = {k: cat[k].name("zh") for k in cat}
    en = {k: cat[k].name("en") for k in cat}
    out = df.with_columns(
        joined_names("up_keys", zh, "、").alias("pulled_up_zh"),
        joined_names("down_keys", zh, "、").alias("pulled_down_zh"),
        joined_names("up_keys", en, "; ").alias("pulled_up_en"),
        joined_names("down_keys", en, "; ").alias("pulled_down_en"),
    ).drop("up_keys", "down_keys")
    return out.with_columns(
        *[pl.Series(f"veto_{lang}", [sep.join(cat[k].name(lang) for k in ks) for ks in df["veto_keys"].to_list()],
                    dtype=pl.Utf8) for lang, sep in (("zh", "、"), ("en", "; "))],
        *[pl.Series(f"deductions_{lang}", [sep.join(f"{cat[k].name(lang)} −{p:.1f}" for k, p in zip(ks, ps))
                                           for ks, ps in zip(df["deduction_keys"].to_list(),
                                                             df["deduction_points"].to_list())], dtype=pl.Utf8)
          for lang, sep in (("zh", "、"), ("en", "; "))],
    ).drop("veto_keys", "deduction_keys", "deduction_points")
