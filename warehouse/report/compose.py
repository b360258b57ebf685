"""Compose the monthly 《治安形势分析》 from the figures: sentences, charts, tables.

The document is a list of blocks that both renderers (PDF, DOCX) draw. Every number the text
states is formatted here from a figure and recorded in `Report.facts`, so a test can check
that each number in the text is a warehouse value and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from warehouse import areas as wa
from warehouse.db import Scope
from warehouse.periods import Period
from warehouse.report import charts
from warehouse.report.figures import (
    ACCIDENT,
    DISPUTE,
    HAZARD,
    PUBLIC_SECURITY,
    Measure,
    monthly,
    top_topic,
    top_types,
    trend,
)

ISSUER = "社会治理联动指挥中心"


@dataclass
class Block:
    kind: str  # title | subtitle | h1 | p | chart | table
    text: str = ""
    image: bytes | None = None
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Report:
    area_code: str
    area_name: str
    month: Period
    blocks: list[Block] = field(default_factory=list)
    facts: list[tuple[str, str, float]] = field(default_factory=list)  # (text, key, value)
    measures: dict[str, Measure] = field(default_factory=dict)

    @property
    def text(self) -> str:
        parts = [b.text for b in self.blocks if b.text]
        parts += [" ".join(r) for b in self.blocks for r in b.rows]
        return "\n".join(parts)


class _Writer:
    """Formats numbers and records each one as a fact."""

    def __init__(self, report: Report):
        self.r = report

    def n(self, value: float, key: str) -> str:
        s = f"{int(round(value))}"
        self.r.facts.append((s, key, value))
        return s

    def pct(self, value: float, key: str, digits: int = 1) -> str:
        s = f"{value * 100:.{digits}f}%"
        self.r.facts.append((s, key, value))
        return s

    def change(self, m: Measure, vs: str) -> str:
        """环比/同比 phrase: counts in percent, rates in percentage points."""
        other = m.previous if vs == "mom" else m.year_ago
        word = "环比" if vs == "mom" else "同比"
        if m.current is None or other is None:
            return f"{word}无可比数据"
        if m.unit == "rate":
            diff = m.current - other
            if abs(diff) < 0.0005:
                return f"{word}持平"
            s = f"{abs(diff) * 100:.1f}"
            self.r.facts.append((s, f"{m.key}.{vs}_pp", abs(diff)))
            return f"{word}{'上升' if diff > 0 else '下降'}{s}个百分点"
        if other == 0:
            return f"{word}持平" if m.current == 0 else f"{word}新增{self.n(m.current, m.key)}件"
        rel = (m.current - other) / other
        if abs(rel) < 0.0005:
            return f"{word}持平"
        s = f"{abs(rel) * 100:.1f}%"
        self.r.facts.append((s, f"{m.key}.{vs}_pct", abs(rel)))
        return f"{word}{'上升' if rel > 0 else '下降'}{s}"

    def standout(self, m: Measure, unit_word: str, child_word: str) -> str:
        """The child area with the most, and the one that rose most since last month."""
        df = m.by_child.drop_nulls("current")
        if df.height == 0 or df["current"].sum() == 0:
            return ""
        top = df.sort(["current", "name"], descending=[True, False]).row(0, named=True)
        text = f"从{child_word}看，{top['name']}最多（{self.n(top['current'], m.key + '.' + top['code'])}{unit_word}）"
        rise = (df.with_columns((pl.col("current") - pl.col("previous").fill_null(0)).alias("d"))
                .filter(pl.col("d") > 0).sort(["d", "name"], descending=[True, False]))
        if rise.height and rise["name"][0] != top["name"]:
            r0 = rise.row(0, named=True)
            text += f"，{r0['name']}增幅最大（环比增加{self.n(r0['d'], m.key + '.' + r0['code'] + '.rise')}{unit_word}）"
        return text + "。"


def build(scope: Scope, area: str, month: Period, path=None, with_charts: bool = True) -> Report:
    if not scope.allows_area(area):
        raise PermissionError(f"area {area} is outside scope '{scope.name}'")
    name = wa.names(path).get(area, area)
    r = Report(area, name, month)
    w = _Writer(r)
    m = monthly(scope, area, month, path)
    r.measures = m
    child_word = "各镇（街道）" if len(area) == 6 else "各村（社区）"
    label = f"{month.start.year}年{month.start.month}月"
    B = r.blocks.append

    B(Block("subtitle", f"{name}{ISSUER}"))
    B(Block("title", f"{label}{name}治安形势分析"))
    B(Block("subtitle", f"统计周期：{month.start:%Y年%m月%d日}至{_last_day(month)}"
                        f"　　生成时间：{datetime.now():%Y年%m月%d日}"))

    # 一、总体形势
    B(Block("h1", "一、总体形势"))
    judgement = _judgement(m)
    para = (f"{label}，{name}共受理各类事件{w.n(m['cases_total'].current, 'cases_total')}件，"
            f"{w.change(m['cases_total'], 'mom')}，{w.change(m['cases_total'], 'yoy')}。"
            f"其中矛盾纠纷{w.n(m['disputes'].current, 'disputes')}件，治安隐患类事件"
            f"{w.n(m['public_security'].current, 'public_security')}件，信访事项{w.n(m['petitions'].current, 'petitions')}件，"
            f"安全生产事故{w.n(m['accidents'].current, 'accidents')}起。")
    coll = m["collective"].current or 0
    para += (f"发生群体性事件{w.n(coll, 'collective')}起。" if coll else "未发生群体性事件。")
    para += f"总体判断：{judgement}。"
    B(Block("p", para))
    if with_charts:
        B(Block("chart", "图1 近13个月事件数量走势", image=charts.trend_chart(trend(scope, area, month, path))))

    fig = [2]

    def chart(meas: Measure, title: str):
        if with_charts and meas.by_child.height:
            B(Block("chart", f"图{fig[0]} {title}", image=charts.child_bar(meas.by_child, title)))
            fig[0] += 1

    # 二、刑事治安案件/事件
    B(Block("h1", "二、刑事治安案件（事件）"))
    ps = m["public_security"]
    types = top_types(scope, area, month, PUBLIC_SECURITY, path=path)
    t_text = "、".join(f"{t}{w.n(n, 'public_security.' + t)}件" for t, n in types)
    B(Block("p", f"本月排查处置治安隐患类事件{w.n(ps.current, 'public_security')}件，{w.change(ps, 'mom')}，"
                 f"{w.change(ps, 'yoy')}。" + (f"主要类型为{t_text}。" if t_text else "")
                 + w.standout(ps, "件", child_word)))
    chart(ps, "治安隐患类事件分布（本月与上月）")

    # 三、矛盾纠纷排查化解
    B(Block("h1", "三、矛盾纠纷排查化解"))
    d = m["disputes"]
    loc = m["disputes_resolved_local"]
    types = top_types(scope, area, month, DISPUTE, path=path)
    t_text = "、".join(f"{t}{w.n(n, 'disputes.' + t)}件" for t, n in types)
    text = (f"本月排查矛盾纠纷{w.n(d.current, 'disputes')}件，{w.change(d, 'mom')}，{w.change(d, 'yoy')}。"
            + (f"以{t_text}为主。" if t_text else ""))
    if loc.current is not None:
        ok = "达到" if loc.current >= 0.95 else "未达到"
        text += f"已化解纠纷中镇村两级就地化解率为{w.pct(loc.current, 'disputes_resolved_local')}，{ok}95%的目标。"
    text += (f"发生群体性事件{w.n(coll, 'collective')}起，需加强源头预防。" if coll else "")
    B(Block("p", text + w.standout(d, "件", child_word)))
    chart(d, "矛盾纠纷分布（本月与上月）")

    # 四、信访
    B(Block("h1", "四、信访工作"))
    pe, st = m["petitions"], m["petitions_settled"]
    text = f"本月受理信访事项{w.n(pe.current, 'petitions')}件，{w.change(pe, 'mom')}，{w.change(pe, 'yoy')}。"
    if st.current is not None:
        text += f"已办结信访事项中化解（含息诉罢访、三级终结）比例为{w.pct(st.current, 'petitions_settled')}。"
    B(Block("p", text + w.standout(pe, "件", child_word)))

    # 五、安全生产事故
    B(Block("h1", "五、安全生产"))
    ac, hz = m["accidents"], m["hazards"]
    B(Block("p", f"本月发生安全生产事故{w.n(ac.current, 'accidents')}起，{w.change(ac, 'mom')}；"
                 f"排查安全生产和消防隐患{w.n(hz.current, 'hazards')}件，{w.change(hz, 'mom')}，{w.change(hz, 'yoy')}。"
                 + w.standout(hz, "件", child_word)))
    chart(hz, "安全生产和消防隐患分布（本月与上月）")

    # 六、社会稳定风险评估
    B(Block("h1", "六、社会稳定风险评估"))
    sub, ass, high = m["ssra_submitted"], m["ssra_assessed"], m["ssra_high"]
    if sub.current:
        cov = ass.current / sub.current
        text = (f"本月提请重大决策、重大项目等事项{w.n(sub.current, 'ssra_submitted')}项，已开展社会稳定风险评估"
                f"{w.n(ass.current, 'ssra_assessed')}项，应评尽评率{w.pct(cov, 'ssra_coverage')}"
                + ("，达到100%的目标" if cov >= 1 else "，未达到100%的目标，应评未评事项需限期补评")
                + f"；评估为高风险的{w.n(high.current, 'ssra_high')}项。")
    else:
        text = "本月无新提请的重大决策、重大项目事项。"
    B(Block("p", text))

    # 七、网络舆情
    B(Block("h1", "七、网络舆情"))
    po, neg = m["posts"], m["negative_share"]
    text = f"本月监测到涉及本地的网络信息{w.n(po.current, 'posts')}条，{w.change(po, 'mom')}。"
    if neg.current is not None:
        text += f"负面信息占比{w.pct(neg.current, 'negative_share')}，{w.change(neg, 'mom')}。"
    tt = top_topic(scope, area, month, path)
    if tt:
        text += f"负面舆情主要集中在“{tt[0]}”话题（{w.n(tt[1], 'top_topic')}条），需加强研判引导。"
    B(Block("p", text + w.standout(po, "条", child_word)))
    chart(po, "网络舆情信息分布（本月与上月）")

    # 八、网格化服务管理
    B(Block("h1", "八、网格化服务管理"))
    gr, od, sat = m["grid_reported"], m["overdue_rate"], m["satisfaction"]
    text = f"本月网格员巡查发现上报事件{w.n(gr.current, 'grid_reported')}件，{w.change(gr, 'mom')}。"
    if od.current is not None:
        text += f"事件逾期率{w.pct(od.current, 'overdue_rate')}，{w.change(od, 'mom')}。"
    if sat.current is not None:
        text += f"群众评价满意率{w.pct(sat.current, 'satisfaction')}，{w.change(sat, 'mom')}。"
    B(Block("p", text))

    _targets_and_ranking(r, w, scope, area, month, path)
    _check_no_placeholders(r)
    return r


SECTION_NAMES = {"disputes": "矛盾纠纷", "public_security": "治安隐患类事件", "petitions": "信访事项",
                 "accidents": "安全生产事故"}


def _judgement(m: dict[str, Measure]) -> str:
    """The overall judgement: directions and size of the month's movements."""
    rose = [k for k in (*SECTION_NAMES, "collective") if (m[k].current or 0) > (m[k].previous or 0)]
    sharp = [SECTION_NAMES[k] for k in SECTION_NAMES
             if (m[k].previous or 0) >= 10 and (m[k].current - m[k].previous) / m[k].previous > 0.2]
    if (m["collective"].current or 0) > 0 and (sharp or len(rose) >= 3):
        return "社会治安形势总体可控，但矛盾纠纷和群体性事件风险有所上升，需重点防范"
    if sharp:
        return f"社会治安形势总体可控，{'、'.join(sharp)}明显上升，需重点关注"
    if len(rose) <= 1:
        return "社会治安形势总体平稳、稳中向好"
    return "社会治安形势总体平稳，局部领域问题有所反弹，需持续关注"


