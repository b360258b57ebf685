"""Mapping profiles: which of a file's (Chinese) headers feeds which field.

etl/profiles/<name>.yaml (built in) and <profile dir>/<name>.yaml (saved by a county):
    name: grid_cases
    kind: cases
    description: 网格化服务管理平台 · 事件导出
    columns: {case_id: [事件编号, 事件ID], ...}   # field → headers seen in the wild
    defaults: {source_channel: 12345}              # constant for a field the file lacks
    skip: [satisfaction]                           # saved: fields deliberately fed by no column

Headers are picked per column, not per profile: every field of a kind accepts the headers of
all its profiles, compared after normalising (NFKC full-width → half-width, no spaces, no
required-marks, and, failing that, without bracketed units such as "面积（平方公里）"). A
file mixing two systems' headers (工单编号 with 事件类型 and 上报时间) therefore loads. The
defaults come from the profiles the file has a header of that no other profile of the kind
has (a 工单编号 column means 12345, so its channel default applies). An explicit mapping
(`--map 工单编号=case_id`) or a named profile wins over the automatic one, field by field.

Saved profiles live outside the package, in $ETL_PROFILE_DIR or the `profiles` directory
beside the warehouse file (see profile_dir).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from etl.readers import LINE
from etl.rules.kinds import KINDS
from warehouse import yamlfile

PROFILE_DIR = Path(__file__).with_name("profiles")
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")",
                           "<": "(", ">": ")", "《": "(", "》": ")", "：": ":"})
_UNITS = re.compile(r"\([^()]*\)|/(?:元|人|户|个|件|次|天|小时|km2|平方公里)$")


def normalise_header(h: str) -> str:
    """Header text as compared: half-width (NFKC), no spaces, ASCII brackets, no
    required-marks (*, (必填)), lower case."""
    h = unicodedata.normalize("NFKC", str(h)).lstrip("\ufeff").translate(_BRACKETS).strip()
    h = re.sub(r"\(必填\)|\(选填\)|^\*+|\*+$", "", h)
    return re.sub(r"\s+", "", h).lower()


def loose_header(h: str) -> str:
    """normalise_header without bracketed parts and unit suffixes: 面积(平方公里) → 面积."""
    n = normalise_header(h)
    return _UNITS.sub("", n) or n


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str
    description: str
    columns: dict[str, list[str]]
    defaults: dict[str, str] = field(default_factory=dict)
    explicit: dict[str, str | None] = field(default_factory=dict)  # field → the file's exact header (None: none)
    skip: tuple[str, ...] = ()  # fields a saved mapping loads from no column (chosen so on the data page)

    def match(self, headers: list[str]) -> dict[str, str]:
        """field → the file's header that feeds it: explicit choices first, then for each field
        its aliases compared exactly (normalised), then loosely; a header feeds one field."""
        headers = [h for h in headers if h != LINE]
        out = {f: h for f, h in self.explicit.items() if h is not None and h in headers}
        used = set(out.values())
        for compare in (normalise_header, loose_header):
            by_norm: dict[str, str] = {}
            for h in headers:
                by_norm.setdefault(compare(h), h)
            for fld, aliases in self.columns.items():
                if fld in out or fld in self.explicit:  # chosen by hand, perhaps as "no column"
                    continue
                for a in [fld, *aliases]:
                    h = by_norm.get(compare(a))
                    if h is not None and h not in used:
                        out[fld] = h
                        used.add(h)
                        break
        return out


class MissingColumns(ValueError):
    """Required columns absent: names what is missing and what the file has; nothing loads."""

    def __init__(self, profile: Profile, missing: list[str], found: list[str]):
        self.missing, self.found, self.profile = missing, found, profile
        want = "; ".join(f"{m} ({' / '.join(profile.columns.get(m, [])[:3]) or m})" for m in missing)
        super().__init__(f"缺少必需列 missing required columns for {profile.kind} "
                         f"(profile {profile.name}): {want}. 文件中的列 found: {', '.join(found) or '(none)'}. "
                         f"可用 --map 表头=字段 指定 (e.g. --map {found[0] if found else '表头'}={missing[0]})")


def profile_dir(warehouse=None) -> Path:
    """Where a county's saved profiles live: $ETL_PROFILE_DIR, else `profiles/` beside the
    warehouse file (outside the package, so an upgrade keeps them)."""
    if os.environ.get("ETL_PROFILE_DIR"):
        return Path(os.environ["ETL_PROFILE_DIR"]).expanduser()
    from warehouse import db

    return db.db_path(warehouse).parent / "profiles"


def _read_profile(f: Path) -> Profile:
    d = yamlfile.read(f)
    p = Profile(str(d["name"]), d["kind"], d.get("description", ""),
                {k: [str(a) for a in (v if isinstance(v, list) else [v])] for k, v in d["columns"].items()},
                {k: str(v) for k, v in (d.get("defaults") or {}).items()}, skip=tuple(d.get("skip") or ()))
    if p.kind not in KINDS:
        raise ValueError(f"{f}: unknown kind {p.kind!r}")
    unknown = (set(p.columns) | set(p.skip)) - {x.name for x in KINDS[p.kind].fields}
    if unknown:
        raise ValueError(f"{f}: fields not in kind {p.kind}: {sorted(unknown)}")
    return p


@cache
def _builtin() -> dict[str, Profile]:
    return {p.name: p for p in map(_read_profile, sorted(PROFILE_DIR.glob("*.yaml")))}


def all_profiles(user_dir: Path | None = None) -> dict[str, Profile]:
    """Built-in profiles plus the saved ones in `user_dir` (a saved one wins on the same name)."""
    out = dict(_builtin())
    if user_dir is not None and Path(user_dir).is_dir():
        out.update({p.name: p for p in map(_read_profile, sorted(Path(user_dir).glob("*.yaml")))})
    return out


def union(kind: str, user_dir: Path | None = None) -> Profile:
    """One profile whose every field accepts the headers of all the kind's profiles."""
    cols: dict[str, list[str]] = {f.name: [] for f in KINDS[kind].fields}
    for p in all_profiles(user_dir).values():
        if p.kind == kind:
            for fld, aliases in p.columns.items():
                cols[fld] += [a for a in aliases if a not in cols[fld]]
    return Profile("auto", kind, "all known headers", {f: a for f, a in cols.items() if a or f})


