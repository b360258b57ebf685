"""What each kind of file must contain: fields, types, allowed values, keys and checks.

Field names are the warehouse column names, plus input-only fields that are transformed on
load and never stored as given: id_number (→ person_key), name/phone/reporter (→ masked),
author (→ author_hash). Profiles (etl/profiles/*.yaml) map a file's headers onto these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from warehouse import yamlfile

GRID, VILLAGE, TOWN, COUNTY = 15, 12, 9, 6
# synonym tables kept as data (etl/rules/values.yaml): a county's words are added there
VALUES = yamlfile.read(Path(__file__).with_name("values.yaml"))


def _syn(**groups: list[str]) -> dict[str, str]:
    """canonical=[synonyms] → {synonym: canonical}, the canonical value included."""
    out = {}
    for canon, words in groups.items():
        out[str(canon)] = str(canon)
        for w in words:
            out[str(w)] = str(canon)
    return out


LEVELS = _syn(county=["县", "区", "县区", "区县", "县级"], town=["镇", "街道", "乡", "乡镇", "镇街", "镇（街道）", "开发区"],
              village=["村", "社区", "村居", "村社区", "村（社区）"], grid=["网格"])
ROLES = _syn(grid_worker=["网格员", "专职网格员"], grid_volunteer=["网格志愿者", "兼职网格员", "网格协管员"],
             patrol=["巡防队员", "专职巡防队员"], patrol_volunteer=["志愿巡防队员", "群防群治力量", "巡防志愿者"],
             floating_warden=["流动人口协管员", "流管员"], mediator=["调解员", "人民调解员"],
             political_officer=["综治专干", "专职综治干部"], community_police=["社区民警", "驻村民警", "警务助理"],
             security_guard=["保安", "保安员"], social_worker=["社工", "社会工作者"],
             centre_staff=["综治中心工作人员", "中心工作人员"])
SEX = _syn(M=["男", "男性", "1"], F=["女", "女性", "2"])
RESIDENCE = _syn(**{"户籍": ["户籍人口", "常住户籍"], "流动": ["流动人口", "外来人口"], "境外": ["境外人员", "外籍"]})
CHANNELS = _syn(**VALUES["channels"])
SATISFACTION = _syn(**VALUES["satisfaction"])
RESOLVED_LEVEL = _syn(village=["村级", "村", "社区", "村（社区）"], town=["镇级", "镇", "街道", "镇（街道）"],
                      county=["县级", "区级", "县", "区"])
STEPS = _syn(report=["上报", "发现上报", "登记"], accept=["受理", "统一受理"], dispatch=["派遣", "指挥派遣", "分流交办", "交办"],
             handle=["处置", "处置反馈", "办理"], verify=["核查", "任务核查"], close=["办结", "评价归档", "归档", "结案"],
             **{"return": ["退回", "退回重办", "重办"]}, escalate=["上报上级", "提级", "升级", "提请上级"])
SENTIMENT = _syn(positive=["正面", "积极", "正向"], neutral=["中性", "中立"], negative=["负面", "消极", "负向"])
SWEEP = _syn(**{"日常排查": ["日常"], "集中排查": ["集中"], "重点排查": ["重点"], "专项排查": ["专项"]})
MEDIATION = _syn(**{"人民调解": ["人民"], "行政调解": ["行政"], "司法调解": ["司法"]})
PETITION_FORM = _syn(**{"来信": ["信件"], "来访": ["走访", "上访"], "网上信访": ["网信", "网上投诉", "网上"],
                        "电话": ["电话信访"]})
PETITION_LEVEL = _syn(**{"县内": ["本县", "本区", "县级", "区级"], "赴市": ["到市", "市级"], "赴省": ["到省", "省级"],
                         "进京": ["赴京", "到京", "国家级"]})
PETITION_STATUS = _syn(**{"办理中": ["在办", "受理中"], "正在化解": ["化解中"], "已化解": ["化解", "已办结"],
                          "息诉罢访": ["息诉"], "三级终结": ["终结"], "引导诉讼": ["诉讼"], "移交": ["转送", "转交"],
                          "无法化解": ["未化解"]})
SECURITY = _syn(**{"安全": ["很安全", "非常安全"], "基本安全": ["比较安全"], "不太安全": [], "不安全": ["很不安全"]})
RISK = _syn(**{"高": ["高风险"], "中": ["中风险", "较大风险"], "低": ["低风险"]})
DECISION = _syn(**{"实施": ["准予实施"], "暂缓": ["暂缓实施"], "不实施": ["不予实施"]})


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "text"          # text datetime date deadline int float bool enum area id
    required: bool = False
    values: dict | None = None  # enum synonyms → canonical
    min: float | None = None
    max: float | None = None
    levels: tuple[int, ...] = ()  # area: allowed code lengths
    past: bool = False          # dates must not lie after the load


@dataclass(frozen=True)
class KindSpec:
    kind: str
    table: str
    domain: str
    key: tuple[str, ...]         # warehouse key (after transforms)
    fields: tuple[Field, ...]
    file_key: tuple[str, ...] = ()  # duplicate check in the file, on input fields
    step_order: tuple[str, ...] = ()  # non-null timestamps must not decrease in this order
    notes: list[str] = field(default_factory=list)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]


F = Field
ANY_AREA = (COUNTY, TOWN, VILLAGE, GRID)
# names a file may give instead of an area code (etl.area_names resolves them; input only)
NAMES = (F("town_name"), F("village_name"), F("grid_name"))
FLAGS = ("is_corrections", "is_released", "is_mental", "is_drug", "is_youth", "lives_alone",
         "is_dibao", "is_disabled", "is_left_behind")
CASE_STEPS = ("reported_at", "accepted_at", "dispatched_at", "handled_at", "verified_at", "closed_at")

KINDS: dict[str, KindSpec] = {s.kind: s for s in [
    KindSpec("areas", "area", "areas", ("code",), (
        F("code", "area", True, levels=ANY_AREA), F("name", required=True), F("level", "enum", values=LEVELS),
        F("parent_code", "text"), F("kind"), F("geometry"), F("lon", "float", min=-180, max=180),
        F("lat", "float", min=-90, max=90), F("area_km2", "float", min=0)), file_key=("code",)),
    KindSpec("grid_staff", "grid_staff", "areas", ("area_code", "role"), (
        F("area_code", "area", True, levels=(TOWN, VILLAGE, GRID)), F("role", "enum", True, values=ROLES),
        F("staff_count", "int", True, min=0), F("as_of", "date", True, past=True), *NAMES),
        file_key=("area_code", "role")),
    KindSpec("persons", "person", "population", ("person_key",), (
        F("id_number", "id", True), F("name"), F("phone"), F("sex", "enum", values=SEX),
        F("birth_month", "date"), F("residence_type", "enum", True, values=RESIDENCE),
        F("household_key"), F("area_code", "area", True, levels=(GRID,)), F("moved_in", "date", past=True),
        *[F(c, "bool") for c in FLAGS], F("is_placed", "bool"), F("reoffended", "bool"),
        F("is_linked", "bool"), F("is_helped", "bool"), *NAMES),
        file_key=("id_number",)),
    KindSpec("cases", "cases", "cases", ("case_id",), (
        F("case_id", required=True), F("case_type", required=True), F("category"),
        # a grid where known; else the village or town the row names (etl.area_names)
        F("source_channel", "enum", True, values=CHANNELS), F("area_code", "area", True, levels=(TOWN, VILLAGE, GRID)),
        *NAMES,
        F("lon", "float", min=-180, max=180), F("lat", "float", min=-90, max=90), F("description"),
        F("reporter"), F("phone"), F("reported_at", "datetime", True, past=True),
        *[F(c, "datetime", past=True) for c in CASE_STEPS[1:]], F("deadline_at", "deadline"),
        F("responsible_unit"), F("resolved_level", "enum", values=RESOLVED_LEVEL),
        F("returned_count", "int", min=0), F("escalated", "bool"),
        F("satisfaction", "enum", values=SATISFACTION), F("citizen_resolved", "bool"),
        F("is_collective", "bool"), F("petition_status"), F("sweep_type", "enum", values=SWEEP),
        F("mediation_kind", "enum", values=MEDIATION)),
        file_key=("case_id",), step_order=CASE_STEPS),
    KindSpec("case_events", "case_event", "cases", ("case_id", "seq"), (
        F("case_id", required=True), F("seq", "int", min=1), F("step", "enum", True, values=STEPS),
        F("occurred_at", "datetime", True, past=True), F("unit"), F("outcome")),
        file_key=("case_id", "seq")),
    # a bare event log as process-mining tools hold it (one row per event, the county's own
    # activity names; a process definition maps them to stages): see etl/event_log.py
    KindSpec("event_log", "case_event", "cases", ("case_id", "seq"), (
        F("case_id", required=True), F("activity", required=True),
        F("occurred_at", "datetime", True, past=True), F("unit"), F("outcome"), F("case_type"),
        F("source_channel", "enum", values=CHANNELS), F("area_code", "area", levels=(GRID,)))),
    KindSpec("opinion", "opinion_post", "opinion", ("post_id",), (
        F("post_id", required=True), F("platform", required=True),
        F("published_at", "datetime", True, past=True), F("author_hash"), F("author"),
        F("content", required=True), F("place_text"), F("area_code", "area", levels=ANY_AREA),
        F("lon", "float", min=-180, max=180), F("lat", "float", min=-90, max=90),
        F("sentiment", "enum", values=SENTIMENT), F("sentiment_score", "float", min=0, max=1),
        F("topic"), F("keywords"), F("engagement", "int", min=0), F("handling_status")),
        file_key=("post_id",)),
    KindSpec("ssra", "ssra", "ssra", ("ssra_id",), (
        F("ssra_id", required=True), F("project_name", required=True), F("project_type", required=True),
        F("area_code", "area", True, levels=ANY_AREA), F("submitted_at", "date", True, past=True),
        F("decided_at", "date"), F("assessed", "bool", True),
        *[F(c, "float", min=0, max=100) for c in ("legality", "rationality", "feasibility", "controllability")],
        F("risk_level", "enum", values=RISK), F("decision", "enum", values=DECISION), F("status"), *NAMES),
        file_key=("ssra_id",)),
    # the 信访 register (warehouse/petition.py): the petitioner's ID is hashed like a resident's
    KindSpec("petitions", "petition", "petitions", ("petition_id",), (
        F("petition_id", required=True), F("case_id"), F("area_code", "area", True, levels=(TOWN, VILLAGE, GRID)),
        *NAMES, F("petitioner_id", "id"), F("received_at", "datetime", True, past=True),
        F("form", "enum", values=PETITION_FORM), F("issue_type", required=True),
        F("level_reached", "enum", True, values=PETITION_LEVEL), F("irregular", "bool"), F("collective", "bool"),
        F("status", "enum", True, values=PETITION_STATUS), F("settled_at", "datetime", past=True)),
        file_key=("petition_id",)),
    KindSpec("surveys", "survey_response", "surveys", ("response_id",), (
        F("response_id", required=True), F("survey_period", "quarter", True, past=True),
        F("area_code", "area", True, levels=(GRID,)), F("sense_of_security", "enum", values=SECURITY),
        F("grid_satisfaction", "enum", values=SATISFACTION),
        F("security_satisfaction", "enum", values=SATISFACTION), F("aware", "bool"), F("participated", "bool"),
        *NAMES),
        file_key=("response_id",)),
]}
