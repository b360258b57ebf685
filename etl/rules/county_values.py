"""A county's own value words, merged over the package's etl/rules/values.yaml.

The file is `values.yaml` beside the warehouse ($ETL_VALUES wins), in the package file's
shape; every section is optional and only adds words:

    channels: {"12345": [政务服务便民热线, 一企来]}     # words → one of the seven channels
    satisfaction: {不满意: [差评]}
    blank: {satisfaction: [未反馈]}                     # per field: "not given"
    true_words: [已办]
    false_words: [未办]
    duration_units: {workdays: [工作天]}
    enums: {residence_type: {流动: [外地户籍]}}         # any other choice field, by field name

A canonical value must be one the warehouse already has (a new channel would be a new
metric, not a new word): an unknown one refuses the load naming the file and the word.
"""

from __future__ import annotations

import copy
import os
from dataclasses import replace
from functools import cache
from pathlib import Path

from etl.rules.kinds import KINDS, VALUES, KindSpec
from warehouse import yamlfile

FILE_NAME = "values.yaml"
# enum fields whose words live in a named section of values.yaml
SECTION_OF = {"source_channel": "channels", "satisfaction": "satisfaction", "grid_satisfaction": "satisfaction"}
DURATION_KINDS = ("hours", "days", "workdays")


class BadValuesFile(ValueError):
    """The county's values.yaml names something the warehouse does not have."""


def county_file(warehouse=None) -> Path:
    """$ETL_VALUES, else values.yaml beside the warehouse file."""
    if os.environ.get("ETL_VALUES"):
        return Path(os.environ["ETL_VALUES"]).expanduser()
    from warehouse import db

    return db.db_path(warehouse).parent / FILE_NAME


def enum_fields() -> dict[str, set[str]]:
    """Every choice field of every kind → its canonical values."""
    out: dict[str, set[str]] = {}
    for spec in KINDS.values():
        for f in spec.fields:
            if f.values:
                out.setdefault(f.name, set()).update(f.values.values())
    return out


def merged(warehouse=None) -> dict:
    """The package's words plus the county's (no county file: the package's alone)."""
    f = county_file(warehouse)
    if not f.is_file():
        return VALUES
    return _merge(str(f), f.stat().st_mtime_ns)


@cache
def _merge(path: str, _mtime: int) -> dict:
    try:
        extra = yamlfile.read(path) or {}
    except Exception as e:  # a YAML syntax error: name the file, refuse the load
        raise BadValuesFile(f"{path}: not readable as YAML: {e}") from e
    if not isinstance(extra, dict):
        raise BadValuesFile(f"{path}: expected sections such as channels:, satisfaction:, blank:")
    out = copy.deepcopy(VALUES)
    out.setdefault("enums", {})
    known = enum_fields()
    allowed = {"channels", "satisfaction", "blank", "true_words", "false_words", "duration_units", "enums"}
    unknown = set(extra) - allowed
    if unknown:
        raise BadValuesFile(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; "
                            f"allowed: {', '.join(sorted(allowed))}")
    for section, canon in (("channels", known["source_channel"]), ("satisfaction", known["satisfaction"])):
        _add_groups(out[section], extra.get(section), canon, f"{path}: {section}")
    for fld, words in (extra.get("blank") or {}).items():
        if not any(fld in {x.name for x in s.fields} for s in KINDS.values()):
            raise BadValuesFile(f"{path}: blank: {fld!r} is not a field of any kind")
        out["blank"].setdefault(fld, [])
        out["blank"][fld] += [str(w) for w in _as_list(words)]
    for section in ("true_words", "false_words"):
        out[section] = [*out[section], *[str(w) for w in _as_list(extra.get(section))]]
    _add_groups(out["duration_units"], extra.get("duration_units"), set(DURATION_KINDS), f"{path}: duration_units")
    for fld, groups in (extra.get("enums") or {}).items():
        if fld not in known:
            raise BadValuesFile(f"{path}: enums: {fld!r} is not a choice field; choice fields: "
                                f"{', '.join(sorted(known))}")
        _add_groups(out["enums"].setdefault(fld, {}), groups, known[fld], f"{path}: enums: {fld}")
    return out


def _as_list(v) -> list:
    return [] if v is None else list(v) if isinstance(v, list | tuple) else [v]


def _add_groups(into: dict, groups, canonical: set[str], where: str) -> None:
    for canon, words in (groups or {}).items():
        if str(canon) not in canonical:
            raise BadValuesFile(f"{where}: {canon!r} is not one of {', '.join(sorted(canonical))}")
        key = next(k for k in [*into, canon] if str(k) == str(canon))
        into[key] = [*into.get(key, []), *[str(w) for w in _as_list(words)]]


def with_words(spec: KindSpec, values: dict) -> KindSpec:
    """The kind's spec with the county's words added to its choice fields."""
    if values is VALUES:
        return spec
    fields = []
    for f in spec.fields:
        if f.values:
            words = dict(f.values)
            groups = values.get(SECTION_OF[f.name]) if f.name in SECTION_OF else {}
            for groups_ in (groups, (values.get("enums") or {}).get(f.name) or {}):
                for canon, ws in groups_.items():
                    words.update({str(w): str(canon) for w in ws})
            f = replace(f, values=words)
        fields.append(f)
    return replace(spec, fields=tuple(fields))
