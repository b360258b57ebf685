"""Process definitions: which stage of the closed loop (or which side event) each of a
county's own activity names stands for.

A definition is a YAML file, one per flow (warehouse/processes/default.yaml is the demo's;
a county keeps its own outside the package and names it on load):

    name: 12345热线工单
    stages: {派单: dispatch, 签收: accept, 办理: handle, 回复: verify, 回访: verify, 办结: close,
             退单: return, 延期: delay, 督办: supervise}

Stages are report, accept, dispatch, handle, verify, close (发现上报 … 评价归档; the Chinese
names are accepted too); side events return, escalate, delay, supervise, cancel, other (退回,
提级, 延期, 督办, 撤销, 其他).

Per-stage deadlines (optional; the one overdue rule, warehouse/definitions.py, reads them
through mart_case_flow): how long a case may stay at each stage it can wait at:

    deadlines: {report: case, accept: 2h, dispatch: 1d, handle: case, verify: none}

`case` = the case's own 限时办结 deadline (deadline_at, from its type); a duration (30m, 2h,
1.5d, or a number of hours) = that long after the case first entered the stage; `none` = no
deadline. A stage left out keeps the default, today's rule (限时办结: handled by the case's
deadline): the case deadline at report, accept and dispatch, none at handle and verify (the
demo's 处置反馈 reports handling done; a flow whose handle stage is the handling itself, like
12345's 办理, writes `handle: case`). An activity the definition does not name is kept with stage NULL
and listed as unmapped (data page, load output), never quarantined. The definitions in use
are stored in the warehouse table process_stage, so pages show the map the data was read with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import polars as pl

from warehouse import yamlfile

STAGES = ("report", "accept", "dispatch", "handle", "verify", "close")
SIDE_EVENTS = ("return", "escalate", "delay", "supervise", "cancel", "other")
ALL = STAGES + SIDE_EVENTS
CHINESE = {"发现上报": "report", "统一受理": "accept", "指挥派遣": "dispatch", "处置反馈": "handle",
           "任务核查": "verify", "评价归档": "close", "退回": "return", "提级": "escalate", "延期": "delay",
           "督办": "supervise", "撤销": "cancel", "其他": "other"}
DEADLINE_STAGES = STAGES[:-1]  # close is final: nothing to wait for
# today's rule (限时办结: handled by the case deadline): the case deadline until the case enters
# handle (处置反馈), none from then on
DEFAULT_DEADLINES: dict[str, str | float] = {"report": "case", "accept": "case", "dispatch": "case",
                                             "handle": "none", "verify": "none"}
DEFAULT_PATH = Path(__file__).with_name("processes") / "default.yaml"
CHANNELS = ("网格员巡查", "12345", "110联动", "信访", "来访", "视频巡查", "网络")  # schema.sql's list


@dataclass(frozen=True)
class Definition:
    name: str
    stages: dict[str, str]                    # activity → stage or side event
    description: str = ""
    source: str = ""
    names: dict[str, str] = field(default_factory=dict)  # stage → the first activity mapped to it
    # for cases an event log names and the warehouse lacks (etl/event_log.py)
    case_type: str | None = None
    source_channel: str = "网络"
    deadline_hours: int = 168
    # stage → "case" | "none" | hours (float): every deadline stage, defaults filled in
    deadlines: dict = field(default_factory=lambda: dict(DEFAULT_DEADLINES))

    def stage_of(self, activity: str) -> str | None:
        return self.stages.get(activity)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame({"activity": list(self.stages), "stage": list(self.stages.values())},
                            schema={"activity": pl.Utf8, "stage": pl.Utf8})


def parse(data, source: str = "") -> Definition:
    """A definition from YAML content; ValueError naming the file and what is wrong."""
    where = source or "process definition"
    if not isinstance(data, dict) or not str(data.get("name") or "").strip():
        raise ValueError(f"{where}: needs `name: …` and `stages: {{activity: stage, …}}`")
    stages = data.get("stages")
    if not isinstance(stages, dict) or not stages:
        raise ValueError(f"{where}: `stages` must map each activity to a stage, e.g. 派单: dispatch")
    out, bad = {}, []
    for activity, stage in stages.items():
        s = CHINESE.get(str(stage).strip(), str(stage).strip().lower())
        if s not in ALL:
            bad.append(f"{activity}: {stage}")
        out[str(activity).strip()] = s
    if bad:
        raise ValueError(f"{where}: unknown stage for {'; '.join(bad)}. Allowed: {', '.join(ALL)} "
                         f"(or {', '.join(CHINESE)})")
    names = {}
    for activity, s in out.items():
        names.setdefault(s, activity)
    channel = str(data.get("source_channel") or "网络")
    if channel not in CHANNELS:
        raise ValueError(f"{where}: source_channel {channel!r} is not one of {', '.join(CHANNELS)}")
    try:
        hours = int(data.get("deadline_hours") or 168)
    except (TypeError, ValueError):
        hours = 0
    if hours <= 0:
        raise ValueError(f"{where}: deadline_hours must be a positive number of hours")
    return Definition(str(data["name"]).strip(), out, str(data.get("description") or ""), source, names,
                      str(data["case_type"]) if data.get("case_type") else None, channel, hours,
                      parse_deadlines(data.get("deadlines"), where))


_UNITS = {"m": 1 / 60, "min": 1 / 60, "分钟": 1 / 60, "h": 1.0, "小时": 1.0, "d": 24.0, "天": 24.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|分钟|h|小时|d|天)?\s*$")
_CASE_WORDS = {"case", "限时", "办结时限"}
_NONE_WORDS = {"none", "无", "不限", ""}


def parse_deadline(value, where: str = "deadline") -> str | float:
    """One stage's deadline: "case", "none" or hours (float > 0); ValueError otherwise."""
    if value is None or value is False:
        return "none"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        hours = float(value)
    else:
        text = str(value).strip().lower()
        if text in _CASE_WORDS:
            return "case"
        if text in _NONE_WORDS:
            return "none"
        m = _DURATION.match(text)
        if not m:
            raise ValueError(f"{where}: {value!r} is not a deadline: write case, none or a duration "
                             "such as 30m, 2h, 1.5d")
        hours = float(m.group(1)) * _UNITS[m.group(2) or "h"]
    if not hours > 0:
        raise ValueError(f"{where}: a deadline must be longer than zero, not {value!r}")
    return hours


