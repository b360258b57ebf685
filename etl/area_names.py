"""Areas by name: rows that name their town / village instead of giving a code.

A 12345 export often has 所属街道 / 所属社区 and no grid code; a residents file may name its
网格 (城南社区第一网格, or 第一网格 under its 社区). Names are compared by their
stem: full name or short name, with or without the suffix a system adds (黎城街道 = 黎城,
临河社区 = 临河居委会 = 临河社区居民委员会). A village is looked for inside the named town
when the town is found, else in the whole county. Ambiguity is a quarantine reason
(ambiguous_area), not a guess; a name found nowhere is unknown_area_name. A row that has a
code keeps it: names only fill a missing area_code.
"""

from __future__ import annotations

import polars as pl

from etl.readers import LINE
from etl.rules.engine import AREA_COLUMN, AREA_REASON

# longest first: the first that ends the name is removed (one suffix only)
SUFFIXES = ("社区居民委员会", "居民委员会", "村民委员会", "社区居委会", "街道办事处", "办事处", "居委会", "村委会",
            "管委会", "社区", "街道", "村", "镇", "乡", "居")


def stem(name: pl.Expr) -> pl.Expr:
    """Name without spaces and its administrative suffix (kept whole if that leaves < 2 chars)."""
    s = name.str.replace_all(r"\s+", "").str.replace_all(r"[（(].*?[)）]", "")
    pattern = "(" + "|".join(SUFFIXES) + ")$"
    cut = s.str.replace(pattern, "")
    return pl.when(cut.str.len_chars() >= 2).then(cut).otherwise(s)


NAME_COLUMNS = ("town_name", "village_name", "grid_name")  # coarse to fine
_LEVEL = {"town_name": "town", "village_name": "village", "grid_name": "grid"}


def _candidates(areas: pl.DataFrame, level: str) -> pl.DataFrame:
    """key → code of one level. A grid is also found by its name without its village's
    (城南社区第一网格 = 第一网格 inside 城南社区)."""
    own = areas.filter(pl.col("level") == level).select(stem(pl.col("name")).alias("key"), "code")
    if level != "grid":
        return own
    parents = areas.select(pl.col("code").alias("parent_code"), pl.col("name").alias("__parent"))
    short = (areas.filter(pl.col("level") == "grid").join(parents, on="parent_code", how="left")
             .filter(pl.col("__parent").is_not_null() & pl.col("name").str.starts_with(pl.col("__parent")))
             .select(stem(pl.col("name").str.slice(pl.col("__parent").str.len_chars())).alias("key"), "code"))
    return pl.concat([own, short]).filter(pl.col("key").str.len_chars() > 0).unique()


def resolve(frame: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """Fill area_code from town_name / village_name / grid_name where it is missing; rows whose
    names do not resolve to exactly one area get __area_reason and __area_column (see
    etl.rules). Each level is looked for inside the finer-most level above it that resolved
    (a village inside its town, a grid inside its village), else in the whole county; the
    finest level a row names decides its area."""
    names = [c for c in NAME_COLUMNS if c in frame.columns]
    if not names:
        return frame
    f = frame.with_columns(
        pl.when(pl.col(c).str.strip_chars().str.len_chars() > 0).then(stem(pl.col(c).str.strip_chars()))
        .alias(f"__key_{c}") for c in names)
    scope = pl.lit(None, pl.Utf8)
    code, reason, column = pl.lit(None, pl.Utf8), pl.lit(None, pl.Utf8), pl.lit(None, pl.Utf8)
    for c in names:
        found = (f.select(LINE, f"__key_{c}", scope.alias("__scope")).drop_nulls(f"__key_{c}")
                 .join(_candidates(areas, _LEVEL[c]), left_on=f"__key_{c}", right_on="key", how="inner")
                 .filter(pl.col("__scope").is_null() | pl.col("code").str.starts_with(pl.col("__scope")))
                 .group_by(LINE).agg(pl.col("code").first().alias(f"__code_{c}"),
                                     pl.col("code").n_unique().alias(f"__n_{c}")))
        f = f.join(found, on=LINE, how="left")
        one = pl.col(f"__n_{c}") == 1
        named = pl.col(f"__key_{c}").is_not_null()
        scope = pl.when(one).then(pl.col(f"__code_{c}")).otherwise(scope)
        # the finest level named decides: it overrides what coarser levels found
        code = pl.when(named).then(pl.when(one).then(pl.col(f"__code_{c}"))).otherwise(code)
        reason = pl.when(named).then(
            pl.when(pl.col(f"__n_{c}") > 1).then(pl.lit("ambiguous_area"))
            .when(pl.col(f"__n_{c}").is_null()).then(pl.lit("unknown_area_name"))).otherwise(reason)
        column = pl.when(named).then(pl.lit(c)).otherwise(column)
    given = pl.col("area_code").str.strip_chars() if "area_code" in f.columns else pl.lit(None, pl.Utf8)
    named_any = pl.any_horizontal([pl.col(f"__key_{c}").is_not_null() for c in names])
    need = (given.is_null() | (given.str.len_chars() == 0)) & named_any
    f = f.with_columns(
        pl.when(need).then(code).otherwise(given).alias("area_code"),
        pl.when(need).then(reason).alias(AREA_REASON),
        pl.when(need & reason.is_not_null()).then(column).alias(AREA_COLUMN))
    return f.drop([x for c in names for x in (f"__key_{c}", f"__code_{c}", f"__n_{c}")])
