"""Areas by name: rows that name their town / village instead of giving a code.

A 12345 export often has 所属街道 / 所属社区 and no grid code. Names are compared by their
stem: full name or short name, with or without the suffix a system adds (黎城街道 = 黎城,
临河社区 = 临河居委会 = 临河社区居民委员会). A village is looked for inside the named town
when the town is found, else in the whole county. Ambiguity is a quarantine reason
(ambiguous_area), not a guess; a name found nowhere is unknown_area_name. A row that has a
code keeps it: names only fill a missing area_code.
"""

from __future__ import annotations

import polars as pl

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


def resolve(frame: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """Fill area_code from town_name / village_name where it is missing; rows whose names do
    not resolve to exactly one area get __area_reason and __area_column (see etl.rules)."""
    names = [c for c in ("town_name", "village_name") if c in frame.columns]
    if not names:
        return frame
    for c in ("town_name", "village_name"):
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Utf8).alias(c))
    areas = areas.with_columns(stem(pl.col("name")).alias("key"))
    towns = (areas.filter(pl.col("level") == "town").group_by("key")
             .agg(pl.col("code").first().alias("__town"), pl.len().alias("__tn")))
    villages = areas.filter(pl.col("level") == "village")
    v_any = villages.group_by("key").agg(pl.col("code").first().alias("__v_any"), pl.len().alias("__vn"))
    v_in = (villages.group_by("key", "parent_code")
            .agg(pl.col("code").first().alias("__v_in"), pl.len().alias("__vin")))
    text = {c: pl.col(c).str.strip_chars() for c in ("town_name", "village_name")}
    f = frame.with_columns(
        pl.when(text["town_name"].str.len_chars() > 0).then(stem(text["town_name"])).alias("__tkey"),
        pl.when(text["village_name"].str.len_chars() > 0).then(stem(text["village_name"])).alias("__vkey"))
    f = (f.join(towns, left_on="__tkey", right_on="key", how="left")
         .join(v_any, left_on="__vkey", right_on="key", how="left")
         .join(v_in, left_on=["__vkey", "__town"], right_on=["key", "parent_code"], how="left"))
    town_ok, town_named = (pl.col("__tn") == 1).fill_null(False), pl.col("__tkey").is_not_null()
    has_village = pl.col("__vkey").is_not_null()
    in_town = town_ok & has_village
    village = (pl.when(in_town).then(pl.when(pl.col("__vin") == 1).then(pl.col("__v_in")))
               .when(has_village).then(pl.when(pl.col("__vn") == 1).then(pl.col("__v_any"))))
    found = pl.when(has_village).then(village).when(town_ok).then(pl.col("__town"))
    village_reason = (pl.when(in_town & (pl.col("__vin") > 1)).then(pl.lit("ambiguous_area"))
                      .when(in_town & pl.col("__vin").is_null()).then(pl.lit("unknown_area_name"))
                      .when(~in_town & (pl.col("__vn") > 1)).then(pl.lit("ambiguous_area"))
                      .when(~in_town & pl.col("__vn").is_null()).then(pl.lit("unknown_area_name")))
    town_reason = (pl.when(pl.col("__tn") > 1).then(pl.lit("ambiguous_area"))
                   .when(town_named & pl.col("__tn").is_null()).then(pl.lit("unknown_area_name")))
    reason = pl.when(has_village).then(village_reason).otherwise(town_reason)
    column = pl.when(has_village & village_reason.is_not_null()).then(pl.lit("village_name")) \
        .otherwise(pl.lit("town_name"))
    code = pl.col("area_code").str.strip_chars() if "area_code" in f.columns else pl.lit(None, pl.Utf8)
    need = (code.is_null() | (code.str.len_chars() == 0)) & (has_village | town_named)
    f = f.with_columns(
        pl.when(need).then(found).otherwise(code).alias("area_code"),
        pl.when(need).then(reason).alias(AREA_REASON),
        pl.when(need & reason.is_not_null()).then(column).alias(AREA_COLUMN))
    return f.drop("__tkey", "__vkey", "__town", "__tn", "__v_any", "__vn", "__v_in", "__vin")