def parse_deadlines(data, where: str = "process definition") -> dict[str, str | float]:
    """`deadlines:` of a definition → every deadline stage's rule, defaults for those left out."""
    out = dict(DEFAULT_DEADLINES)
    if data is None:
        return out
    if not isinstance(data, dict):
        raise ValueError(f"{where}: `deadlines` must map stages to deadlines, e.g. accept: 2h")
    for stage, value in data.items():
        s = CHINESE.get(str(stage).strip(), str(stage).strip().lower())
        if s not in DEADLINE_STAGES:
            raise ValueError(f"{where}: deadlines: {stage!r} is not a stage with a deadline "
                             f"({', '.join(DEADLINE_STAGES)})")
        out[s] = parse_deadline(value, f"{where}: deadlines: {stage}")
    return out


def deadline_text(rule: str | float) -> str:
    """A deadline rule as written in YAML (2h, 1.5d, 30m, case, none)."""
    if isinstance(rule, str):
        return rule
    if rule >= 24 and (rule / 24) == round(rule / 24, 2):
        return f"{rule / 24:g}d"
    if rule < 1:
        return f"{rule * 60:g}m"
    return f"{rule:g}h"


def to_yaml(definition: Definition) -> str:
    """The definition as a YAML file (what parse() reads back)."""
    import yaml

    data = {"name": definition.name}
    if definition.description:
        data["description"] = definition.description
    data["stages"] = dict(definition.stages)
    data["deadlines"] = {s: deadline_text(r) for s, r in definition.deadlines.items()}
    if definition.case_type:
        data["case_type"] = definition.case_type
    data["source_channel"] = definition.source_channel
    data["deadline_hours"] = definition.deadline_hours
    head = "# Process definition (warehouse/process.py explains the format); written by the data page.\n"
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)


