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
from warehouse import taxonomy
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
    issuer: str = ""
    doc_number: str | None = None  # 文号, e.g. 洪综治〔2026〕12号
    classification: str | None = None  # 密级, e.g. 内部 or 秘密★1年
    partial: bool = False  # the month is still running (built with --partial)

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

    def change_count(self, m: Measure, unit_word: str) -> str:
        """Month-on-month change of a small count in units (起), not percent."""
        if m.current is None or m.previous is None:
            return "环比无可比数据"
        d = m.current - m.previous
        if d == 0:
            return "与上月持平"
        return f"比上月{'增加' if d > 0 else '减少'}{self.n(abs(d), m.key + '.mom_diff')}{unit_word}"

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


def build(scope: Scope, area: str, month: Period, path=None, with_charts: bool = True,
          doc_number: str | None = None, classification: str | None = None, partial: bool = False,
          now: datetime | None = None) -> Report:
    scope.check_area(area)
    name = wa.names(path).get(area, area)
    r = Report(area, name, month, issuer=f"{name}{ISSUER}", doc_number=doc_number or None,
               classification=classification or None, partial=partial)
    w = _Writer(r)
    m = monthly(scope, area, month, path)
    r.measures = m
    ind = _indicator_values(scope, area, month, path)
    child_word = "各镇（街道）" if len(area) == 6 else "各村（社区）"
    label = f"{month.start.year}年{month.start.month}月"
    B = r.blocks.append

    B(Block("title", f"{label}{name}治安形势分析"))
    until = f"{now:%Y年%m月%d日}（本月尚未结束，数据不完整）" if partial and now else _last_day(month)
    B(Block("subtitle", f"统计周期：{month.start:%Y年%m月%d日}至{until}"
                        f"　　生成时间：{datetime.now():%Y年%m月%d日}"))

    # 一、总体形势
    B(Block("h1", "一、总体形势"))
    judgement = _judgement(m, w)
    para = (f"{label}，{name}共受理各类事件{w.n(m['cases_total'].current, 'cases_total')}件，"
            f"{w.change(m['cases_total'], 'mom')}，{w.change(m['cases_total'], 'yoy')}。"
            f"其中矛盾纠纷{w.n(m['disputes'].current, 'disputes')}件，治安隐患类事件"
            f"{w.n(m['public_security'].current, 'public_security')}件，信访事项{w.n(m['petitions'].current, 'petitions')}件，"
            f"安全生产事故{w.n(m['accidents'].current, 'accidents')}起。")
    coll = m["collective"].current or 0
    para += (f"发生群体性事件{w.n(coll, 'collective')}起，{w.change_count(m['collective'], '起')}。"
             if coll else "未发生群体性事件。")
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
    local = _indicator(ind, "disputes_local")
    if local is not None and local["value"] is not None:  # the catalogue's definition, as in 九
        ok = "达到" if local["value"] >= (local["target"] or 0.95) else "未达到"
        text += (f"{WINDOW_ZH.get(local['window'], '本月')}矛盾纠纷镇村化解率（已化解纠纷中在村、镇两级化解的比例）为"
                 f"{w.pct(local['value'], 'indicator.disputes_local')}，{ok}95%的目标。")
    elif loc.current is not None:
        ok = "达到" if loc.current >= 0.95 else "未达到"
        text += (f"本月已化解的矛盾纠纷中，在镇村两级化解的占{w.pct(loc.current, 'disputes_resolved_local')}"
                 f"（镇村化解率），{ok}95%的目标。")
    text += (f"发生群体性事件{w.n(coll, 'collective')}起，需加强源头预防。" if coll else "")
    B(Block("p", text + w.standout(d, "件", child_word)))
    chart(d, "矛盾纠纷分布（本月与上月）")

    # 四、信访
    B(Block("h1", "四、信访工作"))
    pe, st = m["petitions"], m["petitions_settled"]
    text = f"本月受理信访事项{w.n(pe.current, 'petitions')}件，{w.change(pe, 'mom')}，{w.change(pe, 'yoy')}。"
    if st.current is not None:
        text += f"已办结信访事项中化解（含息诉罢访、三级终结）比例为{w.pct(st.current, 'petitions_settled')}。"
    if m["register_petitions"].current:  # only where the county's 信访 register is loaded
        bj, rep = m["petitions_beijing"], m["petitions_repeat"]
        text += (f"信访登记显示，本月越级上访{w.n(m['petitions_beyond'].current, 'petitions_beyond')}件，"
                 f"进京非正常上访{w.n(bj.current, 'petitions_beijing')}件")
        text += (f"，重复信访率{w.pct(rep.current, 'petitions_repeat')}。" if rep.current is not None else "。")
        if bj.current:
            text += "进京非正常上访属一票否决事项，须逐人落实稳控责任。"
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
        text = (f"本月提请重大决策、重大项目等事项{w.n(sub.current, 'ssra_submitted')}项，已开展社会稳定风险评估"
                f"{w.n(ass.current, 'ssra_assessed')}项，评估为高风险的{w.n(high.current, 'ssra_high')}项。")
    else:
        text = "本月无新提请的重大决策、重大项目事项。"
    cov = _indicator(ind, "ssra_coverage")
    if cov is not None and cov["value"] is not None:
        # one definition: the catalogue's, with its window (the table in 九 shows the same value)
        ok = cov["value"] >= (cov["target"] or 1.0)
        text += (f"{WINDOW_ZH.get(cov['window'], '')}应评尽评率（已评估事项占应评估事项的比例，即社会稳定风险评估覆盖率）为"
                 f"{w.pct(cov['value'], 'indicator.ssra_coverage')}，"
                 + ("达到100%的目标。" if ok else "未达到100%的目标，应评未评事项需限期补评。"))
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

    _targets_and_ranking(r, w, scope, area, month, ind, path)
    if note := taxonomy.data_note(path):  # categories no analytic class counts
        r.blocks.append(Block("p", note))
    _check_no_placeholders(r)
    return r


