"""Synthetic 社会稳定风险评估 register and quarterly 安全感/satisfaction surveys."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from etl.demo.geography import short_name

PROJECTS = [
    ("重大项目", "{v}土地征收项目"), ("重大项目", "{t}老旧小区改造工程"), ("重大项目", "{t}工业园扩建项目"),
    ("重大项目", "{v}农房改善项目"), ("重大决策", "{t}农贸市场搬迁决策"), ("重大决策", "{t}学校布局调整"),
    ("重大改革", "{t}国有企业改制方案"), ("重大活动", "{t}洪泽湖螃蟹节"), ("重大项目", "{v}垃圾中转站建设"),
    ("重大决策", "{t}公交线路调整"), ("重大项目", "{v}河道清淤整治工程"), ("重大决策", "{t}殡葬改革实施方案"),
]


def build_ssra(areas: pl.DataFrame, cfg: dict, now: datetime, rng: np.random.Generator) -> pl.DataFrame:
    sc = cfg["ssra"]
    scale = (areas["level"] == "village").sum() / 126
    n = int(round(sc["count"] * scale))
    villages = areas.filter(pl.col("level") == "village")
    names = dict(zip(areas["code"], areas["name"]))
    start = now.date() - timedelta(days=365 * cfg["county"]["years_of_history"])
    rows = []
    for i in range(n):
        vcode = villages["code"][int(rng.integers(0, len(villages)))]
        ptype, tmpl = PROJECTS[int(rng.integers(0, len(PROJECTS)))]
        submitted = start + timedelta(days=int(rng.integers(0, (now.date() - start).days)))
        assessed = bool(rng.random() < sc["assessed_share"])
        scores = np.clip(rng.normal([88, 84, 82, 80], 8), 40, 100).round(1) if assessed else [None] * 4
        low = min(scores) if assessed else None
        level = None if not assessed else ("高" if low < 65 else "中" if low < 78 else "低")
        decided = submitted + timedelta(days=int(rng.integers(7, 60)))
        pending = decided > now.date()
        decision = None
        if assessed and not pending:
            decision = {"高": rng.choice(["暂缓", "不实施"], p=[0.6, 0.4]),
                        "中": rng.choice(["实施", "暂缓"], p=[0.8, 0.2]), "低": "实施"}[level]
        status = "评估中" if pending else ("跟踪落实" if decided > now.date() - timedelta(days=180) else "已完成")
        rows.append({
            "ssra_id": f"WP{vcode[:6]}{submitted:%Y}{i:04d}", "project_type": ptype,
            "project_name": tmpl.format(t=names[vcode[:9]], v=short_name(names[vcode])),
            "area_code": vcode if "{v}" in tmpl else vcode[:9], "submitted_at": submitted,
            "decided_at": None if pending else decided, "assessed": assessed,
            "legality": scores[0], "rationality": scores[1], "feasibility": scores[2],
            "controllability": scores[3], "risk_level": level, "decision": decision,
            "status": status if assessed else "应评未评",
        })
    return pl.DataFrame(rows, schema_overrides={
        "legality": pl.Float64, "rationality": pl.Float64, "feasibility": pl.Float64,
        "controllability": pl.Float64, "risk_level": pl.Utf8, "decision": pl.Utf8,
        "decided_at": pl.Date})


def quarter_start(d: date) -> date:
    return date(d.year, (d.month - 1) // 3 * 3 + 1, 1)


def build_surveys(areas: pl.DataFrame, persons: pl.DataFrame, cfg: dict, now: datetime,
                  rng: np.random.Generator) -> pl.DataFrame:
    sv = cfg["surveys"]
    grid_pop = persons.group_by("area_code").len().sort("area_code")
    codes = grid_pop["area_code"].to_numpy()
    w = grid_pop["len"].to_numpy() / grid_pop["len"].sum()
    quality = {t: v["quality"] for t, v in cfg["towns"].items()}
    q = np.array([quality.get("320813" + c[6:9], 1.0) for c in codes])
    periods = []
    qd = quarter_start(now.date() - timedelta(days=365 * cfg["county"]["years_of_history"]))
    last = quarter_start(now.date())
    while qd < last:  # surveys of finished quarters only
        periods.append(qd)
        qd = quarter_start(qd + timedelta(days=95))
    scale = len(codes) / 800
    frames = []
    for p in periods:
        k = int(sv["respondents_per_quarter"] * scale)
        gi = rng.choice(len(codes), k, p=w)
        p_bad = (1 - sv["security_positive"]) / q[gi] ** 3
        u = rng.random(k)
        sec = np.where(u < p_bad * 0.3, "不安全", np.where(u < p_bad, "不太安全",
                       np.where(u < 0.45, "基本安全", "安全")))
        p_uns = (1 - sv["grid_satisfied"]) / q[gi] ** 2
        u2 = rng.random(k)
        sat = np.where(u2 < p_uns, "不满意", np.where(u2 < 0.3, "基本满意", "满意"))
        frames.append(pl.DataFrame({"survey_period": [p] * k, "area_code": codes[gi],
                                    "sense_of_security": sec, "grid_satisfaction": sat}))
    df = pl.concat(frames)
    return df.with_columns(
        (pl.lit("S" + codes[0][:6]) + pl.col("survey_period").dt.strftime("%Y%m") +
         pl.int_range(pl.len()).over("survey_period").cast(pl.Utf8).str.zfill(6)).alias("response_id")
    ).select("response_id", "survey_period", "area_code", "sense_of_security", "grid_satisfaction")