def _last_day(p: Period) -> str:
    d = p.end - timedelta(days=1)
    return f"{d:%Y年%m月%d日}"


def _targets_and_ranking(r: Report, w: _Writer, scope: Scope, area: str, month: Period, path) -> None:
    """Targets missed (from the indicator catalogue) and the town-ranking annex, when present."""
    try:
        from warehouse import indicators
        ind = indicators.values(scope, area, month, path=path)
    except (ImportError, AttributeError):
        ind = None
    r.blocks.append(Block("h1", "九、指标达标情况"))
    if ind is not None and ind.height:
        missed = ind.filter(pl.col("rag").is_in(["red", "amber"]))
        if missed.height:
            rows = []
            for row in missed.iter_rows(named=True):
                rows.append([str(row.get("name_zh", row.get("key"))), _fmt_value(w, row),
                             _fmt_target(row), {"red": "红", "amber": "黄"}[row["rag"]]])
            r.blocks.append(Block("p", f"本月共有{w.n(missed.height, 'targets_missed')}项指标未达标或接近预警线："))
            r.blocks.append(Block("table", header=["指标", "本月值", "目标", "预警"], rows=rows))
        else:
            r.blocks.append(Block("p", "本月各项考核指标均达到目标。"))
    else:
        r.blocks.append(Block("p", "指标目录尚未配置。"))
    if len(area) != 6:
        return
    try:
        from warehouse import ranking
        rank = ranking.town_ranking(scope, area, month, path=path)
    except (ImportError, AttributeError):
        return
    if rank is None or rank.height == 0:
        return
    r.blocks.append(Block("h1", "附件：镇（街道）定量考核排名"))
    rows = [[str(int(x["rank"])), str(x["name"]), f"{x['score']:.1f}"] for x in rank.sort("rank").iter_rows(named=True)]
    for row, x in zip(rows, rank.sort("rank").iter_rows(named=True)):
        r.facts.append((row[0], "rank", x["rank"]))
        r.facts.append((row[2], "score", x["score"]))
    r.blocks.append(Block("table", header=["名次", "镇（街道）", "综合得分"], rows=rows))


