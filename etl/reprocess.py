"""Re-read a flow's event log with an edited process definition (the data page's editor).

A county's own definitions are YAML files beside the warehouse (`processes/`, or
$ETL_PROCESS_DIR), never inside the package, so an upgrade keeps them. Applying one maps
every logged activity of that flow to its new stage (NULL: unmapped, still kept), re-derives
the step times, status, returns and escalations of the flow's cases from their logs
(etl/case_sync.py), stores the definition with its deadlines (process_stage,
process_deadline) and rebuilds the marts that read them. All of it happens on a private copy
swapped in at the end (warehouse.db.writing), one writer at a time like a load, so the app
never reads a half-applied warehouse and a failure leaves the old one.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from etl import case_sync
from warehouse import db, marts, process

CHANGED = {"case_event", "cases", "process_stage", "process_deadline"}


def county_dir(warehouse=None) -> Path:
    """Where the county's own process definitions live: $ETL_PROCESS_DIR, else `processes/`
    beside the warehouse file."""
    if os.environ.get("ETL_PROCESS_DIR"):
        return Path(os.environ["ETL_PROCESS_DIR"]).expanduser()
    return db.db_path(warehouse).parent / "processes"


def file_for(name: str, warehouse=None) -> Path:
    """The county's file for a definition name (letters, digits and CJK kept)."""
    slug = re.sub(r"[^\w-]+", "_", name).strip("_") or "process"
    return county_dir(warehouse) / f"{slug}.yaml"


def county_definition(name: str, warehouse=None) -> process.Definition | None:
    """The county's own saved definition of a flow, if there is one."""
    f = file_for(name, warehouse)
    return process.load(f) if f.exists() else None


def save(definition: process.Definition, warehouse=None) -> Path:
    """Write the definition to the county's file (whole file or nothing: temp + rename)."""
    f = file_for(definition.name, warehouse)
    f.parent.mkdir(parents=True, exist_ok=True)
    tmp = f.with_name(f".{f.name}.{os.getpid()}.tmp")
    tmp.write_text(process.to_yaml(definition), encoding="utf-8")
    os.replace(tmp, f)
    return f


@dataclass
class Applied:
    process: str
    events: int = 0            # events of the flow
    remapped: int = 0          # events whose stage changed
    cases: int = 0             # cases of the flow (re-derived)
    unmapped: list[str] = field(default_factory=list)
    marts: list[str] = field(default_factory=list)
    seconds: float = 0.0
    file: Path | None = None


def apply(definition: process.Definition, warehouse=None, save_file: bool = True) -> Applied:
    """Save the definition (save_file) and re-read its flow's log with it; see the module doc."""
    from etl.load import _one_writer

    t0 = time.perf_counter()
    out = Applied(definition.name)
    if save_file:
        out.file = save(definition, warehouse)
        definition = replace(definition, source=str(out.file))
    live = db.db_path(warehouse)
    if not live.exists():
        raise db.WarehouseMissing(live)
    with _one_writer(live), db.writing(live) as con:
        stages = definition.frame()
        con.register("_map", stages.to_arrow())
        where = "e.process = ?"
        out.events, out.remapped = con.sql(f"""
            SELECT count(*), count(*) FILTER (WHERE e.step IS DISTINCT FROM m.stage)
            FROM case_event e LEFT JOIN _map m USING (activity) WHERE {where}""",
                                           params=[definition.name]).fetchall()[0]
        if out.remapped:
            con.execute("UPDATE case_event SET step = (SELECT m.stage FROM _map m "
                        "WHERE m.activity = case_event.activity) WHERE process = ?", [definition.name])
        con.unregister("_map")
        con.execute("CREATE OR REPLACE TEMP TABLE _touched AS "
                    "SELECT DISTINCT case_id FROM case_event WHERE process = ?", [definition.name])
        out.cases = con.sql("SELECT count(*) FROM _touched").fetchall()[0][0]
        if out.remapped:
            case_sync.rederive(con, counts_too=True)
        con.execute("DROP TABLE _touched")
        activities = con.sql("SELECT DISTINCT activity FROM case_event WHERE process = ?",
                             params=[definition.name]).pl()["activity"].to_list()
        out.unmapped = process.save(con, definition, activities)
        out.marts = marts.rebuild(con, changed=set(CHANGED))
    out.seconds = time.perf_counter() - t0
    return out


def activities_of(name: str, warehouse=None) -> pl.DataFrame:
    """The flow's logged activities with their events (most first): what an editor lists."""
    return db.query("SELECT activity, count(*) AS events FROM case_event WHERE process = ? "
                    "GROUP BY activity ORDER BY events DESC, activity", [name], warehouse)