def known_headers(kind: str | None = None, user_dir: Path | None = None) -> set[str]:
    """Every normalised header the profiles know (finds the header row under title rows)."""
    return {normalise_header(a) for p in all_profiles(user_dir).values() if kind in (None, p.kind)
            for fld, aliases in p.columns.items() for a in [fld, *aliases]}


def parse_map(text: str | None, kind: str) -> dict[str, str]:
    """'工单编号=case_id,事件类型=case_type' → {field: header}; unknown fields are an error."""
    if not text:
        return {}
    names = {f.name for f in KINDS[kind].fields}
    out = {}
    for part in re.split(r"[,，]", text):
        if not part.strip():
            continue
        header, sep, fld = part.rpartition("=")
        if not sep or not header.strip():
            raise ValueError(f"--map expects 表头=字段 pairs, got {part!r}")
        fld = fld.strip()
        if fld not in names:
            raise ValueError(f"--map: {fld!r} is not a field of {kind}; fields: {', '.join(sorted(names))}")
        out[fld] = header.strip()
    return out


def pick(kind: str, headers: list[str], name: str | None = None, mapping: dict[str, str] | None = None,
         user_dir: Path | None = None) -> Profile:
    """The profile a file is read with: the union of the kind's headers, with a named
    profile's headers and then `mapping` (field → header; None: no column feeds the field,
    as chosen on the 数据管理 page) taking precedence."""
    profiles = all_profiles(user_dir)
    headers = [h for h in headers if h != LINE]
    auto = union(kind, user_dir)
    if not [p for p in profiles.values() if p.kind == kind]:
        raise ValueError(f"no profile for kind {kind!r}")
    explicit: dict[str, str | None] = {}
    by_norm = {normalise_header(h): h for h in headers}
    for fld, h in (mapping or {}).items():
        if h is None:
            explicit[fld] = None
            continue
        found = h if h in headers else by_norm.get(normalise_header(h))
        if found is None:
            raise ValueError(f"--map: no column {h!r} in the file; columns: {', '.join(headers)}")
        explicit[fld] = found
    if name:
        if name not in profiles:
            raise ValueError(f"no profile {name!r}; profiles: {', '.join(sorted(profiles))}")
        chosen = profiles[name]
        if chosen.kind != kind:
            raise ValueError(f"profile {name!r} is for kind {chosen.kind}, not {kind}")
        named = {**chosen.match(headers), **dict.fromkeys(chosen.skip)}
        return Profile(chosen.name, kind, chosen.description, auto.columns, chosen.defaults,
                       {**named, **explicit})
    label, defaults = _sources(kind, headers, profiles)
    if explicit:
        label = "+".join([label, "map"]) if label else "map"
    return Profile(label or "auto", kind, auto.description, auto.columns, defaults, explicit)