UNIT_TEXT = {"per10k": "/万人", "count": "", "ratio": ""}


def _fmt_value(w: _Writer, row: dict) -> str:
    v, unit, key = row.get("value"), row.get("unit"), f"indicator.{row.get('key')}"
    if v is None:
        return "—"
    if unit == "pct":
        return w.pct(v, key)
    if unit == "permille":
        s = f"{v * 1000:.2f}‰"
        w.r.facts.append((s, key, v))
        return s
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    w.r.facts.append((s, key, v))
    return s + UNIT_TEXT.get(unit, "")


def _fmt_target(row: dict) -> str:
    t, unit = row.get("target"), row.get("unit")
    if t is None:
        return "—"
    sign = "≥" if row.get("direction") == "higher" else "≤"
    if unit == "pct":
        return f"{sign}{t * 100:g}%"
    if unit == "permille":
        return f"{sign}{t * 1000:g}‰"
    return f"{sign}{t:g}{UNIT_TEXT.get(unit, '')}"


_PLACEHOLDER = re.compile(r"\{|\}|None|nan|null")


def _check_no_placeholders(r: Report) -> None:
    bad = _PLACEHOLDER.search(r.text)
    if bad:
        raise ValueError(f"report text has a placeholder near {r.text[max(0, bad.start() - 20):bad.end() + 20]!r}")


__all__ = ["build", "Report", "Block", "ACCIDENT", "HAZARD"]
