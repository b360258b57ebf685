"""Synthetic cases (事件) and their closed-loop event log, vectorised.

Each case gets a full timeline (report → accept → dispatch → [escalate → dispatch] → handle →
[return → handle]* → verify → close); everything after the demo's "now" is cut off, which
leaves realistic open cases. The `cases` row is then derived from its events, so the two
agree by construction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from warehouse import process

STEP_ORDER = ["report", "accept", "dispatch", "escalate", "dispatch", "handle", "return",
              "handle", "return", "handle", "verify", "close"]
STATUS_OF_STEP = {"report": "reported", "accept": "accepted", "dispatch": "dispatched",
                  "handle": "handled", "verify": "verified", "close": "closed"}
COUNTY_UNIT = {"矛盾纠纷": "区司法局", "治安隐患": "区公安分局", "安全生产": "区应急管理局",
               "公共服务": "区民政局", "城市管理": "区城管局", "环境保护": "区生态环境局"}
COUNTY_UNIT_BY_TYPE = {"劳动争议欠薪": "区人社局", "征地拆迁": "区自然资源局", "安置补偿": "区住建局",
                       "企业改制": "区国资办", "医疗纠纷": "区卫健委", "物业纠纷": "区住建局"}
PHRASES = {
    "邻里纠纷": "两户村民因宅基地边界发生口角，情绪激动", "婚姻家庭": "夫妻因家庭琐事争吵，一方要求调解",
    "劳动争议欠薪": "务工人员反映工程款及工资被拖欠", "征地拆迁": "村民对征地补偿标准有异议，要求重新核算",
    "物业纠纷": "业主反映物业公司服务不到位、收费不透明", "医疗纠纷": "患者家属对诊疗结果有异议",
    "安置补偿": "拆迁户反映安置房交付延期", "企业改制": "原企业职工反映改制后社保接续问题",
    "土地承包": "村民因土地承包经营权流转发生纠纷", "治安隐患": "夜间有可疑人员在仓库附近徘徊",
    "刑事治安案件": "群众报称电动车被盗", "电信诈骗线索": "群众接到冒充客服的可疑电话",
    "消防隐患": "楼道内堆放杂物并有电动车充电", "安全生产隐患": "小作坊存在违规用电现象",
    "安全生产事故": "厂区发生一起机械伤害事故", "道路交通安全": "路口信号灯故障，存在安全隐患",
    "民生求助": "独居老人家中断水，请求帮助", "社会保障": "居民咨询城乡居民养老保险缴费事宜",
    "公共设施损坏": "道路井盖破损，存在安全隐患", "占道经营": "流动摊贩占道经营影响通行",
    "违章搭建": "有住户在楼顶违章搭建彩钢棚", "噪声扰民": "夜间施工噪声扰民",
    "环境污染": "河道出现不明排污，水体发黑发臭",
}
PETITION_TYPES = {"征地拆迁", "安置补偿", "企业改制", "劳动争议欠薪", "土地承包"}


def _lognormal(rng, median, sigma, n):
    return median * np.exp(rng.normal(0.0, sigma, n))


def _hours(h: np.ndarray) -> np.ndarray:
    return (h * 3_600_000_000).astype("timedelta64[us]")


def build_cases(areas: pl.DataFrame, persons: pl.DataFrame, cfg: dict, now: datetime,
                rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Return (case_type, cases, case_event)."""
    cc = cfg["cases"]
    types = list(cc["types"].keys())
    tinfo = {t: dict(zip(["category", "deadline", "weight", "ret", "esc", "coll"], v))
             for t, v in cc["types"].items()}
    case_type = pl.DataFrame({"case_type": types, "category": [tinfo[t]["category"] for t in types],
                              "deadline_hours": [tinfo[t]["deadline"] for t in types]})

    grids = (areas.filter(pl.col("level") == "grid").select("code", "parent_code", "lon", "lat", "area_km2")
             .join(persons.group_by("area_code").len("pop"), left_on="code", right_on="area_code", how="left")
             .with_columns(pl.col("pop").fill_null(0)).sort("code"))
    names = dict(zip(areas["code"], areas["name"]))
    g_code = grids["code"].to_numpy()
    g_town = np.array([c[:9] for c in g_code])
    quality_town = {t: v["quality"] for t, v in cfg["towns"].items()}
    g_quality = np.array([quality_town.get(t, quality_town.get("320813" + t[6:], 1.0)) for t in g_town])
    hot = rng.gamma(cc["hotspot_gamma_shape"], 1 / cc["hotspot_gamma_shape"], len(g_code))
    g_weight = grids["pop"].to_numpy() * hot / np.sqrt(g_quality)

    # --- when: days × weekday × slight growth, hours by profile
    start = (now - timedelta(days=365 * cc.get("years", cfg["county"]["years_of_history"]))).date()
    n_days = (now.date() - start).days + 1
    days = np.array([start + timedelta(days=i) for i in range(n_days)])
    wd = np.array([d.weekday() for d in days])
    months = np.array([d.month for d in days])
    scale = cfg["county"]["residents"] and grids["pop"].sum() / cfg["county"]["residents"]
    lam = cc["per_year"] / 365 * scale * np.array(cc["weekday"])[wd] / np.mean(cc["weekday"])
    lam *= np.linspace(0.92, 1.08, n_days)
    per_day = rng.poisson(lam)
    day_idx = np.repeat(np.arange(n_days), per_day)
    hours_p = np.array(cc["hours"]) / sum(cc["hours"])
    hour = rng.choice(24, len(day_idx), p=hours_p)
    minute = rng.integers(0, 60, len(day_idx))
    base = np.array([np.datetime64(d, "us") for d in days])
    reported = base[day_idx] + _hours(hour + minute / 60.0)
    month = months[day_idx]

    # --- what: type by seasonal weight
    case_t = np.empty(len(day_idx), dtype=object)
    for m in range(1, 13):
        idx = np.nonzero(month == m)[0]
        w = np.array([tinfo[t]["weight"] * cc["seasonal"].get(t, [1] * 12)[m - 1] for t in types])
        case_t[idx] = np.array(types, dtype=object)[rng.choice(len(types), len(idx), p=w / w.sum())]

    # --- where: grid by population × hot spot, slightly more in weaker towns
    g_idx = rng.choice(len(g_code), len(day_idx), p=g_weight / g_weight.sum())

    # --- injected dispute cluster in one grid
    cl = cc["cluster"]
    town_grids = np.nonzero(np.char.startswith(g_code.astype(str), _recode(cl["town"], g_code[0])))[0]
    cl_grid = town_grids[np.argmax(grids["pop"].to_numpy()[town_grids])]  # a busy grid
    cl_n = int(cl["cases"] * scale) if scale < 0.5 else cl["cases"]
    cl_day = n_days - 1 - rng.integers(0, cl["days"], cl_n)
    cl_rep = base[cl_day] + _hours(rng.choice(24, cl_n, p=hours_p) + rng.random(cl_n))
    reported = np.concatenate([reported, cl_rep])
    case_t = np.concatenate([case_t, rng.choice(cl["types"], cl_n)])
    g_idx = np.concatenate([g_idx, np.full(cl_n, cl_grid)])
    in_cluster = np.concatenate([np.zeros(len(day_idx), bool), np.ones(cl_n, bool)])
    keep = reported <= np.datetime64(now, "us")
    reported, case_t, g_idx, in_cluster = reported[keep], case_t[keep], g_idx[keep], in_cluster[keep]
    order = np.argsort(reported, kind="stable")
    reported, case_t, g_idx, in_cluster = reported[order], case_t[order], g_idx[order], in_cluster[order]
    n = len(reported)

    category = np.array([tinfo[t]["category"] for t in case_t], dtype=object)
    deadline_h = np.array([tinfo[t]["deadline"] for t in case_t], dtype=float)
    ret_rate = np.array([tinfo[t]["ret"] for t in case_t])
    esc_rate = np.array([tinfo[t]["esc"] for t in case_t])
    coll_rate = np.array([tinfo[t]["coll"] for t in case_t])
    q = g_quality[g_idx]

    # --- channel: base mix, with petitions, 110 and video where they belong
    ch_names = list(cc["channels"].keys())
    ch_p = np.array(list(cc["channels"].values()))
    channel = np.array(ch_names, dtype=object)[rng.choice(len(ch_names), n, p=ch_p / ch_p.sum())]
    u = rng.random(n)
    channel = np.where(np.isin(case_t, list(PETITION_TYPES)) & (u < 0.25), "信访", channel)
    channel = np.where((category == "治安隐患") & (u > 0.65), "110联动", channel)
    channel = np.where(np.isin(category, ["城市管理", "环境保护"]) & (u > 0.88), "视频巡查", channel)
    channel = np.where(in_cluster, np.where(u < 0.6, "网格员巡查", "来访"), channel)

    # --- timeline
    fast = np.where(channel == "12345", 0.6, 1.0)
    t_accept = reported + _hours(_lognormal(rng, cc["accept"][0], cc["accept"][1], n) * fast)
    t_dispatch = t_accept + _hours(_lognormal(rng, cc["dispatch"][0], cc["dispatch"][1], n))
    escalated = rng.random(n) < esc_rate / q
    t_escalate = t_dispatch + _hours(_lognormal(rng, 20, 0.8, n))
    t_dispatch2 = t_escalate + _hours(_lognormal(rng, 2, 0.7, n))
    handle_start = np.where(escalated, t_dispatch2, t_dispatch)
    h_med = deadline_h * cc["handle_share_of_deadline"] / q
    h1 = _lognormal(rng, 1.0, cc["handle_sigma"], n) * h_med
    stuck = rng.random(n) < cc["stuck_share"] / q
    h1 = np.where(stuck, deadline_h * rng.uniform(3, 12, n), h1)
    t_handle1 = handle_start + _hours(h1)
    n_ret = np.where(rng.random(n) < np.clip(ret_rate / q ** 1.5, 0, 0.5),
                     np.where(rng.random(n) < 0.2, 2, 1), 0)
    v = lambda: _hours(_lognormal(rng, cc["verify"][0], cc["verify"][1], n))  # noqa: E731
    t_return1 = t_handle1 + v()
    t_handle2 = t_return1 + _hours(h1 * 0.35)
    t_return2 = t_handle2 + v()
    t_handle3 = t_return2 + _hours(h1 * 0.25)
    last_handle = np.where(n_ret == 0, t_handle1, np.where(n_ret == 1, t_handle2, t_handle3))
    t_verify = last_handle + v()
    t_close = t_verify + _hours(_lognormal(rng, cc["close"][0], cc["close"][1], n))

    # --- levels and units
    town_code = np.array([c[:9] for c in g_code])[g_idx]
    village_code = np.array([c[:12] for c in g_code])[g_idx]
    ul = rng.random(n)
    is_dispute = category == "矛盾纠纷"
    county_direct = np.where(is_dispute, 0.022, 0.035) / q ** 2
    level0 = np.where(ul < county_direct, 2, np.where(ul < county_direct + (1 - county_direct) *
                                                      (1 - cc["resolved_at_village"]), 1, 0))
    level = np.minimum(level0 + escalated.astype(int), 2)
    level_name = np.array(["village", "town", "county"], dtype=object)
    from etl.demo.geography import short_name
    vname = np.array([short_name(names[c]) for c in village_code], dtype=object)
    tname = np.array([names[c] for c in town_code], dtype=object)
    cunit = np.array([COUNTY_UNIT_BY_TYPE.get(t, COUNTY_UNIT[c]) for t, c in zip(case_t, category)],
                     dtype=object)

    def unit_at(lv):
        return np.where(lv == 0, vname + "委会", np.where(lv == 1, tname + "综治中心", cunit))

    unit0, unit_final = unit_at(level0), unit_at(level)

    # --- outcomes
    deadline_at = reported + _hours(deadline_h)
    overdue = last_handle > deadline_at
    sc = cc["satisfaction"]
    p_unsat = sc["不满意"] / q ** 2 * np.where(overdue | (n_ret > 0), 3.0, 1.0)
    p_basic = np.full(n, sc["基本满意"])
    us = rng.random(n)
    satisfaction = np.where(us < p_unsat, "不满意", np.where(us < p_unsat + p_basic, "基本满意", "满意"))
    citizen_resolved = rng.random(n) < np.where(satisfaction == "不满意", 0.45, cc["citizen_resolved"] + 0.06)
    collective = is_dispute & (rng.random(n) < coll_rate * hot[g_idx] * (1 + 6 * in_cluster))

    county = g_code[0][:6]
    ymd = reported.astype("datetime64[D]").astype(str)
    df_ids = pl.DataFrame({"d": ymd}).with_columns(pl.int_range(pl.len()).over("d").alias("s"))
    case_id = (pl.lit("E" + county) + df_ids["d"].str.replace_all("-", "") +
               df_ids["s"].cast(pl.Utf8).str.zfill(5))
    case_id = df_ids.select(case_id.alias("id"))["id"].to_numpy()

    # --- events: all candidate steps, then cut at now
    nowu = np.datetime64(now, "us")
    cand = [
        ("report", reported, np.full(n, True), channel, None),
        ("accept", t_accept, np.full(n, True), np.full(n, "区社会治理联动指挥中心"), "已受理"),
        ("dispatch", t_dispatch, np.full(n, True), unit0, "已派遣"),
        ("escalate", t_escalate, escalated, unit0, "超出本级处置能力，提请上级"),
        ("dispatch", t_dispatch2, escalated, unit_final, "上级派遣"),
        ("handle", t_handle1, np.full(n, True), unit_final, "已处置"),
        ("return", t_return1, n_ret >= 1, np.full(n, "区社会治理联动指挥中心"), "核查未通过，退回重办"),
        ("handle", t_handle2, n_ret >= 1, unit_final, "重办完成"),
        ("return", t_return2, n_ret >= 2, np.full(n, "区社会治理联动指挥中心"), "核查未通过，退回重办"),
        ("handle", t_handle3, n_ret >= 2, unit_final, "重办完成"),
        ("verify", t_verify, np.full(n, True), np.full(n, "区社会治理联动指挥中心"), "核查通过"),
        ("close", t_close, np.full(n, True), np.full(n, "区社会治理联动指挥中心"), None),
    ]
    parts = []
    for k, (step, t, present, unit, outcome) in enumerate(cand):
        m = present & (t <= nowu)
        if not m.any():
            continue
        oc = satisfaction[m] if step == "close" else (np.full(m.sum(), outcome, dtype=object)
                                                       if outcome else np.full(m.sum(), "上报", dtype=object))
        parts.append(pl.DataFrame({
            "case_id": case_id[m], "k": np.full(m.sum(), k, np.int16), "step": np.full(m.sum(), step),
            "occurred_at": t[m], "unit": unit[m].astype(str), "outcome": oc.astype(str)}))
    events = (pl.concat(parts).sort("case_id", "k")
              .with_columns((pl.int_range(pl.len()).over("case_id") + 1).cast(pl.Int32).alias("seq"))
              .select("case_id", "seq", "step", "occurred_at", "unit", "outcome")
              .pipe(process.with_default_activity))
    # times increase along a case, so cutting at `now` never leaves a gap in a case's steps

    derived = events.group_by("case_id").agg(
        pl.col("occurred_at").filter(pl.col("step") == "accept").first().alias("accepted_at"),
        pl.col("occurred_at").filter(pl.col("step") == "dispatch").first().alias("dispatched_at"),
        pl.col("occurred_at").filter(pl.col("step") == "handle").last().alias("handled_at"),
        pl.col("occurred_at").filter(pl.col("step") == "verify").first().alias("verified_at"),
        pl.col("occurred_at").filter(pl.col("step") == "close").first().alias("closed_at"),
        (pl.col("step") == "return").sum().cast(pl.Int32).alias("returned_count"),
        (pl.col("step") == "escalate").any().alias("escalated"),
        pl.col("step").filter(~pl.col("step").is_in(["return", "escalate"])).last().alias("last_step"),
    )
    jitter = np.sqrt(grids["area_km2"].to_numpy()[g_idx]) / 111.0 / 4
    rep_names = [a + "*" + b for a, b in zip(rng.choice(list("王李张刘陈杨黄赵吴周徐孙朱胡"), n),
                                           rng.choice(list("华明军芳敏强丽静伟洋"), n))]
    is_pet = channel == "信访"
    pet_names = list(cc["petition_status"].keys())
    pet_p = np.array(list(cc["petition_status"].values()))
    pet = np.array(pet_names, dtype=object)[rng.choice(len(pet_names), n, p=pet_p / pet_p.sum())]

    cases = pl.DataFrame({
        "case_id": case_id, "case_type": case_t.astype(str), "category": category.astype(str),
        "source_channel": channel.astype(str), "area_code": g_code[g_idx],
        "lon": np.round(grids["lon"].to_numpy()[g_idx] + rng.normal(0, 1, n) * jitter, 6),
        "lat": np.round(grids["lat"].to_numpy()[g_idx] + rng.normal(0, 1, n) * jitter * 0.85, 6),
        "description": (vname + np.array(PHRASES_ARR(case_t), dtype=object)).astype(str),
        "reporter_masked": rep_names,
        "phone_masked": [f"1{a:02d}****{b:04d}" for a, b in zip(rng.integers(30, 99, n), rng.integers(0, 10000, n))],
        "reported_at": reported, "deadline_at": deadline_at,
        "plan_unit": unit_final.astype(str), "plan_level": level_name[level].astype(str),
        "plan_satisfaction": satisfaction.astype(str), "plan_resolved": citizen_resolved,
        "is_collective": collective,
        "plan_petition": pl.Series(np.where(is_pet, pet, None).tolist(), dtype=pl.Utf8),
    }).join(derived, on="case_id", how="left")
    handled = pl.col("handled_at").is_not_null()
    closed = pl.col("closed_at").is_not_null()
    cases = cases.with_columns(
        pl.col("last_step").replace_strict(STATUS_OF_STEP).alias("status"),
        pl.when(pl.col("dispatched_at").is_not_null()).then(pl.col("plan_unit")).alias("responsible_unit"),
        pl.when(handled).then(pl.col("plan_level")).alias("resolved_level"),
        pl.when(closed).then(pl.col("plan_satisfaction")).alias("satisfaction"),
        pl.when(closed).then(pl.col("plan_resolved")).alias("citizen_resolved"),
        pl.when(pl.col("plan_petition").is_null()).then(None)
        .when(closed).then(pl.col("plan_petition").replace("正在化解", "已化解"))
        .otherwise(pl.lit("正在化解")).alias("petition_status"),
    ).select("case_id", "case_type", "category", "source_channel", "area_code", "lon", "lat",
             "description", "reporter_masked", "phone_masked", "reported_at", "accepted_at",
             "dispatched_at", "handled_at", "verified_at", "closed_at", "deadline_at", "status",
             "responsible_unit", "resolved_level", "returned_count", "escalated", "satisfaction",
             "citizen_resolved", "is_collective", "petition_status")
    return case_type, cases, events


def PHRASES_ARR(case_t):  # noqa: N802 - reads like the constant it wraps
    return ["：" + PHRASES[t] + "。" for t in case_t]


def _recode(town_code: str, sample_grid: str) -> str:
    """The configured town code in the county being generated (city scale clones codes)."""
    return sample_grid[:6] + town_code[6:]


def as_of_now(as_of: date | datetime | None) -> datetime:
    if as_of is None:
        return datetime.now().replace(minute=0, second=0, microsecond=0)
    if isinstance(as_of, datetime):
        return as_of
    return datetime(as_of.year, as_of.month, as_of.day, 18, 0)