def load(path: str | Path) -> Definition:
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no such process definition: {path}")
    try:
        data = yamlfile.read(path)
    except Exception as e:  # a YAML syntax error names the file
        raise ValueError(f"{path}: not readable as YAML: {e}") from e
    return parse(data, str(path))


@cache
def default() -> Definition:
    return load(DEFAULT_PATH)


def default_activity(step: str) -> str:
    """The demo flow's own name for a step (发现上报 for report …)."""
    return default().names.get(step, step)


def default_activity_sql(column: str = "step") -> str:
    """SQL giving the default flow's activity name for a step column (old rows, the demo)."""
    whens = " ".join(f"WHEN '{s}' THEN '{a}'" for s, a in default().names.items())
    return f"(CASE {column} {whens} ELSE {column} END)"


def save(con, definition: Definition, activities: list[str] = ()) -> list[str]:
    """Store the definition in process_stage (replacing an earlier one of the same name),
    with the logged activities it does not map (stage NULL). Returns those unmapped ones."""
    unmapped = sorted({a for a in activities if a not in definition.stages})
    rows = definition.frame().vstack(pl.DataFrame({"activity": unmapped, "stage": [None] * len(unmapped)},
                                                  schema={"activity": pl.Utf8, "stage": pl.Utf8}))
    existing = {r[0] for r in con.sql("SELECT activity FROM process_stage WHERE process = ? AND stage IS NULL",
                                      params=[definition.name]).fetchall()}
    # an activity unmapped by an earlier log of this flow stays listed until a definition maps it
    keep = sorted(existing - set(definition.stages) - set(unmapped))
    rows = rows.vstack(pl.DataFrame({"activity": keep, "stage": [None] * len(keep)},
                                    schema={"activity": pl.Utf8, "stage": pl.Utf8}))
    con.execute("DELETE FROM process_stage WHERE process = ?", [definition.name])
    con.register("_process", rows.with_columns(pl.lit(definition.name).alias("process"),
                                               pl.lit(definition.source).alias("source")).to_arrow())
    con.execute("INSERT INTO process_stage BY NAME SELECT * FROM _process")
    con.unregister("_process")
    save_deadlines(con, definition)
    return unmapped


def deadline_rows(definition: Definition) -> pl.DataFrame:
    """process_deadline rows of a definition: one per deadline stage (rule, hours)."""
    rules = definition.deadlines
    return pl.DataFrame({
        "process": [definition.name] * len(DEADLINE_STAGES), "stage": list(DEADLINE_STAGES),
        "rule": ["hours" if not isinstance(rules[s], str) else rules[s] for s in DEADLINE_STAGES],
        "hours": [None if isinstance(rules[s], str) else float(rules[s]) for s in DEADLINE_STAGES]},
        schema={"process": pl.Utf8, "stage": pl.Utf8, "rule": pl.Utf8, "hours": pl.Float64})


def save_deadlines(con, definition: Definition) -> None:
    con.execute("DELETE FROM process_deadline WHERE process = ?", [definition.name])
    con.register("_deadlines", deadline_rows(definition).to_arrow())
    con.execute("INSERT INTO process_deadline BY NAME SELECT * FROM _deadlines")
    con.unregister("_deadlines")