SECTION_NAMES = {"disputes": "矛盾纠纷", "public_security": "治安隐患类事件", "petitions": "信访事项",
                 "accidents": "安全生产事故"}


def _judgement(m: dict[str, Measure], w: _Writer | None = None) -> str:
    """The overall judgement, following the numbers: a rise in 群体性事件 or a sharp rise in a
    section is said as such and never reads 平稳."""
    def n(v, key):
        return w.n(v, key) if w else f"{int(round(v))}"

    rose = [k for k in (*SECTION_NAMES, "collective") if (m[k].current or 0) > (m[k].previous or 0)]
    sharp = [SECTION_NAMES[k] for k in SECTION_NAMES
             if (m[k].previous or 0) >= 10 and (m[k].current - m[k].previous) / m[k].previous > 0.2]
    coll, coll_prev = m["collective"].current or 0, m["collective"].previous or 0
    if coll > coll_prev:
        text = "社会稳定风险上升，群体性事件增多"
        if sharp:
            text += f"，{'、'.join(sharp)}明显上升"
        return text + "，形势不容乐观，需高度警惕、重点防范"
    if coll > 0:
        text = f"社会治安形势总体可控，但仍发生群体性事件{n(coll, 'collective')}起"
        if sharp:
            text += f"，{'、'.join(sharp)}明显上升"
        return text + "，需持续加强源头防范"
    if sharp:
        return f"社会治安形势总体可控，{'、'.join(sharp)}明显上升，需重点关注"
    if len(rose) <= 1:
        return "社会治安形势总体平稳、稳中向好"
    return "社会治安形势总体平稳，局部领域问题有所反弹，需持续关注"


def _last_day(p: Period) -> str:
    d = p.end - timedelta(days=1)
    return f"{d:%Y年%m月%d日}"


WINDOW_ZH = {"period": "本月", "trailing_12m": "近12个月", "snapshot": "月末时点",
             "latest_survey": "最近一次调查"}
RAG_ZH = {"red": "红", "amber": "黄"}

# What to do next when an indicator misses its target (下步工作建议); others get the generic line.
SUGGEST = {
    "security": "深入开展平安创建和群众安全感提升行动，加强重点区域巡防和治安宣传",
    "grid_satisfaction": "提升网格员入户走访和服务质量，对群众不满意事项逐件回访整改",
    "disputes_local": "压实镇村两级调解责任，推动矛盾纠纷就地化解、减少上交",
    "hotline_response": "压缩12345工单签收响应时间，落实首接负责",
    "hotline_solved": "对12345未解决工单逐件督办，推动诉求实质性解决",
    "hotline_satisfied": "加强12345办结回访，对不满意工单重新办理",
    "overdue_rate": "对逾期事件挂牌督办，逐件明确责任单位和办结时限",
    "released_placed": "加强刑满释放人员衔接安置帮教，落实一人一档",
    "released_reoffend": "强化刑满释放人员动态管控和帮扶，防止重新犯罪",
    "released_linked": "落实刑满释放人员必接必送，做到衔接管控无缝对接",
    "released_helped": "为每名刑满释放人员落实帮教小组，定期走访帮扶",
    "corrections_reoffend": "加强社区矫正对象日常监管和教育帮扶",
    "patrol_per_10k": "充实专职巡防力量，按万人比补足缺口",
    "volunteer_share": "扩大群防群治队伍，动员更多群众参与平安建设",
    "warden_coverage": "补齐流动人口协管员，提高流动人口登记覆盖",
    "grid_staffing": "补足空缺网格员，做到一格一员、专职专用",
    "village_staffing": "配齐村（社区）综治专干、社区民警、调解员、保安和社工",
    "centre_staffing": "充实镇（街道）综治中心工作力量，达到11人以上",
    "ssra_coverage": "对应评未评的重大决策、重大项目限期补评，做到应评尽评",
    "collective_incidents": "加强群体性事件苗头排查和预警处置，落实领导包案和源头化解",
    "petitions_per_10k": "推进信访积案化解，落实领导接访下访",
}


