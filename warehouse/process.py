"""Process definitions: which stage of the closed loop (or which side event) each of a
county's own activity names stands for.

A definition is a YAML file, one per flow (warehouse/processes/default.yaml is the demo's;
a county keeps its own outside the package and names it on load):

    name: 12345热线工单
    stages: {派单: dispatch, 签收: accept, 办理: handle, 回复: verify, 回访: verify, 办结: close,
             退单: return, 延期: delay, 督办: supervise}

Stages are report, accept, dispatch, handle, verify, close (发现上报 … 评价归档; the Chinese
names are accepted too); side events return, escalate, delay, supervise, cancel, other (退回,
提级, 延期, 督办, 撤销, 其他). An activity the definition does not name is kept with stage NULL
and listed as unmapped (data page, load output), never quarantined. The definitions in use
are stored in the warehouse table process_stage, so pages show the map the data was read with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
DEFAULT_PATH = Path(__file__).with_name("processes") / "default.yaml"


@dataclass(frozen=True)
class Definition:
    name: str
    stages: dict[str, str]                    # activity → stage or side event
    description: str = ""
    source: str = ""
    names: dict[str, str] = field(default_factory=dict)  # stage → the first activity mapped to it

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
    return Definition(str(data["name"]).strip(), out, str(data.get("description") or ""), source, names)


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
    return unmapped


def with_default_activity(events: pl.DataFrame) -> pl.DataFrame:
    """Events written from step codes (the demo, a cases file's step times, a case_events
    file) get the default flow's activity names and process name."""
    names = default().names
    return events.with_columns(
        pl.col("step").replace_strict(names, default=pl.col("step"), return_dtype=pl.Utf8).alias("activity"),
        pl.lit(default().name).alias("process"))
