"""The demo's v6 registers (schema.py: 6): 衔接管控 and 帮教 of released prisoners, village
and town-centre staffing, survey items (治安满意度, 知晓, 参与), and how disputes were found
(排查 type) and mediated (调解 kind). Rates from assumptions.yaml `seed_registers`."""

from __future__ import annotations

import numpy as np
import polars as pl


def _pick(rng: np.random.Generator, dist: dict[str, float], n: int) -> np.ndarray:
    names, p = list(dist), np.array(list(dist.values()), dtype=float)
    return rng.choice(np.array(names, dtype=object), n, p=p / p.sum())


def add_seed_registers(tables: dict[str, pl.DataFrame], cfg: dict, rng: np.random.Generator) -> None:
    """Adds columns and rows to the generated tables in place (own random stream)."""
    sr = cfg["seed_registers"]
    persons = tables["person"]
    n = persons.height
    linked = rng.random(n) < sr["released_linked"]
    helped = rng.random(n) < sr["released_helped"]
    tables["person"] = persons.with_columns(
        pl.when(pl.col("is_released")).then(pl.Series(linked)).alias("is_linked"),
        pl.when(pl.col("is_released")).then(pl.Series(helped)).alias("is_helped"))

    staff, areas = tables["grid_staff"], tables["area"]
    as_of = staff["as_of"][0]
    rows = []
    for v in areas.filter(pl.col("level") == "village")["code"].to_list():
        for role, missing in sr["village_post_missing"].items():
            present = rng.random() >= missing
            count = int(rng.integers(sr["security_guards"][0], sr["security_guards"][1] + 1)) \
                if role == "security_guard" else 1
            rows.append((v, role, count if present else 0))
    lo, hi = sr["centre_staff"]
    for t in areas.filter(pl.col("level") == "town")["code"].to_list():
        rows.append((t, "centre_staff", int(rng.integers(lo, hi + 1))))
    tables["grid_staff"] = pl.concat([staff, pl.DataFrame(rows, schema=["area_code", "role", "staff_count"],
                                                          orient="row").with_columns(pl.lit(as_of).alias("as_of"))],
                                     how="vertical_relaxed")

    sv = tables["survey_response"]
    k = sv.height
    unsafe = sv["sense_of_security"].is_in(["不安全", "不太安全"]).to_numpy()
    p_bad = np.where(unsafe, 0.5, (1 - sr["security_satisfied"]) * 0.9)
    u = rng.random(k)
    tables["survey_response"] = sv.with_columns(
        pl.Series("security_satisfaction", np.where(u < p_bad, "不满意", np.where(u < 0.35, "基本满意", "满意"))),
        pl.Series("aware", rng.random(k) < sr["aware"]),
        pl.Series("participated", rng.random(k) < sr["participated"]))

    cases = tables["cases"]
    dispute = (cases["category"] == "矛盾纠纷").to_numpy()
    level = cases["resolved_level"].to_numpy()
    m = cases.height
    sweep = _pick(rng, sr["sweep_type"], m)
    sweep[~dispute] = None
    kind = np.full(m, None, dtype=object)
    for lvl, dist in sr["mediation_kind"].items():
        where = dispute & (level == lvl)
        kind[where] = _pick(rng, dist, int(where.sum()))
    tables["cases"] = cases.with_columns(pl.Series("sweep_type", sweep.tolist(), dtype=pl.String),
                                         pl.Series("mediation_kind", kind.tolist(), dtype=pl.String))