def _indicator_values(scope: Scope, area: str, month: Period, path) -> pl.DataFrame | None:
    try:
        from warehouse import indicators
        return indicators.values(scope, area, month, path=path)
    except (ImportError, AttributeError):
        return None


def _indicator(ind: pl.DataFrame | None, key: str) -> dict | None:
    if ind is None or ind.height == 0:
        return None
    rows = ind.filter(pl.col("key") == key)
    return rows.row(0, named=True) if rows.height else None


def _targets_and_ranking(r: Report, w: _Writer, scope: Scope, area: str, month: Period,
                         ind: pl.DataFrame | None, path) -> None:
    """Targets missed (from the indicator catalogue, each with its window), what to do next,
    and the town-ranking annex, when present."""
    r.blocks.append(Block("h1", "九、指标达标情况"))
    missed = (ind.filter(pl.col("rag").is_in(["red", "amber"])).sort(pl.col("rag") != "red", "key")
              if ind is not None and ind.height else None)
    if ind is not None and ind.height:
        if missed.height:
            rows = []
            for row in missed.iter_rows(named=True):
                rows.append([f"{row.get('name_zh') or row.get('key')}（{WINDOW_ZH.get(row.get('window'), '本月')}）",
                             _fmt_value(w, row), _fmt_target(row), RAG_ZH[row["rag"]]])
            r.blocks.append(Block("p", f"本月共有{w.n(missed.height, 'targets_missed')}项指标未达标或接近预警线"
                                       "（括号内为统计口径，红为未达预警线，黄为未达目标）："))
            r.blocks.append(Block("table", header=["指标（统计口径）", "本月值", "目标", "预警"], rows=rows))
        else:
            r.blocks.append(Block("p", "本月各项考核指标均达到目标。"))
    else:
        r.blocks.append(Block("p", "指标目录尚未配置。"))
    _next_steps(r, missed)
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


NUMERALS = "一二三四五六七八九"


def _cn(i: int) -> str:
    """1..99 in Chinese numerals (一, 十, 十一, 二十三)."""
    tens, ones = divmod(i, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else NUMERALS[tens - 1] + "十")
    return head + (NUMERALS[ones - 1] if ones else "")


def _next_steps(r: Report, missed: pl.DataFrame | None) -> None:
    """十、下步工作建议: one item per indicator that missed its target (red first), plus the
    sections that rose sharply; no numbers here (they are stated above)."""
    m = r.measures
    items: list[str] = []
    coll, coll_prev = m["collective"].current or 0, m["collective"].previous or 0
    missed_keys = [] if missed is None else missed["key"].to_list()
    if coll > coll_prev and "collective_incidents" not in missed_keys:
        items.append("群体性事件比上月增加：" + SUGGEST["collective_incidents"])
    if missed is not None:
        for row in missed.iter_rows(named=True):
            what = f"{row.get('name_zh') or row['key']}{'未达预警线' if row['rag'] == 'red' else '未达目标'}"
            items.append(f"{what}：" + SUGGEST.get(row["key"], "逐镇（街道）分析原因，明确责任单位和整改时限"))
    for k, label in SECTION_NAMES.items():
        prev, cur = m[k].previous or 0, m[k].current or 0
        if prev >= 10 and (cur - prev) / prev > 0.2:
            items.append(f"{label}明显上升：梳理上升较多的镇村和类型，开展专项排查整治")
    r.blocks.append(Block("h1", "十、下步工作建议"))
    if not items:
        r.blocks.append(Block("p", "本月各项指标均达到目标，下步要巩固成效，持续做好矛盾纠纷排查化解和社会治安防控。"))
        return
    for i, text in enumerate(items):
        r.blocks.append(Block("p", f"（{_cn(i + 1)}）{text}。"))


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
