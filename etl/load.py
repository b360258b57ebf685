"""Load one county file into the warehouse: read → map → validate → write, all or nothing.

One load = one file = one `etl_run` row. Good rows are upserted by the kind's key (new keys
count as loaded, existing keys as updated); bad rows go to `quarantine` with file, line,
column, reason and the raw row as JSON, so read = loaded + updated + quarantined always.
The write happens inside `warehouse.db.writing`: a private copy swapped in atomically, so a
crash or Ctrl-C leaves the warehouse as it was and the running app keeps serving.
The same file (same sha256, same kind) loaded again is recorded as a skipped run.
Cases and their event log stay consistent: see etl.case_sync.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
from tqdm import tqdm

from etl import area_names, case_sync, event_log, keys, profiles, transforms
from etl.identity import check_warehouse_key, hash_key
from etl.order import is_sorted_by
from etl.readers import LINE, FileNotLoadable, RawTable, read_file
from etl.rules import KINDS, Context, county_values, reason_zh, validate
from etl.rules.engine import RSEP, SEP
from warehouse import db, marts, schema
from warehouse import process as processes
from warehouse.scrub import scrub_expr

PROGRESS_BYTES = 20_000_000  # show a progress bar from this file size up


@dataclass
class LoadResult:
    file: str
    kind: str
    sha256: str | None = None
    rows_read: int = 0
    loaded: int = 0
    updated: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    outcome: str = "failed"          # ok, partial, failed, skipped
    message: str = ""
    profile: str | None = None
    stages: dict[str, float] = field(default_factory=dict)  # seconds per step, for benchmarks
    cpu: dict[str, float] = field(default_factory=dict)     # CPU seconds per step (all threads)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    unmapped: list[str] = field(default_factory=list)   # event_log: activities the definition lacks
    cases_created: int = 0                              # event_log: cases the log named, new here

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "skipped": 0, "partial": 1}.get(self.outcome, 2)

    def summary(self) -> dict:
        d = asdict(self)
        d["quarantined_total"] = self.quarantined_total
        return d


@dataclass
class LoadContext(Context):
    key: bytes = b""
    con: duckdb.DuckDBPyConnection | None = None
    case_types: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"case_type": pl.Utf8, "category": pl.Utf8, "deadline_hours": pl.Int64}))
    new_case_types: pl.DataFrame | None = None
    # event_log (etl/event_log.py)
    process: processes.Definition | None = None
    attributes: pl.DataFrame | None = None
    activities: list[str] = field(default_factory=list)
    new_cases: pl.DataFrame | None = None
    unmapped: list[str] = field(default_factory=list)
    path: Path | None = None  # the warehouse (its county's taxonomy.yaml lies beside it)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ensure_warehouse(path=None) -> Path:
    """An empty warehouse with the schema when none exists yet (loading into a new county)."""
    live = db.db_path(path)
    if not live.exists():
        with db.writing(live, start_empty=True) as con:
            schema.create(con)
            marts.rebuild(con)
    return live


@contextlib.contextmanager
def _one_writer(live: Path):
    """Loads into one warehouse run one at a time: each copies the live file and swaps its copy
    in, so two at once would lose the first one's rows."""
    with open(live.with_name(live.name + ".load.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def load_file(file, kind: str, path=None, profile: str | None = None, sheet: str | None = None,
              now: datetime | None = None, progress: bool | None = None,
              mapping: dict[str, str] | None = None, save_as: str | None = None, process=None) -> LoadResult:
    """Load one file of `kind` into the warehouse at `path`; never raises for bad input.
    `mapping` (field → header) overrides the automatic header mapping; `save_as` saves the
    mapping used as a named profile in profiles.profile_dir(path). process: the process
    definition (a YAML path or warehouse.process.Definition) an event_log's activities are
    mapped with (default: the demo flow's)."""
    live = db.db_path(path)
    live.parent.mkdir(parents=True, exist_ok=True)
    with _one_writer(live):
        res = _load_file(file, kind, live, profile, sheet, now, progress, mapping, save_as, process)
        if res.outcome != "failed":
            _prune_journal(live)
        return res


def _load_file(file, kind, path, profile, sheet, now, progress, mapping=None, save_as=None,
               process=None) -> LoadResult:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    file = Path(file)
    started, t0 = datetime.now(), time.perf_counter()
    now = now or started
    res = LoadResult(file=file.name, kind=kind)
    live = db.db_path(path)
    show = progress if progress is not None else (file.exists() and file.stat().st_size >= PROGRESS_BYTES)
    bar = tqdm(total=5, desc=f"load {file.name}", unit="step", disable=not show, leave=False)
    try:
        ensure_warehouse(live)
        if not file.exists():
            raise FileNotLoadable(f"no such file: {file}")
        if file.suffix.lower() in (".geojson", ".shp") or file.name.lower().endswith(".geo.json"):
            raise FileNotLoadable(f"{file.name} is an outline file: load it with --kind boundaries")
        user_dir = profiles.profile_dir(live)
        lap = _Lap(res)
        with ThreadPoolExecutor(1) as pool:  # hashing releases the GIL: it overlaps the read
            hashing = pool.submit(sha256_of, file)
            try:
                raw = read_file(file, sheet=sheet, known=profiles.known_headers(kind, user_dir))
            finally:
                res.sha256 = hashing.result()
        lap("read")
        bar.update()
        bar.update()
        res.rows_read = raw.frame.height  # counted even when the file is refused below
        if kind == "event_log" and not isinstance(process, processes.Definition):
            process = processes.load(process) if process else processes.default()
        prof = profiles.pick(kind, raw.frame.columns, profile, mapping, user_dir)
        res.profile = prof.name
        duplicate_headers(raw, prof)
        mapped = scrub_free_text(profiles.apply(prof, raw.frame))
        if save_as:
            profiles.save(prof, raw.frame.columns, save_as, user_dir)
        lap("map")
        with db.writing(live) as con:
            lap("copy")
            _fold_failed_runs(con, live)
            if _already_loaded(con, res.sha256, kind):
                res.outcome, res.message = "skipped", "same file already loaded (sha256 match): nothing changed"
                _record_run(con, res, started, t0)
                return res
            # the same file judged again (an earlier load lacked its reference data): its rows
            # quarantined then are judged anew now, not kept twice
            con.execute("DELETE FROM quarantine WHERE run_id IN (SELECT run_id FROM etl_run WHERE sha256 = ? "
                        "AND kind = ?)", [res.sha256, kind])
            ctx, rows, bad = check_rows(con, kind, raw, prof, mapped, live, now, process, lap=lap, bar=bar)
            res.loaded, res.updated = _write(con, kind, rows, ctx)
            if kind == "event_log":
                res.unmapped = ctx.unmapped
                res.cases_created = ctx.new_cases.height if ctx.new_cases is not None else 0
            lap("write")
            _quarantine(con, res, raw, bad, now, prof.match(raw.frame.columns))
            res.outcome = "partial" if res.quarantined_total else "ok"
            res.message = _describe(raw, prof)
            if res.loaded or res.updated:  # marts read base tables only: unchanged tables, same marts
                marts.rebuild(con, changed=CHANGES[kind])
            lap("marts")
            _record_run(con, res, started, t0)
            bar.update()
        lap("swap")
    except (FileNotLoadable, profiles.MissingColumns, ValueError, pl.exceptions.PolarsError,
            duckdb.Error, OSError, MemoryError) as e:
        res.outcome, res.message = "failed", _message(e, live)
        res.loaded = res.updated = 0
        res.quarantined = {}
        _record_failure(live, res, started, t0)
    finally:
        bar.close()
    res.seconds = round(time.perf_counter() - t0, 3)
    return res


def check_rows(con, kind: str, raw: RawTable, prof, mapped: pl.DataFrame, live: Path, now: datetime,
               process=None, lap=None, bar=None, verify_key: bool = True):
    """Names resolved, every row validated and transformed: (context, the rows a load writes,
    the rows it quarantines). Writes nothing: the 数据管理 page's dry run (etl/dry_run.py)
    calls it on a read-only connection (verify_key=False: the key check records a first key)."""
    spilled = _too_many_fields(raw)  # a shifted row: no field of it can be trusted
    if spilled.height:
        mapped = mapped.filter(~pl.col(LINE).is_in(spilled[LINE].implode()))
    ctx = _context(con, kind, now, verify_key)
    ctx.path = live
    ctx.values = county_values.merged(live)  # the county's own words beside the warehouse
    mapped = area_names.resolve(mapped, con.sql("SELECT code, name, level, parent_code FROM area").pl())
    if kind == "event_log":
        ctx.process = process
        ctx.attributes = event_log.attributes(raw.frame, prof.match(raw.frame.columns))
    checked = validate(mapped, KINDS[kind], ctx)
    _progress(lap, bar, "validate")
    rows, more_bad = transforms.TRANSFORMS[kind](checked.good, ctx)
    bad = pl.concat([checked.bad, more_bad, spilled], how="diagonal_relaxed")
    _progress(lap, bar, "transform")
    return ctx, rows, bad


def _progress(lap, bar, step: str) -> None:
    if lap is not None:
        lap(step)
    if bar is not None:
        bar.update()


class _Lap:
    """Wall and CPU seconds per step (CPU time tells the steps apart on a busy machine)."""

    def __init__(self, res: LoadResult):
        self.res, self.t, self.c = res, time.perf_counter(), time.process_time()

    def __call__(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.res.stages[name] = round(now - self.t, 3)
        self.res.cpu[name] = round(cpu - self.c, 3)
        self.t, self.c = now, cpu


# reasons a row fails for because something it refers to is not (yet) in the warehouse: loading
# the missing areas or cases can make the same file load differently, so it is not skipped
REFERENCE_REASONS = ("unknown_area", "unknown_parent", "unknown_case", "unknown_area_name", "ambiguous_area",
                     "unknown_case_type")


def _already_loaded(con, sha: str, kind: str) -> bool:
    """The same file was loaded fully ok the last time: outcome ok, or partial with every
    quarantined row bad in itself (a bad date stays bad) and none for a reference reason (that
    run's quarantine rows are kept until the file is judged again)."""
    last = con.sql("SELECT run_id, outcome FROM etl_run WHERE sha256 = ? AND kind = ? AND outcome IN "
                   "('ok', 'partial') ORDER BY started_at DESC LIMIT 1", params=[sha, kind]).fetchall()
    if not last:
        return False
    run_id, outcome = last[0]
    return outcome == "ok" or not con.sql(
        "SELECT count(*) FROM quarantine WHERE run_id = ? AND list_contains(?, reason_key)",
        params=[run_id, list(REFERENCE_REASONS)]).fetchall()[0][0]


def duplicate_headers(raw: RawTable, prof) -> None:
    """Two columns with the same header (after normalising): refused when the profile maps that
    header, since the file does not say which column is meant; else noted in the run's message."""
    cols = [c for c in raw.frame.columns if c != LINE]
    headers = raw.headers if len(raw.headers) == len(cols) else cols
    groups: dict[str, list[int]] = {}
    for i, h in enumerate(headers):
        if profiles.normalise_header(h):
            groups.setdefault(profiles.normalise_header(h), []).append(i)
    dups = [g for g in groups.values() if len(g) > 1]
    if not dups:
        return
    used = {h: f for f, h in prof.match(cols).items()}
    for g in dups:
        fields = [used[cols[i]] for i in g if cols[i] in used]
        if fields:
            raise FileNotLoadable(
                f"表头重复 duplicate header {headers[g[0]]!r} in columns {', '.join(str(i + 1) for i in g)}: "
                f"the file does not say which one holds {fields[0]}; rename or delete one and load again")
    raw.notes.append("duplicate headers, not loaded: " + "; ".join(
        f"{headers[g[0]]} (columns {', '.join(str(i + 1) for i in g)})" for g in dups))


def _too_many_fields(raw: RawTable) -> pl.DataFrame:
    """Rows with more fields than the header, as bad rows (see etl.readers.read_csv_text)."""
    return pl.DataFrame({LINE: raw.too_many_fields, "column_name": "extra_fields",
                         "reason_key": "too_many_fields"},
                        schema={LINE: pl.Int64, "column_name": pl.Utf8, "reason_key": pl.Utf8})


def _message(e: BaseException, live: Path) -> str:
    """The error as a clerk reads it: a full disk names the space needed."""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        try:
            need = live.stat().st_size / 2**20
            free = shutil.disk_usage(live.parent).free / 2**20
            room = f" (a load needs room for a copy of the warehouse: {need:.0f} MB; free {free:.0f} MB)"
        except OSError:
            room = ""
        return f"磁盘已满 disk full while writing beside {live}{room}: nothing was loaded"
    if isinstance(e, MemoryError):
        return "out of memory reading the file: nothing was loaded"
    if isinstance(e, OSError):
        return f"{type(e).__name__}: {e}: nothing was loaded"
    return str(e)


def _context(con, kind: str, now: datetime, verify_key: bool = True) -> LoadContext:
    ctx = LoadContext(now=now, key=hash_key(), con=con)
    if verify_key:
        check_warehouse_key(con, ctx.key)
    ctx.area_codes = con.sql("SELECT code FROM area").pl()["code"]
    if kind in ("case_events", "event_log"):
        ctx.case_ids = con.sql("SELECT case_id FROM cases").pl()["case_id"]
    if kind in ("cases", "event_log"):
        ctx.case_types = con.sql("SELECT case_type, category, deadline_hours::BIGINT AS deadline_hours "
                                 "FROM case_type").pl()
    return ctx


# the tables a load of each kind writes (its marts are refreshed: see warehouse.marts)
CHANGES = {kind: {spec.table} for kind, spec in KINDS.items()}
CHANGES["cases"] |= {"case_type", "case_event"}
CHANGES["case_events"] |= {"cases"}
CHANGES["event_log"] |= {"cases", "case_type", "process_stage"}


def _write(con, kind: str, rows: pl.DataFrame, ctx: LoadContext) -> tuple[int, int]:
    """Upsert rows by the kind's key; returns (new rows, replaced rows)."""
    spec = KINDS[kind]
    cols = [c for c in rows.columns if c != LINE]
    table_cols = {r[0] for r in con.sql(f"DESCRIBE {spec.table}").fetchall()}
    frame = rows.select([c for c in cols if c in table_cols])
    if frame.is_empty():
        return 0, 0
    # in key order: DuckDB maintains a primary-key index several times faster for sorted keys
    # than for scattered ones; a table without one is written in the order that clusters it
    order = schema.UNKEYED.get(spec.table, spec.key)
    if not is_sorted_by(frame, order):
        frame = frame.sort(list(order))
    con.register("_rows", frame.to_arrow())
    try:
        on = " AND ".join(f"t.{k} = r.{k}" for k in spec.key)
        updated = con.sql(f"SELECT count(*) FROM {spec.table} t JOIN _rows r ON {on}").fetchall()[0][0]
        if kind in ("case_events", "event_log"):
            # the file is the whole log of each case it names: replace those logs
            con.execute("DELETE FROM case_event WHERE case_id IN (SELECT DISTINCT case_id FROM _rows)")
        elif updated:
            con.execute(f"DELETE FROM {spec.table} t USING _rows r WHERE {on}")
        if kind == "cases":
            # only cases that already had a log can end up with step times other than the
            # file's: re-derive those below; a new case's log is exactly its file row, built
            # and written while the cases themselves are inserted on a second connection
            # (unique by construction: the file's case ids are, and none had a log)
            had_log = con.sql("SELECT DISTINCT case_id FROM case_event WHERE case_id IN "
                              "(SELECT case_id FROM _rows)").pl()["case_id"]
            fresh = frame.filter(~pl.col("case_id").is_in(had_log.implode()))
            with _alongside(con, "INSERT INTO cases BY NAME SELECT * FROM _rows", _rows=frame):
                if fresh.height:
                    con.register("_log", case_sync.new_logs(fresh).to_arrow())
                    con.execute("INSERT INTO case_event BY NAME SELECT * FROM _log")
                    con.unregister("_log")
        else:
            con.execute(f"INSERT INTO {spec.table} BY NAME SELECT * FROM _rows")
            if spec.table in schema.UNKEYED:  # a repeat holds a written key (logs were replaced whole)
                keys.check_unique(con, spec.table, spec.key, keys.written(spec.key))
        if kind == "cases" and ctx.new_case_types is not None and ctx.new_case_types.height:
            con.register("_types", ctx.new_case_types.to_arrow())
            con.execute("INSERT INTO case_type BY NAME SELECT * FROM _types")
            con.unregister("_types")
        if kind == "cases":
            if had_log.len():
                con.register("_had_log_frame", had_log.to_frame().to_arrow())
                con.execute("CREATE OR REPLACE TEMP TABLE _had_log AS SELECT case_id FROM _had_log_frame")
                case_sync.append_missing_steps(con, "_had_log")
                keys.check_unique(con, "case_event", ("case_id", "seq"),
                                  "case_id IN (SELECT case_id FROM _had_log)")
                case_sync.rederive(con, "_had_log")
                con.execute("DROP TABLE _had_log")
                con.unregister("_had_log_frame")
        if kind == "event_log":
            event_log.write(con, ctx)
        if kind in ("case_events", "event_log"):
            con.execute("CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT case_id FROM _rows")
            case_sync.rederive(con, counts_too=True)
            con.execute("DROP TABLE _touched")
    finally:
        con.unregister("_rows")
    return frame.height - updated, updated


@contextlib.contextmanager
def _alongside(con, sql: str, **frames: pl.DataFrame):
    """Run one statement on a second connection to the same (private) database while the
    body runs: DuckDB appends to different tables concurrently, and both release the GIL.
    An error or Ctrl-C in the body interrupts the statement; its error is raised here."""
    cur = con.cursor()
    for name, frame in frames.items():
        cur.register(name, frame.to_arrow())
    failed: list[BaseException] = []

    def run():
        try:
            cur.execute(sql)
        except BaseException as e:  # handed to the caller's thread
            failed.append(e)

    worker = threading.Thread(target=run, name="load-alongside")
    worker.start()
    try:
        yield
    except BaseException:
        cur.interrupt()
        raise
    finally:
        worker.join()
        cur.close()
    if failed:
        raise failed[0]


SENSITIVE = {"id_number": transforms.mask_id, "petitioner_id": transforms.mask_id, "name": transforms.mask_name, "reporter": transforms.mask_name,
             "author": transforms.mask_name, "phone": transforms.mask_phone,
             # with the ID's region and last 4 beside it, a birth date rebuilds the ID: year only
             "birth_month": lambda h: pl.col(h).str.slice(0, 4) + pl.lit("-**-**")}
CODE_FIELDS = ("area_code", "parent_code", "code", "case_id", "household_key", "post_id", "ssra_id",
               "response_id", "author_hash", "seq")
# free-text fields: phone and ID numbers in them are masked at load (etl/scrub.py)
FREE_TEXT = ("description", "content", "place_text", "project_name", "outcome")


def scrub_free_text(mapped: pl.DataFrame) -> pl.DataFrame:
    return mapped.with_columns(scrub_expr(pl.col(c)).alias(c) for c in FREE_TEXT
                               if mapped.schema.get(c) == pl.Utf8)


def _quarantine(con, res: LoadResult, raw: RawTable, bad: pl.DataFrame, now: datetime,
                mapping: dict[str, str]) -> None:
    """Bad rows with the raw row as JSON: only the columns the profile maps (an unmapped column
    may hold anything: a guardian's ID, a phone in 备注), ID numbers, names, phones and birth
    dates masked, and phone or ID numbers in any other value masked too."""
    if bad.is_empty():
        return
    res.quarantined = dict(sorted(bad.group_by("reason_key").len().iter_rows(), key=lambda kv: -kv[1]))
    mapped_headers = set(mapping.values())
    originals = [c for c in raw.frame.columns if c != LINE and c in mapped_headers]
    rows = raw.frame.join(bad.select(LINE), on=LINE, how="semi").select(
        LINE, *[pl.col(c).cast(pl.Utf8) for c in originals])
    # codes keep their digits (a 15-digit grid code looks like an old 15-digit ID number)
    masked = {h for f, h in mapping.items() if (f in SENSITIVE or f in CODE_FIELDS) and h in originals}
    rows = rows.with_columns(
        *[SENSITIVE[f](h).alias(h) for f, h in mapping.items() if f in SENSITIVE and h in originals],
        *[scrub_expr(pl.col(h)).alias(h) for h in originals if h not in masked])
    if not originals:
        rows = rows.with_columns(pl.lit(None, pl.Utf8).alias("_"))
        originals = ["_"]
    raw_json = rows.select(
        LINE, pl.struct(originals).struct.json_encode().alias("raw_row"))
    q = (bad.join(raw_json, on=LINE, how="left").sort(LINE).select(
        pl.lit(res.run_id).alias("run_id"), pl.lit(res.file).alias("file_name"),
        pl.col(LINE).alias("line_no"), "column_name", "reason_key", reasons_zh(bad).alias("reason_zh"),
        pl.col("raw_row").fill_null("{}"), pl.lit(now).alias("created_at")))
    con.register("_q", q.to_arrow())
    con.execute("INSERT INTO quarantine BY NAME SELECT * FROM _q")
    con.unregister("_q")


def reasons_zh(bad: pl.DataFrame) -> pl.Expr:
    """Every reason of a row in Chinese, each with its column: 日期无法识别（reported_at）；…"""
    if "reasons" not in bad.columns:
        return pl.col("reason_key").replace_strict({k: reason_zh(k) for k in bad["reason_key"].unique()},
                                                   return_dtype=pl.Utf8)
    listed = pl.coalesce("reasons", pl.col("reason_key") + pl.lit(SEP) + pl.col("column_name").fill_null(""))
    keys = {k.split(SEP)[0] for v in bad["reasons"].drop_nulls() for k in v.split(RSEP)} | set(bad["reason_key"])
    zh = {k: reason_zh(k) for k in keys}
    return listed.str.split(RSEP).list.eval(
        pl.element().str.split(SEP).list.first().replace_strict(zh, default=pl.element(), return_dtype=pl.Utf8)
        + pl.lit("（") + pl.element().str.split(SEP).list.get(1, null_on_oob=True).fill_null("") + pl.lit("）")
    ).list.join("；")


def _describe(raw: RawTable, prof) -> str:
    parts = [f"profile={prof.name}", f"encoding={raw.encoding}"]
    if raw.delimiter:
        parts.append(f"delimiter={raw.delimiter!r}")
    if raw.sheet:
        parts.append(f"sheet={raw.sheet}")
    if raw.header_line > 1:
        parts.append(f"header on line {raw.header_line}")
    return "; ".join(parts + raw.notes)


def _record_run(con, res: LoadResult, started: datetime, t0: float) -> None:
    res.seconds = round(time.perf_counter() - t0, 3)
    con.execute(
        "INSERT INTO etl_run (run_id, kind, domain, file_name, sha256, started_at, finished_at, rows_read, "
        "rows_loaded, rows_updated, rows_quarantined, outcome, run_by, seconds, message) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [res.run_id, res.kind, KINDS[res.kind].domain, res.file, res.sha256, started, datetime.now(),
         res.rows_read, res.loaded, res.updated, res.quarantined_total, res.outcome, _user(),
         res.seconds, res.message[:2000]])


def _record_failure(live: Path, res: LoadResult, started: datetime, t0: float) -> None:
    """A file that could not be loaded still leaves a trace in etl_run (nothing else changes).
    When even that cannot be written (a full disk has no room for the warehouse's copy), the
    record waits in a small journal beside it, folded into etl_run by the next load."""
    try:
        with db.writing(live) as con:
            _record_run(con, res, started, t0)
    except Exception:  # recording must never hide the original problem
        res.seconds = round(time.perf_counter() - t0, 3)
        row = {"run_id": res.run_id, "kind": res.kind, "domain": KINDS[res.kind].domain, "file_name": res.file,
               "sha256": res.sha256, "started_at": started.isoformat(), "finished_at": datetime.now().isoformat(),
               "rows_read": res.rows_read, "outcome": res.outcome, "run_by": _user(), "seconds": res.seconds,
               "message": res.message[:2000]}
        with contextlib.suppress(OSError):
            fd = os.open(_journal(live), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _journal(live: Path) -> Path:
    return live.with_name(live.name + ".failed_runs.jsonl")


def _fold_failed_runs(con, live: Path) -> None:
    """Journaled failure records into etl_run (the journal is pruned once this copy is swapped
    in: _prune_journal)."""
    path = _journal(live)
    if not path.exists():
        return
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    present = {r[0] for r in con.execute("SELECT run_id FROM etl_run WHERE list_contains(?, run_id)",
                                         [[r["run_id"] for r in rows]]).fetchall()}
    pending = [r for r in rows if r["run_id"] not in present]
    for r in pending:
        con.execute("INSERT INTO etl_run (run_id, kind, domain, file_name, sha256, started_at, finished_at, "
                    "rows_read, outcome, run_by, seconds, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    [r["run_id"], r["kind"], r["domain"], r["file_name"], r["sha256"], r["started_at"],
                     r["finished_at"], r["rows_read"], r["outcome"], r["run_by"], r["seconds"], r["message"]])


def _prune_journal(live: Path) -> None:
    """Drop journaled records the live warehouse now holds (after a swap)."""
    path = _journal(live)
    if not path.exists():
        return
    with contextlib.suppress(OSError, duckdb.Error, ValueError):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        con = duckdb.connect(str(live), read_only=True)
        try:
            present = {r[0] for r in con.execute("SELECT run_id FROM etl_run WHERE list_contains(?, run_id)",
                                                 [[r["run_id"] for r in rows]]).fetchall()}
        finally:
            con.close()
        pending = [r for r in rows if r["run_id"] not in present]
        if not pending:
            path.unlink()
        elif len(pending) < len(rows):
            tmp = path.with_name(path.name + ".new")
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in pending), encoding="utf-8")
            os.replace(tmp, path)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"
