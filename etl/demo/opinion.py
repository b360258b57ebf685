"""Synthetic public-opinion posts (网络舆情) with an injected 征地拆迁 spike in one town."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from etl.demo.geography import short_name

# Landmarks people name in posts, per town (real places of the county; used by the gazetteer).
LANDMARKS = {
    "320813001": ["洪泽湖大堤", "洪泽湖古堰景区", "东风路步行街"],
    "320813002": ["朱坝老街"],
    "320813003": ["黄集农贸市场"],
    "320813101": ["三河闸", "蒋坝河工街"],
    "320813103": ["岔河古镇"],
    "320813104": ["西顺河渔港"],
    "320813105": ["老子山温泉", "洪泽湖湿地公园"],
    "320813106": ["三河农场"],
    "320813110": ["东双沟菜场"],
    "320813400": ["经济开发区工业园"],
}



def demo_landmarks(county_code: str) -> list[tuple[str, str]]:
    """The landmarks above for a (possibly cloned) demo county: (town_code, name)."""
    return [(county_code + t[6:], lm) for t, lms in LANDMARKS.items() for lm in lms]


TEMPLATES = {
    "征地拆迁": {"negative": ["{p}征地补偿标准太低，村民意见很大，希望有关部门给个说法",
                         "{p}拆迁一直拖着不给安置，老百姓住哪里？", "{p}强拆问题没人管吗，要求公开补偿方案"],
             "neutral": ["{p}征地公告已经贴出来了，大家去看看"],
             "positive": ["{p}拆迁安置房交付了，政府说到做到"]},
    "欠薪讨薪": {"negative": ["{p}工地老板拖欠工资半年了，年底回家的路费都没有", "{p}讨薪无门，农民工太难了"],
             "neutral": ["{p}有人知道劳动监察电话吗"], "positive": ["感谢{p}劳动监察帮我们要回了工资"]},
    "环境污染": {"negative": ["{p}河里又发黑发臭了，谁在偷排", "{p}晚上化工厂味道太呛人，孩子咳嗽"],
             "neutral": ["{p}今天有环保检查车过来"], "positive": ["{p}河道治理后水清了不少"]},
    "交通出行": {"negative": ["{p}路口堵成这样也没人疏导", "{p}公交车半小时一班太少了"],
             "neutral": ["{p}这条路什么时候修好"], "positive": ["{p}新修的路很平整，出行方便多了"]},
    "物业管理": {"negative": ["{p}物业只收钱不干活，电梯坏了一个月", "{p}小区垃圾没人清理"],
             "neutral": ["{p}物业费明年要调整吗"], "positive": ["{p}物业换了之后小区干净多了"]},
    "教育医疗": {"negative": ["{p}卫生院看病排队太久", "{p}孩子上学太远，校车不够"],
             "neutral": ["{p}今年入学报名什么时候开始"], "positive": ["{p}家庭医生上门服务真贴心"]},
    "政务服务": {"negative": ["{p}办个证跑了三趟还没办好"],
             "neutral": ["{p}便民服务中心周末上班吗"], "positive": ["{p}一窗通办真方便，十分钟就办好了",
                                                        "点赞{p}网格员，有事一个电话就到"]},
    "社会治安": {"negative": ["{p}最近电动车老是被偷", "{p}晚上有人喝酒闹事，太吓人了"],
             "neutral": ["{p}今晚有巡逻吗"], "positive": ["{p}晚上巡逻的多了，走夜路也安心"]},
    "文旅宣传": {"negative": ["{p}景区停车太难"],
             "neutral": ["{p}周末有什么活动"], "positive": ["{p}风景太美了，推荐大家来玩", "{p}螃蟹节很热闹"]},
    "民生好评": {"negative": ["{p}路灯坏了好久没人修"],
             "neutral": ["{p}今天开了居民议事会"], "positive": ["{p}志愿者帮独居老人打扫卫生，暖心",
                                                      "{p}网格员帮忙解决了邻居纠纷，谢谢"]},
}
STATUS_FLOW = ["研判", "预警", "处置", "引导", "办结"]


def build_posts(areas: pl.DataFrame, cfg: dict, now: datetime, rng: np.random.Generator
                ) -> pl.DataFrame:
    oc = cfg["opinion"]
    county = areas.filter(pl.col("level") == "county")["code"][0]
    towns = areas.filter(pl.col("level") == "town")
    villages = areas.filter(pl.col("level") == "village")
    # places a post can name: town names, village short names, landmarks (each with its area)
    places = ([(n, c) for n, c in zip(towns["name"], towns["code"])] +
              [(short_name(n), c) for n, c in zip(villages["name"], villages["code"])] +
              [(lm, county + t[6:]) for t, lms in LANDMARKS.items() for lm in lms])
    coords = dict(zip(areas["code"], zip(areas["lon"], areas["lat"])))
    topics = list(oc["topics"].keys())
    tw = np.array([v[0] for v in oc["topics"].values()])

    days = 365 * cfg["county"]["years_of_history"]
    scale = len(villages) / 126
    n = rng.poisson(oc["per_year"] * scale * days / 365)
    t = np.datetime64(now, "us") - (rng.random(n) ** 0.8 * days * 86_400e6).astype("timedelta64[us]")
    topic = np.array(topics, dtype=object)[rng.choice(len(topics), n, p=tw / tw.sum())]
    place_i = rng.integers(0, len(places), n)
    located = rng.random(n) < oc["located_share"]

    sp = oc["spike"]
    spike_town = county + sp["town"][6:]
    spike_places = [i for i, (_, c) in enumerate(places) if c.startswith(spike_town)]
    k = int(sp["posts"] * scale)
    t = np.concatenate([t, np.datetime64(now, "us") -
                        (rng.random(k) ** 1.5 * sp["days"] * 86_400e6).astype("timedelta64[us]")])
    topic = np.concatenate([topic, np.full(k, sp["topic"], dtype=object)])
    place_i = np.concatenate([place_i, rng.choice(spike_places, k)])
    located = np.concatenate([located, np.ones(k, bool)])
    in_spike = np.concatenate([np.zeros(n, bool), np.ones(k, bool)])
    n += k

    u = rng.random(n)
    neg = np.array([oc["topics"][x][1] for x in topic])
    pos = np.array([oc["topics"][x][2] for x in topic])
    neg = np.where(in_spike, 0.9, neg)
    sentiment = np.where(u < neg, "negative", np.where(u < neg + pos, "positive", "neutral"))
    content, place_text, area_code, lon, lat = [], [], [], [], []
    pick = rng.random(n)
    for i in range(n):
        name, code = places[place_i[i]]
        opts = TEMPLATES[topic[i]][sentiment[i]]
        text = opts[int(pick[i] * len(opts))]
        if located[i]:
            content.append(text.format(p=name))
            place_text.append(name)
            area_code.append(code)
            lon.append(coords[code][0])
            lat.append(coords[code][1])
        else:
            content.append(text.format(p="我们这边"))
            place_text.append(None)
            area_code.append(None)
            lon.append(None)
            lat.append(None)
    plat = list(oc["platforms"].keys())
    pw = np.array(list(oc["platforms"].values()))
    engagement = np.round(rng.lognormal(2.5, 1.3, n) * np.where(sentiment == "negative", 2.0, 1.0)
                          * np.where(in_spike, 4, 1)).astype(int)
    age_days = (np.datetime64(now, "us") - t).astype("timedelta64[D]").astype(int)
    status = np.where(sentiment != "negative", "未研判",
                      np.array(STATUS_FLOW, dtype=object)[np.minimum(age_days // 3, 4)])
    df = pl.DataFrame({
        "platform": np.array(plat, dtype=object)[rng.choice(len(plat), n, p=pw / pw.sum())].astype(str),
        "published_at": t, "author_hash": [f"{x:016x}" for x in rng.integers(0, 2**62, n)],
        "content": content, "place_text": place_text, "area_code": area_code,
        "lon": pl.Series(lon, dtype=pl.Float64), "lat": pl.Series(lat, dtype=pl.Float64),
        "sentiment": sentiment.astype(str),
        "sentiment_score": np.round(np.where(sentiment == "negative", rng.uniform(0.02, 0.35, n),
                                             np.where(sentiment == "positive", rng.uniform(0.65, 0.98, n),
                                                      rng.uniform(0.4, 0.6, n))), 3),
        "topic": topic.astype(str), "keywords": topic.astype(str), "engagement": engagement,
        "handling_status": status.astype(str),
    }).sort("published_at")
    return df.with_columns(
        (pl.lit("P" + county) + pl.col("published_at").dt.strftime("%Y%m%d") +
         pl.int_range(pl.len()).over(pl.col("published_at").dt.date()).cast(pl.Utf8).str.zfill(5))
        .alias("post_id")).select("post_id", *[c for c in df.columns])



HANDLING_STAGES = ["研判", "预警", "处置", "引导", "办结"]
STAGE_COLUMNS = ["assessed_at", "warned_at", "handled_at", "guided_at", "closed_at"]


def build_opinion_cases(areas: pl.DataFrame, cfg: dict, now: datetime, rng: np.random.Generator
                        ) -> pl.DataFrame:
    """舆情处置台账: one row per warned topic with the time each handling stage was reached.

    About `per_year` historic warnings over the past year (most closed, recent ones still in
    progress because their next stage lies after `now`) plus the record of the injected spike,
    opened a few days after it began and handled but not yet guided."""
    oc, hc = cfg["opinion"], cfg["opinion"]["handling"]
    county = areas.filter(pl.col("level") == "county")["code"][0]
    towns = areas.filter(pl.col("level") == "town")["code"].to_list()
    topics = list(oc["topics"])
    # warned topics are the contentious ones: weight by volume × negative share
    tw = np.array([w * neg for w, neg, _ in oc["topics"].values()])
    levels = list(hc["levels"])
    lw = np.array(list(hc["levels"].values()))
    medians = np.array([hc["median_hours"][s] for s in HANDLING_STAGES], dtype=float)
    now64 = np.datetime64(now, "m")

    n_year = int(rng.poisson(hc["per_year"]))
    n = n_year + hc["recent"]
    rows = []
    for i in range(n):
        level = levels[rng.choice(len(levels), p=lw / lw.sum())]
        days_ago = rng.uniform(0.5, 365) if i < n_year else rng.uniform(0.3, 8)
        opened = now64 - np.timedelta64(int(days_ago * 1440), "m")
        hours = rng.lognormal(np.log(medians * hc["speed"][level]), hc["sigma"])
        lo, hi = hc["posts"][level]
        topic = topics[rng.choice(len(topics), p=tw / tw.sum())]
        rows.append(_case_row(f"{county}-{i:03d}", str(rng.choice(towns)), topic, level, int(rng.integers(lo, hi + 1)), opened, hours, now64))

    sp = oc["spike"]
    scale = len(areas.filter(pl.col("level") == "village")) / 126
    opened = now64 - np.timedelta64(int((sp["days"] - 3) * 1440 + rng.integers(0, 600)), "m")
    hours = rng.lognormal(np.log(medians * hc["speed"]["红"]), 0.3)
    reached = HANDLING_STAGES.index(hc["spike_reached"]) + 1
    hours[reached:] = 1e6  # later stages lie in the future
    rows.append(_case_row(f"{county}-{n:03d}", county + sp["town"][6:], sp["topic"], "红",
                          int(sp["posts"] * scale), opened, hours, now64))
    df = pl.DataFrame(rows, schema={"opinion_case_id": pl.Utf8, "area_code": pl.Utf8, "topic": pl.Utf8,
                                    "level": pl.Utf8, "posts": pl.Int32, "opened_at": pl.Datetime("us"),
                                    **dict.fromkeys(STAGE_COLUMNS, pl.Datetime("us")), "stage": pl.Utf8})
    return df.sort("opened_at").with_columns(
        ("YQ" + pl.col("opinion_case_id").str.slice(0, 6) + "-" + pl.col("opened_at").dt.strftime("%Y%m%d") +
         pl.col("opinion_case_id").str.slice(6)).alias("opinion_case_id"))


def _case_row(key: str, area_code: str, topic: str, level: str, posts: int, opened, hours, now64) -> dict:
    row = {"opinion_case_id": key, "area_code": area_code, "topic": topic, "level": level, "posts": posts,
           "opened_at": opened.astype(datetime), **dict.fromkeys(STAGE_COLUMNS), "stage": "发现"}
    t = opened
    for stage, col, h in zip(HANDLING_STAGES, STAGE_COLUMNS, hours):
        t = t + np.timedelta64(max(int(round(h * 60)), 1), "m")
        if t > now64:
            break
        row[col] = t.astype(datetime)
        row["stage"] = stage
    return row
