"""Synthetic residents (实有人口) and grid staffing for the demo county, vectorised."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import numpy as np
import polars as pl

from etl.identity import check_digit

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红春梅建文辉宇浩鑫婷晨欣雨佳子涵轩泽睿博")
# Home-province codes of floating residents (Jiangsu neighbours dominate)
FLOAT_ORIGINS = ["320800", "320300", "321300", "341300", "341100", "340300", "370800", "410100", "320100", "321000"]


def households(sizes: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """Household index per resident (residents of one grid, consecutive)."""
    k = np.array(list(sizes.keys()), dtype=int)
    p = np.array(list(sizes.values()), dtype=float)
    draws = rng.choice(k, size=n // 2 + 2, p=p / p.sum())
    ends = np.cumsum(draws)
    last = np.searchsorted(ends, n) + 1
    return np.repeat(np.arange(last), draws[:last])[:n]


def build_persons(areas: pl.DataFrame, planned: dict, cfg: dict, as_of: date,
                  rng: np.random.Generator, key: bytes, seen_ids: set[str] | None = None
                  ) -> tuple[pl.DataFrame, list[str]]:
    """Return the person table and the synthetic ID numbers (same order) for raw export.

    seen_ids carries the IDs of counties built earlier in the same city, so that nobody is
    given an ID number twice."""
    pc = cfg["population"]
    grids = areas.filter(pl.col("level") == "grid").select("code", "parent_code")
    town_of = {c: c[:9] for c in grids["code"]}
    # split each village's planned residents over its grids unevenly
    grid_codes, grid_pop = [], []
    for vcode, sub in grids.group_by("parent_code", maintain_order=True):
        codes = sub["code"].to_list()
        share = rng.dirichlet(np.full(len(codes), 4.0))
        pops = np.maximum(60, np.round(share * planned[vcode[0]])).astype(int)
        grid_codes += codes
        grid_pop += pops.tolist()
    grid_codes = np.array(grid_codes)
    grid_pop = np.array(grid_pop)
    n = int(grid_pop.sum())
    area_code = np.repeat(grid_codes, grid_pop)
    town = np.array([town_of[c] for c in grid_codes])
    town_cfg = cfg["towns"]
    town_key = [t if t in town_cfg else "320813" + t[6:] for t in town]
    urban_g = np.array([town_cfg[t]["urban"] for t in town_key])
    float_g = np.array([town_cfg[t]["floating"] for t in town_key])
    urban = np.repeat(urban_g, grid_pop)

    # household index within grid, made globally unique
    hh_local = np.concatenate([households(pc["household_sizes"], int(k), rng) for k in grid_pop])
    grid_idx = np.repeat(np.arange(len(grid_codes)), grid_pop)
    hh_global = grid_idx.astype(np.int64) * 10_000 + hh_local

    # age from the banded pyramid; a household shares residence type
    bands_u = np.array(pc["age_bands_urban"]) / sum(pc["age_bands_urban"])
    bands_r = np.array(pc["age_bands_rural"]) / sum(pc["age_bands_rural"])
    band = np.where(urban, rng.choice(10, n, p=bands_u), rng.choice(10, n, p=bands_r))
    age_months = (band * 10 + rng.uniform(0, 10, n)) * 12
    birth_month_idx = (as_of.year * 12 + as_of.month - 1) - age_months.astype(int)
    by, bm = birth_month_idx // 12, birth_month_idx % 12 + 1
    age = (as_of.year * 12 + as_of.month - 1 - birth_month_idx) // 12
    sex = np.where(rng.random(n) < pc["male_share"], "M", "F")

    # a household shares its residence type: one floating draw per household
    hh_ids, first, inverse = np.unique(hh_global, return_index=True, return_inverse=True)
    is_float_hh = rng.random(len(hh_ids)) < float_g[grid_idx[first]]
    floating = is_float_hh[inverse]
    abroad = rng.random(n) < pc["abroad_share"]
    residence = np.where(abroad, "境外", np.where(floating, "流动", "户籍"))

    # ID numbers: region + birth date + sequence (odd for men) + check digit
    origin = np.where(floating, rng.choice(FLOAT_ORIGINS, n), grid_codes[0][:6])
    day = rng.integers(1, 29, n)
    seq = rng.integers(0, 500, n) * 2 + np.where(sex == "M", 1, 0)
    first17 = np.char.add(np.char.add(np.char.add(origin.astype(str), by.astype(str)),
                                      np.char.add(np.char.zfill(bm.astype(str), 2),
                                                  np.char.zfill(day.astype(str), 2))),
                          np.char.zfill(seq.astype(str), 3))
    ids = [f + check_digit(f) for f in first17.tolist()]
    ids = _dedupe_ids(ids, set() if seen_ids is None else seen_ids)
    keys = [hmac.new(key, i.encode(), hashlib.sha256).hexdigest() for i in ids]

    names = [SURNAMES[a] + "*" + GIVEN[b] for a, b in zip(rng.integers(0, len(SURNAMES), n),
                                                        rng.integers(0, len(GIVEN), n))]
    phones = [f"1{p:02d}****{q:04d}" for p, q in zip(rng.integers(30, 99, n), rng.integers(0, 10000, n))]

    # grid-level hot spots make special groups cluster, as they do
    hot = np.repeat(rng.gamma(2.0, 0.5, len(grid_codes)), grid_pop)
    u = lambda: rng.random(n)  # noqa: E731
    adult = (age >= 18) & (age < 70)
    male_w = np.where(sex == "M", 1.7, 0.3)
    corrections = adult & (u() < pc["corrections"] * male_w * hot * 1.6)
    released = adult & ~corrections & (u() < pc["released"] * male_w * hot * 1.6)
    mental = (age >= 15) & (u() < pc["mental"] * 1.1)
    drug = adult & (u() < pc["drug"] * male_w * hot * 1.6)
    youth = (age >= 12) & (age <= 25) & (u() < pc["youth"] * hot * 6)
    lives_alone = (age >= 60) & (u() < pc["alone_among_60plus"] * np.where(urban, 0.8, 1.3))
    dibao = u() < np.where(urban, pc["dibao"]["urban"], pc["dibao"]["rural"])
    disabled = u() < pc["disabled"] * np.clip(age / 45, 0.3, 2.5)
    left_behind = ~urban & (age < 16) & (u() < pc["left_behind_among_rural_under16"] * 1.0)
    placed = np.where(released, u() < pc["released_placed"], None)
    reoffended = np.where(released, u() < pc["released_reoffend"],
                          np.where(corrections, u() < pc["corrections_reoffend"], None))
    # arrival month: floating residents came within the last ten years, others any time since
    # birth (registered residents mostly were born here)
    now_idx = as_of.year * 12 + as_of.month - 1
    age_m = now_idx - birth_month_idx
    ago = np.where(floating, rng.integers(0, 121, n), (rng.random(n) * (age_m + 1)).astype(int))
    arrived = now_idx - np.minimum(ago, age_m)
    moved_in = [date(int(a // 12), int(a % 12 + 1), 1) for a in arrived]

    df = pl.DataFrame({
        "person_key": keys,
        "name_masked": names,
        "phone_masked": phones,
        "sex": sex,
        "birth_month": pl.Series([date(int(y), int(m), 1) for y, m in zip(by, bm)]),
        "residence_type": residence,
        "household_key": [f"H{h:012d}" for h in hh_global.tolist()],
        "area_code": area_code,
        "moved_in": moved_in,
        "is_corrections": corrections, "is_released": released, "is_mental": mental,
        "is_drug": drug, "is_youth": youth, "lives_alone": lives_alone, "is_dibao": dibao,
        "is_disabled": disabled, "is_left_behind": left_behind,
        "is_placed": pl.Series(placed.tolist(), dtype=pl.Boolean),
        "reoffended": pl.Series(reoffended.tolist(), dtype=pl.Boolean),
    })
    return df, ids


def _dedupe_ids(ids: list[str], seen: set[str]) -> list[str]:
    """Same birth date and sequence can collide: bump the sequence until unique."""
    out = []
    for i in ids:
        while i in seen:
            s = (int(i[14:17]) + 2) % 1000
            f = i[:14] + f"{s:03d}"
            i = f + check_digit(f)
        seen.add(i)
        out.append(i)
    return out


def build_staff(areas: pl.DataFrame, persons: pl.DataFrame, cfg: dict, as_of: date,
                rng: np.random.Generator) -> pl.DataFrame:
    sc = cfg["staff"]
    rows = []
    grids = areas.filter(pl.col("level") == "grid")["code"].to_list()
    vols = np.array(list(sc["grid_volunteers"].keys()), dtype=int)
    vp = np.array(list(sc["grid_volunteers"].values()))
    for g in grids:
        rows.append((g, "grid_worker", int(rng.random() >= sc["grid_worker_missing"])))
        rows.append((g, "grid_volunteer", int(rng.choice(vols, p=vp / vp.sum()))))
    by_town = (persons.group_by(pl.col("area_code").str.slice(0, 9).alias("town"))
               .agg(pl.len().alias("n"), (pl.col("residence_type") == "流动").sum().alias("f"))
               .sort("town"))
    for town, n, f in by_town.iter_rows():
        rows.append((town, "patrol", int(round(n / 10_000 * rng.uniform(*sc["patrol_per_10k"])))))
        rows.append((town, "patrol_volunteer", int(round(n * rng.uniform(*sc["volunteer_share"])))))
        rows.append((town, "floating_warden", int(round(f / rng.uniform(*sc["residents_per_warden"])))))
    for v in areas.filter(pl.col("level") == "village")["code"].to_list():
        rows.append((v, "mediator", int(rng.integers(sc["mediators_per_village"][0],
                                                     sc["mediators_per_village"][1] + 1))))
    return pl.DataFrame(rows, schema=["area_code", "role", "staff_count"], orient="row").with_columns(
        pl.lit(as_of).alias("as_of"))