def stored(name: str, path=None) -> Definition:
    """The definition a flow's data was last read with, from the warehouse (process_stage,
    process_deadline); the packaged default's deadlines and settings when it stored none."""
    from warehouse import db

    con = db.reader(path)
    rows = con.sql("SELECT activity, stage, source FROM process_stage WHERE process = ? AND stage IS NOT NULL "
                   "ORDER BY activity", params=[name]).fetchall()
    base = default() if name == default().name or not rows else Definition(name, {})
    stages = {a: s for a, s, _ in rows} or dict(base.stages)
    deadlines = dict(DEFAULT_DEADLINES)
    if db.has_tables(con, "process_deadline"):
        for stage, rule, hours in con.sql("SELECT stage, rule, hours FROM process_deadline WHERE process = ?",
                                          params=[name]).fetchall():
            deadlines[stage] = hours if rule == "hours" else rule
    names = {}
    for activity, s in stages.items():
        names.setdefault(s, activity)
    return replace(base, name=name, stages=stages, names=names, deadlines=deadlines,
                   source=rows[0][2] if rows and rows[0][2] else base.source)


def with_default_activity(events: pl.DataFrame) -> pl.DataFrame:
    """Events written from step codes (the demo, a cases file's step times, a case_events
    file) get the default flow's activity names and process name."""
    names = default().names
    return events.with_columns(
        pl.col("step").replace_strict(names, default=pl.col("step"), return_dtype=pl.Utf8).alias("activity"),
        pl.lit(default().name).alias("process"))


def in_use(path=None, only: str | None = None) -> pl.DataFrame:
    """Every activity of the event log with its process definition, stage (NULL: unmapped)
    and how many events and cases carry it; the default definition's own rows too when no
    log has been loaded with one (the demo). only: one definition's rows (scans only its events)."""
    from warehouse import db

    where, params = ("WHERE process = ?", [only]) if only else ("", [])
    used = db.query(f"""
        SELECT process, activity, any_value(step) AS stage, count(*) AS events, count(DISTINCT case_id) AS cases
        FROM case_event {where} GROUP BY process, activity""", params, path=path)
    stored = db.query(f"SELECT process, activity, stage FROM process_stage {where}", params, path=path)
    known = stored.vstack(default().frame().select(pl.lit(default().name).alias("process"), "activity", "stage")) \
        .unique(["process", "activity"], keep="first", maintain_order=True)
    out = known.join(used.select("process", "activity", "events", "cases"), on=["process", "activity"], how="full",
                     coalesce=True)
    out = out.join(used.select("process", "activity", pl.col("stage").alias("_logged")),
                   on=["process", "activity"], how="left")
    out = out.with_columns(pl.coalesce("stage", "_logged").alias("stage"),
                           pl.col("events").fill_null(0), pl.col("cases").fill_null(0)).drop("_logged")
    # a definition no event uses and no load stored (the default, once a county loads its own) stays out
    live = out.group_by("process").agg(pl.col("events").sum()).filter(pl.col("events") > 0)["process"]
    if live.len():
        out = out.filter(pl.col("process").is_in(live.implode()) | pl.col("process").is_in(stored["process"].implode()))
    order = {s: i for i, s in enumerate(ALL)}
    return out.with_columns(pl.col("stage").replace_strict(order, default=len(ALL), return_dtype=pl.Int32)
                            .alias("_o")).sort("process", "_o", "activity").drop("_o")


def unmapped(path=None) -> pl.DataFrame:
    """Activities the log holds that their process definition does not map (stage NULL)."""
    return in_use(path).filter(pl.col("stage").is_null() & (pl.col("events") > 0))


def of_case(case_id: str, path=None) -> dict:
    """The process definition a case's log was read with and its activity → stage map."""
    from warehouse import db

    rows = db.query("SELECT any_value(process) AS process FROM case_event WHERE case_id = ?", [case_id], path)
    name = rows["process"][0] if rows.height and rows["process"][0] else default().name
    table = in_use(path, only=name).filter(pl.col("process") == name).select("activity", "stage", "events")
    return {"process": name, "map": table}
