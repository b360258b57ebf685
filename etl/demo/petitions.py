"""The demo's 信访 register: one petition per case that came in by the 信访 channel, with what
the 信访 system adds (form, matter type, level reached, 非正常, petitioner), and the key-petitioner
register derived from it. Rates are in assumptions.yaml (petitions:).

Petitioners are drawn per town from a Zipf-like pool of its residents, so a few people
petition many times (the repeat petitions the 信访 page counts); the outcome and the day it
was settled come from the case (closed_at), so the register and the case log agree.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

SETTLED = ("已化解", "息诉罢访", "三级终结", "引导诉讼", "移交", "无法化解")
OPEN = ("办理中", "正在化解")


def _pick(rng, shares: dict, n: int) -> np.ndarray:
    names = list(shares)
    p = np.array(list(shares.values()), dtype=float)
    return np.array(names, dtype=object)[rng.choice(len(names), n, p=p / p.sum())]


def _petitioners(towns: np.ndarray, persons: pl.DataFrame, cfg: dict, rng) -> np.ndarray:
    """A petitioner key per petition: per town, a pool of residents drawn Zipf-like."""
    out = np.empty(len(towns), dtype=object)
    residents = (persons.select(pl.col("area_code").str.slice(0, 9).alias("town"), "person_key")
                 .group_by("town").agg("person_key"))
    pool_of = {town: keys.to_list() for town, keys in zip(residents["town"], residents["person_key"])}
    for town in np.unique(towns):
        idx = np.nonzero(towns == town)[0]
        people = pool_of.get(town) or []
        size = min(len(people), max(1, round(len(idx) / cfg["petitions_per_petitioner"])))
        if size == 0:
            continue
        pool = np.array(people, dtype=object)[rng.choice(len(people), size, replace=False)]
        w = 1.0 / np.arange(1, size + 1) ** cfg["repeat_zipf"]
        out[idx] = pool[rng.choice(size, len(idx), p=w / w.sum())]
    return out


def build_petitions(cases: pl.DataFrame, persons: pl.DataFrame, cfg: dict, now: datetime,
                    rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (petition, key_petitioner)."""
    pc = cfg["petitions"]
    pet = cases.filter(pl.col("source_channel") == "信访").sort("reported_at")
    n = pet.height
    issue = np.array([pc["issue_of_case_type"].get(t, "其他") for t in pet["case_type"]], dtype=object)
    issue = np.where((issue == "其他") & (rng.random(n) < pc["veteran_share"]), "涉军", issue)
    level = _pick(rng, pc["level"], n)
    above = np.isin(level, ["赴省", "进京"])
    status = np.array([s or "办理中" for s in pet["petition_status"]], dtype=object)
    settled_at = np.where(np.isin(status, SETTLED), pet["closed_at"].to_numpy(), np.datetime64("NaT"))
    towns = np.array([c[:9] for c in pet["area_code"]])
    petition = pl.DataFrame({
        "petition_id": ["XF" + c for c in pet["case_id"]],
        "case_id": pet["case_id"],
        "area_code": pet["area_code"],
        "petitioner_key": pl.Series(_petitioners(towns, persons, pc, rng).tolist(), dtype=pl.Utf8),
        "received_at": pet["reported_at"],
        "form": _pick(rng, pc["form"], n).astype(str),
        "issue_type": issue.astype(str),
        "level_reached": level.astype(str),
        "irregular": above & (rng.random(n) < pc["irregular_share_above_county"]),
        "collective": pet["is_collective"].to_numpy() | (rng.random(n) < pc["collective_share"]),
        "status": status.astype(str),
        "settled_at": settled_at,
    }).with_columns(pl.col("settled_at").cast(pl.Datetime("us")))
    return petition, key_petitioners(petition, pc, now, rng)


def key_petitioners(petition: pl.DataFrame, pc: dict, now: datetime, rng) -> pl.DataFrame:
    """Everyone with key_min_petitions petitions or one that reached the province or Beijing."""
    per = (petition.filter(pl.col("petitioner_key").is_not_null())
           .group_by("petitioner_key")
           .agg(pl.len().alias("n"), pl.col("area_code").last(), pl.col("received_at").min().alias("first"),
                pl.col("issue_type").mode().first().alias("issue_type"),
                pl.col("level_reached").is_in(["赴省", "进京"]).any().alias("went_up"))
           .filter((pl.col("n") >= pc["key_min_petitions"]) | pl.col("went_up"))
           .sort("petitioner_key"))
    return per.select(
        "petitioner_key", "area_code", "issue_type",
        pl.col("first").dt.date().alias("listed_at"),
        pl.Series("control_status", _pick(rng, pc["key_status"], per.height).astype(str)))
