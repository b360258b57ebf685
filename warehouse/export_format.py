"""A dataset dressed for people: headers and values in Chinese (or English), numbers rounded
to what they mean, times to the minute, and the lines that say what the file is (title,
filters, as-of, source). The column catalogue is data: warehouse/export_columns.yaml.

`present()` returns a Sheet; warehouse.files writes it as CSV or XLSX (one writer, formula
escaping included). Null cells stay null, so suppressed special-group cells stay empty and
the `suppressed` column keeps naming them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import polars as pl

from warehouse import yamlfile

CATALOGUE = Path(__file__).with_name("export_columns.yaml")
LANGS = ("zh", "en")
SOURCE = {"zh": "来源：社会治理联动指挥平台数据仓库", "en": "Source: social-governance command warehouse"}
WORDS = {
    "zh": {"area": "区域", "period": "期间", "to": "至", "as_of": "数据截至", "exported": "导出时间",
           "dataset": "数据集", "rows": "行数", "all": "全部", "yes": "是", "no": "否", "sep": "；", "colon": "："},
    "en": {"area": "Area", "period": "Period", "to": "to", "as_of": "Data as of", "exported": "Exported",
           "dataset": "dataset", "rows": "rows", "all": "all", "yes": "yes", "no": "no", "sep": "; ", "colon": ": "},
}
HEADER_ROW = 5  # 0-based row of the header in both files: title, filters, as-of, source, blank


@dataclass
class Sheet:
    frame: pl.DataFrame
    title: str
    lines: list[str]  # filters, as-of, source (one line each, under the title)
    formats: dict[str, str] = field(default_factory=dict)  # presented column -> format
    sheet_name: str = "data"


@lru_cache(maxsize=1)
def catalogue() -> dict:
    return yamlfile.read(CATALOGUE)


def title_of(name: str, lang: str = "zh") -> str:
    """The dataset's title; a page download named '<dataset>_<suffix>' takes the longest
    dataset name it starts with."""
    titles = catalogue()["titles"]
    best = _dataset_of(name, titles)
    if best is None:
        return name
    suffix = name[len(best) + 1:]
    return titles[best][lang] + (f"（{suffix}）" if suffix and lang == "zh" else f" ({suffix})" if suffix else "")


def _dataset_of(name: str, table: dict) -> str | None:
    """The longest dataset name in `table` that `name` is or starts with ('<dataset>_<suffix>')."""
    return max((k for k in table if name == k or name.startswith(k + "_")), key=len, default=None)


def spec_of(col: str, dataset: str | None = None) -> dict | None:
    """A column's entry: the dataset's own (dataset_columns) before the shared one."""
    own = catalogue().get("dataset_columns") or {}
    best = _dataset_of(dataset, own) if dataset else None
    return (own[best].get(col) if best else None) or catalogue()["columns"].get(col)


def header(col: str, lang: str = "zh", dataset: str | None = None) -> tuple[str, str]:
    """(header text with its unit, format) of a column; unknown columns keep their name."""
    spec = spec_of(col, dataset)
    if spec is None:
        for prefix, pat in catalogue()["prefixes"].items():
            base = catalogue()["columns"].get(col[len(prefix):]) if col.startswith(prefix) else None
            if base:
                return pat[lang].format(header(col[len(prefix):], lang)[0]), pat.get("format", "")
        return col, ""
    fmt = spec.get("format", "text")
    unit = spec.get("unit") or {"pct": "pct", "hours": "hours"}.get(fmt)
    text = spec[lang]
    if unit:
        u = catalogue()["units"][unit][lang]
        text += f"（{u}）" if lang == "zh" else f" ({u})"
    return text, fmt


def _sheet_name(title: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", title)[:31] or "data"


def present(df: pl.DataFrame, name: str, lang: str = "zh", filters: dict[str, str] | None = None,
            as_of: datetime | None = None, exported: datetime | None = None) -> Sheet:
    """The frame as people read it, with its title lines."""
    lang = lang if lang in LANGS else "zh"
    w = WORDS[lang]
    cat = catalogue()
    exprs, names, formats = [], {}, {}
    for col, dt in df.schema.items():
        text, fmt = header(col, lang, name)
        e = pl.col(col)
        vmap = (spec_of(col, name) or {}).get("values")
        if vmap and dt == pl.Utf8:
            mapping = {k: v[lang] for k, v in cat["values"][vmap].items()}
            e = e.replace(mapping)
        elif dt == pl.Boolean or fmt == "bool":
            e = pl.when(e.cast(pl.Boolean)).then(pl.lit(w["yes"])).when(e.is_not_null()).then(pl.lit(w["no"]))
            fmt = "text"
        elif dt.is_numeric():
            if fmt == "pct":
                e = (e.cast(pl.Float64) * 100).round(1)
            elif fmt in ("hours", "num1"):
                e = e.cast(pl.Float64).round(1)
                fmt = "num1"
            elif fmt == "int":
                e = e.round(0).cast(pl.Int64) if dt.is_float() else e.cast(pl.Int64)
            elif dt.is_float():
                e = e.round(2)
                fmt = fmt if fmt in ("num2",) else "num2"
            else:
                fmt = "int"
        elif isinstance(dt, pl.Datetime):
            e = e.dt.replace_time_zone(None).dt.truncate("1m") if dt.time_zone else e.dt.truncate("1m")
            fmt = "dt" if fmt not in ("date", "month") else fmt
            if fmt in ("date", "month"):
                e = e.dt.date()
        elif dt == pl.Date:
            fmt = fmt if fmt in ("month",) else "date"
        else:
            fmt = "text"
        # two columns may share a header (code / area_code): keep both, the second marked
        while text in names.values():
            text += "·"
        names[col] = text
        formats[text] = fmt
        exprs.append(e.alias(text))
    frame = df.select(exprs) if exprs else df
    title = title_of(name, lang)
    lines = []
    if filters:
        lines.append(w["sep"].join(f"{k}{w['colon']}{v}" for k, v in filters.items() if v))
    stamp = f"{w['exported']}{w['colon']}{(exported or datetime.now()):%Y-%m-%d %H:%M}"
    lines.append((f"{w['as_of']}{w['colon']}{as_of:%Y-%m-%d %H:%M}{w['sep']}" if as_of else "") + stamp)
    lines.append(f"{SOURCE[lang]}（{w['dataset']} {name}，{w['rows']} {df.height}）" if lang == "zh"
                 else f"{SOURCE[lang]} ({w['dataset']} {name}, {df.height} {w['rows']})")
    while len(lines) < 3:
        lines.append("")
    return Sheet(frame, title, lines[:3], formats, _sheet_name(title))


def filters_text(area_name: str | None, start: date | None, end: date | None, lang: str = "zh",
                 period_label: str | None = None) -> dict[str, str]:
    """The filter line's parts: area and period ('all' when unset)."""
    w = WORDS[lang]
    out = {w["area"]: area_name or w["all"]}
    if period_label:
        out[w["period"]] = period_label
    elif start or end:
        out[w["period"]] = f"{start or '…'} {w['to']} {end or '…'}"
    else:
        out[w["period"]] = w["all"]
    return out
