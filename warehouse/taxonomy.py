"""Case-type taxonomy as data (warehouse/taxonomy.yaml): a county's categories → the
analytic classes every metric counts (矛盾纠纷, 治安隐患, 安全生产 …).

The loader maps each case's category through it (etl.transforms.cases); the report and the
risk drivers count classes and the accident/hazard type lists from here, never fixed names.
A county adds its own words in `taxonomy.yaml` beside the warehouse ($CASE_TAXONOMY wins),
merged over the built-in table.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import polars as pl

from warehouse import db, yamlfile

BUILTIN = Path(__file__).with_name("taxonomy.yaml")


def _county_file(path=None) -> Path:
    if os.environ.get("CASE_TAXONOMY"):
        return Path(os.environ["CASE_TAXONOMY"]).expanduser()
    return db.db_path(path).parent / "taxonomy.yaml"


@cache
def _read(files: tuple[tuple[str, int], ...]) -> dict:
    """The tables merged in order (keyed by path and mtime: an edited county file is re-read)."""
    out: dict = {"classes": {}, "accidents": [], "hazards": []}
    for f, _ in files:
        d = yamlfile.read(f) or {}
        for cls, words in (d.get("classes") or {}).items():
            out["classes"].setdefault(str(cls), [])
            out["classes"][str(cls)] += [str(w) for w in words or []]
        for k in ("accidents", "hazards"):
            out[k] += [str(w) for w in d.get(k) or []]
    return out


def table(path=None) -> dict:
    files = [BUILTIN] + ([_county_file(path)] if _county_file(path).exists() else [])
    return _read(tuple((str(f), f.stat().st_mtime_ns) for f in files))


def classes(path=None) -> list[str]:
    return list(table(path)["classes"])


def class_of(path=None) -> dict[str, str]:
    """Every known word (and each class's own name) → its class."""
    out = {}
    for cls, words in table(path)["classes"].items():
        out[cls] = cls
        for w in words:
            out.setdefault(w, cls)
    return out


def _in(col: str, words: list[str]) -> str:
    return f"({col} IN ({', '.join(repr(w) for w in words)}))" if words else "FALSE"


def accident_sql(path=None) -> str:
    return _in("case_type", table(path)["accidents"])


def hazard_sql(path=None) -> str:
    return _in("case_type", table(path)["hazards"])


def class_expr(col: str, path=None) -> pl.Expr:
    """The class a column's words belong to (null for words listed nowhere)."""
    return pl.col(col).replace_strict(class_of(path), default=None, return_dtype=pl.Utf8)


def map_categories(df: pl.DataFrame, path=None) -> pl.DataFrame:
    """category := the class of the category where it has one, else as written."""
    return df.with_columns(pl.coalesce(class_expr("category", path), pl.col("category")).alias("category"))


def unmapped(path=None) -> pl.DataFrame:
    """Categories in the loaded cases that are no analytic class: category, cases."""
    return db.query("SELECT category, count(*) AS cases FROM cases WHERE NOT list_contains(?, category) "
                    "GROUP BY category ORDER BY cases DESC, category", [classes(path)], path)


def data_note(path=None) -> str | None:
    """The report's sentence on cases its classes do not count (None when there are none)."""
    u = unmapped(path)
    if u.is_empty():
        return None
    listed = "、".join(f"{c}（{n}件）" for c, n in u.head(8).iter_rows())
    more = f"等{u.height}类" if u.height > 8 else ""
    return (f"数据说明：以下事件类别未对应到分析类别（矛盾纠纷、治安隐患、安全生产等），未计入各专项统计："
            f"{listed}{more}。可在分类对照表（taxonomy.yaml）中补充。")
