"""Mapping profiles: one YAML per source shape maps a file's (Chinese) headers to fields.

etl/profiles/<name>.yaml:
    name: grid_cases
    kind: cases
    description: 网格化服务管理平台 · 事件导出
    columns: {case_id: [事件编号, 事件ID], ...}   # field → headers seen in the wild
    defaults: {source_channel: 12345}              # constant for a field the file lacks

Without --profile, the profile of the kind whose headers match the file best is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl

from etl.readers import LINE
from etl.rules.kinds import KINDS
from warehouse import yamlfile

PROFILE_DIR = Path(__file__).with_name("profiles")
_BRACKETS = str.maketrans({"（": "(", "）": ")", "：": ":", "　": " "})


def normalise_header(h: str) -> str:
    """Header text as compared: no spaces, ASCII brackets, no required-marks (*, (必填))."""
    h = str(h).translate(_BRACKETS).strip().lstrip("\ufeff")
    h = re.sub(r"\(必填\)|\(选填\)|^\*|\*$", "", h)
    return re.sub(r"\s+", "", h).lower()


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str
    description: str
    columns: dict[str, list[str]]
    defaults: dict[str, str] = field(default_factory=dict)

    def match(self, headers: list[str]) -> dict[str, str]:
        """field → the file's header that feeds it (first alias present wins)."""
        by_norm = {normalise_header(h): h for h in headers}
        out = {}
        for fld, aliases in self.columns.items():
            for a in [fld, *aliases]:
                if normalise_header(a) in by_norm:
                    out[fld] = by_norm[normalise_header(a)]
                    break
        return out


class MissingColumns(ValueError):
    """Required columns absent: names what is missing and what the file has; nothing loads."""

    def __init__(self, profile: Profile, missing: list[str], found: list[str]):
        self.missing, self.found, self.profile = missing, found, profile
        want = "; ".join(f"{m} ({' / '.join(profile.columns.get(m, [])[:3]) or m})" for m in missing)
        super().__init__(f"缺少必需列 missing required columns for {profile.kind} "
                         f"(profile {profile.name}): {want}. 文件中的列 found: {', '.join(found) or '(none)'}")


@cache
def all_profiles() -> dict[str, Profile]:
    out = {}
    for f in sorted(PROFILE_DIR.glob("*.yaml")):
        d = yamlfile.read(f)
        p = Profile(d["name"], d["kind"], d.get("description", ""),
                    {k: [str(a) for a in v] for k, v in d["columns"].items()},
                    {k: str(v) for k, v in (d.get("defaults") or {}).items()})
        if p.kind not in KINDS:
            raise ValueError(f"{f.name}: unknown kind {p.kind!r}")
        unknown = set(p.columns) - {x.name for x in KINDS[p.kind].fields}
        if unknown:
            raise ValueError(f"{f.name}: fields not in kind {p.kind}: {sorted(unknown)}")
        out[p.name] = p
    return out


def known_headers(kind: str | None = None) -> set[str]:
    """Every normalised header the profiles know (finds the header row under title rows)."""
    return {normalise_header(a) for p in all_profiles().values() if kind in (None, p.kind)
            for fld, aliases in p.columns.items() for a in [fld, *aliases]}


def pick(kind: str, headers: list[str], name: str | None = None) -> Profile:
    profiles = all_profiles()
    if name:
        if name not in profiles:
            raise ValueError(f"no profile {name!r}; profiles: {', '.join(sorted(profiles))}")
        if profiles[name].kind != kind:
            raise ValueError(f"profile {name!r} is for kind {profiles[name].kind}, not {kind}")
        return profiles[name]
    candidates = [p for p in profiles.values() if p.kind == kind]
    if not candidates:
        raise ValueError(f"no profile for kind {kind!r}")
    return max(candidates, key=lambda p: (len(p.match(headers)), -len(p.columns)))


def apply(profile: Profile, frame: pl.DataFrame) -> pl.DataFrame:
    """Rename the file's columns to field names; missing required fields raise MissingColumns."""
    headers = [c for c in frame.columns if c != LINE]
    mapping = profile.match(headers)
    spec = KINDS[profile.kind]
    missing = [f for f in spec.required if f not in mapping and f not in profile.defaults]
    if missing:
        raise MissingColumns(profile, missing, headers)
    out = frame.select(LINE, *[pl.col(h).alias(f) for f, h in mapping.items()])
    return out.with_columns(pl.lit(v, pl.Utf8).alias(f) for f, v in profile.defaults.items()
                            if f not in mapping)
