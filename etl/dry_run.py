"""The mapping step of the 数据管理 page, without the page: read an uploaded file, suggest a
column for each field, preview the first rows, try the load without writing, save the mapping
as a named profile, load.

The dry run goes through the loader's own steps (etl.load.check_rows: the same profile pick,
name resolution, county value words, validation and transforms) on a read-only connection,
so the rows it lists are the rows the load quarantines. Shown values are masked as the
quarantine masks them (ID numbers, names, phones; phone or ID numbers inside other text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from etl import load, profiles
from etl.readers import LINE, RawTable, read_file
from etl.rules.kinds import KINDS
from warehouse import db
from warehouse.scrub import scrub_expr

PREVIEW_ROWS = 5


def read(path: str | Path, kind: str, warehouse=None, sheet: str | None = None) -> RawTable:
    """The file as the loader reads it (encoding, header row under titles, XLSX sheet)."""
    user_dir = profiles.profile_dir(db.db_path(warehouse))
    return read_file(path, sheet=sheet, known=profiles.known_headers(kind, user_dir))


def headers(raw: RawTable) -> list[str]:
    return [c for c in raw.frame.columns if c != LINE]


def fields(kind: str) -> list[tuple[str, bool]]:
    """(field, required) in the kind's order; a required area may come from names instead."""
    return [(f.name, f.required) for f in KINDS[kind].fields]


def suggest(raw: RawTable, kind: str, warehouse=None, profile: str | None = None) -> dict[str, str]:
    """field → header as the loader would pick it (per column, all known synonyms, or a saved
    profile's headers first)."""
    user_dir = profiles.profile_dir(db.db_path(warehouse))
    return profiles.pick(kind, raw.frame.columns, profile, None, user_dir).match(raw.frame.columns)


def saved_profiles(kind: str, warehouse=None) -> list[str]:
    """Names of the profiles saved beside the warehouse for this kind."""
    user_dir = profiles.profile_dir(db.db_path(warehouse))
    builtin = set(profiles.all_profiles(None))
    return sorted(n for n, p in profiles.all_profiles(user_dir).items() if p.kind == kind and n not in builtin)


def _masked(frame: pl.DataFrame, mapping: dict[str, str | None]) -> pl.DataFrame:
    cols = [c for c in frame.columns if c != LINE]
    sensitive = {h: load.SENSITIVE[f] for f, h in mapping.items() if h in cols and f in load.SENSITIVE}
    codes = {h for f, h in mapping.items() if h in cols and f in load.CODE_FIELDS}
    return frame.with_columns(
        *[fn(h).alias(h) for h, fn in sensitive.items()],
        *[scrub_expr(pl.col(h).cast(pl.Utf8)).alias(h) for h in cols if h not in sensitive and h not in codes])


def preview(raw: RawTable, mapping: dict[str, str | None], n: int = PREVIEW_ROWS) -> pl.DataFrame:
    """The first n rows as read (line number first), sensitive columns masked."""
    return _masked(raw.frame.head(n), mapping).rename({LINE: "line"})


@dataclass
class DryRun:
    rows_read: int
    would_load: int = 0
    missing: list[str] = field(default_factory=list)  # required fields no column feeds
    bad: pl.DataFrame = field(default_factory=pl.DataFrame)  # line, columns, reason_key, reasons_zh, the row
    message: str = ""

    @property
    def quarantined(self) -> int:
        return self.bad.height


def dry_run(raw: RawTable, kind: str, mapping: dict[str, str | None], warehouse=None,
            now: datetime | None = None) -> DryRun:
    """What loading the file with this mapping would do; nothing is written anywhere."""
    live = db.db_path(warehouse)
    user_dir = profiles.profile_dir(live)
    res = DryRun(rows_read=raw.frame.height)
    try:
        prof = profiles.pick(kind, raw.frame.columns, None, mapping, user_dir)
        load.duplicate_headers(raw, prof)  # refused as the load refuses it (a ValueError)
        mapped = load.scrub_free_text(profiles.apply(prof, raw.frame))
    except profiles.MissingColumns as e:
        res.missing, res.message = e.missing, str(e)
        return res
    except ValueError as e:
        res.message = str(e)
        return res
    con = db.reader(live)
    try:
        _, rows, bad = load.check_rows(con, kind, raw, prof, mapped, live, now or datetime.now(),
                                       verify_key=False)
    finally:
        con.close()
    used = prof.match(raw.frame.columns)
    res.would_load = rows.height
    if bad.height:
        shown = _masked(raw.frame.join(bad.select(LINE), on=LINE, how="semi")
                        .select(LINE, *[h for h in headers(raw) if h in used.values()]), used)
        res.bad = (bad.select(LINE, "column_name", "reason_key", load.reasons_zh(bad).alias("reasons_zh"))
                   .join(shown, on=LINE, how="left").sort(LINE).rename({LINE: "line"}))
    return res


def save_profile(raw: RawTable, kind: str, mapping: dict[str, str | None], name: str, warehouse=None) -> Path:
    """The mapping as profile `name` beside the warehouse (where --save-profile writes)."""
    user_dir = profiles.profile_dir(db.db_path(warehouse))
    prof = profiles.pick(kind, raw.frame.columns, None, mapping, user_dir)
    return profiles.save(prof, raw.frame.columns, name, user_dir, description="数据管理页保存的表头对应")


def load_upload(path: str | Path, kind: str, mapping: dict[str, str | None], warehouse=None,
                sheet: str | None = None) -> load.LoadResult:
    """Load the file with this mapping (the same loader as `python -m etl load`)."""
    return load.load_file(path, kind, warehouse, sheet=sheet, mapping=mapping)
