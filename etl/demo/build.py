"""Build the whole demo warehouse: geography → people → cases → opinion → registers.

County scale is shaped like 淮安市洪泽区 (real codes and names, ~380k residents); city scale
clones that county ten times side by side with new county codes (~3.8M residents); small
scale is a cut-down county (a tenth of the residents and cases) for fast tests.
The whole build writes a private file and swaps it in atomically (warehouse.db.writing).
"""

from __future__ import annotations

import getpass
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
from tqdm import tqdm

from etl.demo.cases import as_of_now, build_cases
from etl.demo.geography import build_areas
from etl.demo.opinion import build_opinion_cases, build_posts, demo_landmarks
from etl.demo.petitions import build_petitions
from etl.demo.population import build_persons, build_staff
from etl.demo.registers import build_ssra, build_surveys
from etl.demo.seed_registers import add_seed_registers
from etl.identity import check_warehouse_key, hash_key
from etl.opinion.enrich import enrich_posts
from etl.opinion.gazetteer import build_gazetteer
from warehouse import db, marts, schema, yamlfile

ASSUMPTIONS = Path(__file__).with_name("assumptions.yaml")
SCALES = ("small", "county", "city")
CITY_COUNTIES = [("320813", None)] + [(f"32088{i}", f"演示{n}区") for i, n in
                                      zip(range(1, 10), "一二三四五六七八九")]
TABLE_ORDER = ["area", "grid_staff", "person", "case_type", "cases", "case_event",
               "opinion_post", "opinion_case", "ssra", "survey_response", "petition", "key_petitioner"]
DOMAIN_OF = {"area": "areas", "grid_staff": "areas", "person": "population", "case_type": "cases",
             "cases": "cases", "case_event": "cases", "opinion_post": "opinion", "opinion_case": "opinion", "ssra": "ssra",
             "survey_response": "surveys", "petition": "petitions", "key_petitioner": "petitions"}


def load_assumptions() -> dict:
    return yamlfile.read(ASSUMPTIONS)


@dataclass
class DemoCounty:
    """All tables of one generated county (polars), plus the clear IDs for raw export."""

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    id_numbers: list[str] = field(default_factory=list)


def generate_county(cfg: dict, seed: int, now: datetime, key: bytes, county_code: str = "320813",
                    county_name: str | None = None, offset=(0.0, 0.0), step=lambda: None,
                    seen_ids: set[str] | None = None) -> DemoCounty:
    rng = np.random.default_rng([seed, int(county_code)])
    areas, planned = build_areas(cfg, rng, county_code, county_name, offset)
    step()
    persons, ids = build_persons(areas, planned, cfg, now.date(), rng, key, seen_ids)
    staff = build_staff(areas, persons, cfg, now.date(), rng)
    step()
    case_type, cases, events = build_cases(areas, persons, cfg, now, rng)
    step()
    # scored at load time like real posts: the generator's labels are truth for its templates only
    posts = enrich_posts(build_posts(areas, cfg, now, rng), build_gazetteer(areas, demo_landmarks(county_code)))
    # own random stream: the handling records leave every other table's draws unchanged
    opinion_cases = build_opinion_cases(areas, cfg, now, np.random.default_rng([seed, int(county_code), 2]))
    step()
    ssra = build_ssra(areas, cfg, now, rng)
    surveys = build_surveys(areas, persons, cfg, now, rng)
    # own random stream, like the opinion records: every other table's draws stay as they were
    petition, key_pet = build_petitions(cases, persons, cfg, now, np.random.default_rng([seed, int(county_code), 3]))
    tables = {"area": areas, "grid_staff": staff, "person": persons,
              "case_type": case_type, "cases": cases, "case_event": events,
              "opinion_post": posts, "opinion_case": opinion_cases, "ssra": ssra, "survey_response": surveys,
              "petition": petition, "key_petitioner": key_pet}
    # own random stream as well: the registers of v6 leave every other draw unchanged
    add_seed_registers(tables, cfg, np.random.default_rng([seed, int(county_code), 4]))
    step()
    return DemoCounty(tables, ids)


def scaled_config(scale: str) -> dict:
    cfg = load_assumptions()
    if scale == "small":
        cfg["county"]["residents"] //= 10
        cfg["county"]["residents_per_grid"] //= 10  # keep ~800 grids: geometry stays realistic
        cfg["cases"]["per_year"] //= 10
        cfg["opinion"]["per_year"] //= 10
    return cfg


def counties_for(scale: str) -> list[tuple[str, str | None, tuple[float, float]]]:
    if scale == "city":
        return [(code, name, ((i % 5) * 0.75, -(i // 5) * 0.42))
                for i, (code, name) in enumerate(CITY_COUNTIES)]
    return [("320813", None, (0.0, 0.0))]


def build(db_file=None, seed: int = 20261124, scale: str = "county",
          as_of: date | datetime | None = None, show_progress: bool = True,
          on_step: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Generate the demo and swap it in as the warehouse; return rows per table.

    on_step(done, total) reports progress to a UI (the app's first start)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}")
    now = as_of_now(as_of)
    cfg = scaled_config(scale)
    key = hash_key()
    started = datetime.now()
    t0 = time.perf_counter()
    counties = counties_for(scale)
    steps = len(counties) * 6 + 2
    bar = tqdm(total=steps, desc=f"demo {scale}", unit="step", disable=not show_progress)
    counts: dict[str, int] = dict.fromkeys(TABLE_ORDER, 0)
    seen_ids: set[str] = set()  # ID numbers are unique across the counties of a city

    def tick() -> None:
        bar.update()
        if on_step:
            on_step(bar.n, steps)

    with db.writing(db_file, start_empty=True) as con:
        schema.create(con)
        check_warehouse_key(con, key)
        for code, name, offset in counties:
            county = generate_county(cfg, seed, now, key, code, name, offset, step=tick, seen_ids=seen_ids)
            for table in TABLE_ORDER:
                df = county.tables[table]
                if table == "case_type" and counts["case_type"]:
                    continue  # one catalogue for all counties
                insert(con, table, df)
                counts[table] += df.height
            tick()
        bar.set_postfix_str("marts")
        marts.rebuild(con)
        record_demo_runs(con, counts, started, time.perf_counter() - t0, scale, seed)
        tick()
    bar.close()
    return counts


def insert(con, table: str, df: pl.DataFrame) -> None:
    """Insert a polars frame by column name (Arrow, no copy through Python objects)."""
    con.register("_frame", df.to_arrow())
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
    finally:
        con.unregister("_frame")


def record_demo_runs(con, counts: dict, started: datetime, seconds: float, scale: str, seed: int):
    finished = datetime.now()
    for domain in sorted(set(DOMAIN_OF.values())):
        rows = sum(n for t, n in counts.items() if DOMAIN_OF[t] == domain)
        con.execute(
            "INSERT INTO etl_run (run_id, kind, domain, file_name, started_at, finished_at, rows_read,"
            " rows_loaded, outcome, run_by, seconds, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [uuid.uuid4().hex, "demo", domain, None, started, finished, rows, rows, "ok",
             _user(), round(seconds, 2), f"demo scale={scale} seed={seed}"])


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"
