"""Rules -> events. An event's `key` names what happened (rule, place, period), so the same
situation found again by a later run is the same event and is not sent twice."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from urllib.parse import urlencode

import polars as pl

from warehouse import areas as wa
from warehouse import meta
from warehouse.changes import fmt_value
from warehouse.db import FULL


@dataclass(frozen=True)
class Event:
    key: str
    rule: str
    level: str  # 红 | 橙 | 黄
    area_code: str
    title: str
    text: str
    link: str

    def as_dict(self) -> dict:
        return asdict(self)


def _link(base: str, page: str, **params) -> str:
    return f"{base.rstrip('/')}/{page}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def evaluate(cfg: dict, path=None) -> list[Event]:
    """Every event the rules find in the warehouse now."""
    base = cfg.get("base_url", "http://localhost:8501")
    names = wa.names(path)
    out: list[Event] = []
    for rule in cfg.get("rules") or []:
        fn = KINDS[rule["kind"]]
        out += fn(rule, base, names, path)
    return out


def _indicator_missed(rule: dict, base: str, names: dict, path) -> list[Event]:
    from warehouse import datasets

    period = meta.default_period("month", path)
    root = wa.root_codes(FULL, path=path)[0]
    df = datasets.get("indicators", FULL, area=root, start=period.start, end=period.end - timedelta(days=1), path=path)
    rags = rule.get("rag", ["red"])
    levels = rule.get("levels", ["county", "town"])
    df = df.filter(pl.col("rag").is_in(rags) & pl.col("level").is_in(levels) & (pl.col("period") == period.key))
    out = []
    for r in df.iter_rows(named=True):
        value = fmt_value(r["value"], r["unit"] or "")
        target = fmt_value(r["target"], r["unit"] or "")
        word = {"red": "红", "amber": "黄"}.get(r["rag"], r["rag"])
        out.append(Event(
            key=f"{rule['id']}:{r['area_code']}:{r['key']}:{period.key}", rule=rule["id"],
            level=word, area_code=r["area_code"],
            title=f"【指标预警·{word}】{r['area_name']} {r['name_zh']} 未达目标（{period.key}）",
            text=f"{r['area_name']}{period.start.year}年{period.start.month}月{r['name_zh']}为{value}，目标{target}。",
            link=_link(base, "overview", area=r["area_code"], grain="month", period=period.key)))
    return out


def _grid_risk(rule: dict, base: str, names: dict, path) -> list[Event]:
    from warehouse import risk

    _, s = risk.scored(path)
    if s.height == 0:
        return []
    month = s["month"].max()
    order = {"蓝": 0, "黄": 1, "橙": 2, "红": 3}
    wanted = [order[x] for x in rule.get("levels", ["橙", "红"])]
    low = min(wanted)
    # "turns": at a wanted level now, and below that level (or unscored) the month before
    df = s.filter((pl.col("month") == month) & pl.col("level_no").is_in(wanted)
                  & (pl.col("previous_level_no").is_null() | (pl.col("previous_level_no") < pl.col("level_no"))
                     | (pl.col("previous_level_no") < low)))
    out = []
    for r in df.sort("level_no", "score", descending=True).iter_rows(named=True):
        code = r["area_code"]
        grid, town = names.get(code, code), names.get(code[:9], "")
        out.append(Event(
            key=f"{rule['id']}:{code}:{month:%Y-%m}:{r['level']}", rule=rule["id"], level=r["level"],
            area_code=code,
            title=f"【网格风险·{r['level']}】{town}{grid} 风险等级升至{r['level']}（{month:%Y-%m}）",
            text=f"{town}{grid}风险指数{r['score']:.1f}，排名第{r['rank']}，主要因素：{risk.describe_main(r['main'] or '')}。",
            link=_link(base, "grid", grid=code, area=code)))
    return out


def _opinion_spike(rule: dict, base: str, names: dict, path) -> list[Event]:
    from warehouse import opinion

    df = opinion.warnings(FULL, path=path)
    if df.height == 0:
        return []
    df = df.filter(pl.col("level").is_in(rule.get("levels", ["橙", "红"])))
    out = []
    for r in df.iter_rows(named=True):
        started = r["started_at"]
        out.append(Event(
            key=f"{rule['id']}:{r['area_code']}:{r['topic']}:{started}:{r['level']}", rule=rule["id"],
            level=r["level"], area_code=r["area_code"],
            title=f"【舆情预警·{r['level']}】{r['area_name']}“{r['topic']}”话题信息激增",
            text=(f"{r['area_name']}“{r['topic']}”话题自{started}起信息{r['posts']}条，"
                  f"负面占比{(r['negative_share'] or 0) * 100:.1f}%。"),
            link=_link(base, "opinion", area=r["area_code"])))
    return out


def _overdue_open(rule: dict, base: str, names: dict, path) -> list[Event]:
    from warehouse import caseloop

    n = int(rule.get("threshold", 20))
    df = caseloop.overdue_open(FULL, limit=10_000_000, path=path)
    if df.height == 0:
        return []
    day = meta.data_now(path).date()
    per_town = (df.group_by(pl.col("area_code").str.slice(0, 9).alias("town")).len()
                .filter(pl.col("len") > n).sort("len", descending=True))
    out = []
    for r in per_town.iter_rows(named=True):
        town = r["town"]
        out.append(Event(
            key=f"{rule['id']}:{town}:{day}", rule=rule["id"], level="橙", area_code=town,
            title=f"【逾期预警】{names.get(town, town)} 逾期未办结事件{r['len']}件（超过{n}件）",
            text=f"截至{day}，{names.get(town, town)}有{r['len']}件事件超过办结时限仍未办结。",
            link=_link(base, "cases", area=town, cl_tab="限时办结", lang="zh")))
    return out


KINDS = {"indicator_missed": _indicator_missed, "grid_risk": _grid_risk,
         "opinion_spike": _opinion_spike, "overdue_open": _overdue_open}