def _sources(kind: str, headers: list[str], profiles: dict[str, Profile]) -> tuple[str, dict[str, str]]:
    """Name and defaults from the profiles the file resembles: those with a header no other
    profile of the kind has, else the one matching most headers."""
    own = [p for p in profiles.values() if p.kind == kind]
    norm = {normalise_header(h) for h in headers}

    def names(p: Profile) -> set[str]:
        return {normalise_header(a) for fld, aliases in p.columns.items() for a in [fld, *aliases]}

    hits = {p.name: len(names(p) & norm) for p in own}
    distinctive = [p for p in own
                   if names(p) & norm - set().union(*[names(q) for q in own if q is not p])]
    chosen = sorted(distinctive, key=lambda p: -hits[p.name]) or \
        [max(own, key=lambda p: (hits[p.name], -len(p.columns)))]
    defaults: dict[str, str] = {}
    for p in reversed(chosen):
        defaults.update(p.defaults)
    return "+".join(p.name for p in chosen), defaults


def apply(profile: Profile, frame: pl.DataFrame) -> pl.DataFrame:
    """Rename the file's columns to field names; missing required fields raise MissingColumns."""
    headers = [c for c in frame.columns if c != LINE]
    mapping = profile.match(headers)
    spec = KINDS[profile.kind]
    missing = [f for f in spec.required if f not in mapping and f not in profile.defaults
               and not _derivable(profile.kind, f, mapping)]
    if missing:
        raise MissingColumns(profile, missing, headers)
    out = frame.select(LINE, *[pl.col(h).alias(f) for f, h in mapping.items()])
    return out.with_columns(pl.lit(v, pl.Utf8).alias(f) for f, v in profile.defaults.items()
                            if f not in mapping)


def _derivable(kind: str, fld: str, mapping: dict[str, str]) -> bool:
    """A required field the loader can fill from other columns (an area from town/village names)."""
    return fld == "area_code" and bool({"town_name", "village_name", "grid_name"} & set(mapping))


def save(profile: Profile, headers: list[str], name: str, user_dir: Path, description: str = "") -> Path:
    """Write the mapping this file was read with as a named profile (one header per field)."""
    user_dir = Path(user_dir)
    if not re.fullmatch(r"[\w\-]+", name):
        raise ValueError(f"profile name {name!r}: letters, digits, _ and - only")
    user_dir.mkdir(parents=True, exist_ok=True)
    mapping = profile.match(headers)
    doc = {"name": name, "kind": profile.kind, "description": description or f"saved mapping ({profile.name})",
           "columns": {f: [h] for f, h in mapping.items()}}
    skip = [f for f, h in profile.explicit.items() if h is None]
    if skip:  # left without a column on purpose: not matched automatically next time either
        doc["skip"] = skip
    if profile.defaults:
        doc["defaults"] = {f: v for f, v in profile.defaults.items() if f not in mapping}
    path = user_dir / f"{name}.yaml"
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path
