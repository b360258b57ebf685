"""Validated fields → warehouse rows: hash IDs, mask names/phones, derive what a file omits.

Each transform returns (rows for the table, extra bad rows) — a few checks need the
warehouse (case types) and so happen here rather than in etl.rules.
"""

from __future__ import annotations

import hashlib
import importlib.util

import duckdb
import polars as pl

from etl.readers import LINE
from warehouse import taxonomy

EMPTY_BAD = pl.DataFrame(schema={LINE: pl.Int64, "column_name": pl.Utf8, "reason_key": pl.Utf8})


def mask_name(col: str) -> pl.Expr:
    """Vectorised etl.identity.mask_name: 张三 → 张*, 欧阳娜娜 → 欧**娜 (already masked stays)."""
    s = pl.col(col).str.strip_chars()
    n = s.str.len_chars()
    return (pl.when(n.is_null() | (n == 0)).then(None)
            .when(n <= 2).then(s.str.slice(0, 1) + pl.lit("*"))
            .otherwise(s.str.slice(0, 1) + s.str.slice(1, n - 2).str.replace_all(".", "*")
                       + s.str.slice(-1, 1)))


def mask_phone(col: str) -> pl.Expr:
    """Vectorised etl.identity.mask_phone: 13812345678 → 138****5678, else last 4 only."""
    d = pl.col(col).str.replace_all(r"[^\d*]", "")
    n = d.str.len_chars()
    return (pl.when(n.is_null() | (n == 0)).then(None)
            .when(n == 11).then(d.str.slice(0, 3) + pl.lit("****") + d.str.slice(7, 4))
            .otherwise(d.str.slice(0, pl.max_horizontal(n - 4, 0)).str.replace_all(".", "*")
                       + d.str.slice(-4, 4)))


def mask_id(col: str) -> pl.Expr:
    """ID number as shown in quarantine: region code and last 4 kept (320813********123X)."""
    s = pl.col(col).str.strip_chars()
    n = s.str.len_chars()
    stars = s.str.replace_all(".", "*")
    return (pl.when(n.is_null() | (n == 0)).then(None).when(n <= 10).then(stars)
            .otherwise(s.str.slice(0, 6) + stars.str.slice(0, n - 10) + s.str.slice(-4, 4)))


def hmac_hex(values: pl.Series, key: bytes, length: int | None = None) -> pl.Series:
    """HMAC-SHA256 hex of each value's UTF-8 bytes (None stays None), the same as
    hmac.new(key, v.encode(), sha256).hexdigest()[:length], computed by DuckDB's vectorised
    sha256 from the RFC 2104 construction H(K^opad || H(K^ipad || m)): ~2× less CPU than a
    Python loop over millions of ID numbers."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    ipad, opad = bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
    digest = "sha256(?::BLOB || unhex(sha256(?::BLOB || encode(v))))"
    if length is not None:
        digest = f"left({digest}, {int(length)})"
    con = duckdb.connect()  # in memory; rows come back in input order (insertion order kept)
    try:
        con.register("_ids", values.rename("v").cast(pl.Utf8).to_frame().to_arrow())
        out = con.sql(f"SELECT {digest} AS h FROM _ids", params=[opad, ipad]).pl()["h"]
    finally:
        con.close()
    return out.rename(values.name).cast(pl.Utf8)


def _drop_input_only(df: pl.DataFrame, *cols: str) -> pl.DataFrame:
    return df.drop([c for c in cols if c in df.columns])


def areas(df: pl.DataFrame, ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = pl.col("code").str.len_chars()
    level = pl.when(n == 6).then(pl.lit("county")).when(n == 9).then(pl.lit("town")) \
        .when(n == 12).then(pl.lit("village")).otherwise(pl.lit("grid"))
    parent = pl.when(n == 15).then(pl.col("code").str.slice(0, 12)).when(n == 12) \
        .then(pl.col("code").str.slice(0, 9)).when(n == 9).then(pl.col("code").str.slice(0, 6))
    df = df.with_columns(
        (pl.coalesce("level", level) if "level" in df.columns else level).alias("level"),
        (pl.coalesce("parent_code", parent) if "parent_code" in df.columns else parent).alias("parent_code"))
    return df, EMPTY_BAD


def persons(df: pl.DataFrame, ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    idn = pl.col("id_number")
    sex = pl.when(idn.str.slice(16, 1).cast(pl.Int32) % 2 == 1).then(pl.lit("M")).otherwise(pl.lit("F"))
    birth = idn.str.slice(6, 6).str.strptime(pl.Date, "%Y%m", strict=False)
    df = df.with_columns(hmac_hex(df["id_number"], ctx.key).alias("person_key"))
    df = df.with_columns(
        (pl.coalesce("sex", sex) if "sex" in df.columns else sex).alias("sex"),
        (pl.coalesce(pl.col("birth_month").dt.truncate("1mo"), birth)
         if "birth_month" in df.columns else birth).alias("birth_month"),
        (pl.coalesce("household_key", "person_key") if "household_key" in df.columns
         else pl.col("person_key")).alias("household_key"),
        pl.lit(ctx.now).alias("updated_at"),
    )
    if "name" in df.columns:
        df = df.with_columns(mask_name("name").alias("name_masked"))
    if "phone" in df.columns:
        df = df.with_columns(mask_phone("phone").alias("phone_masked"))
    flags = [c for c in ("is_corrections", "is_released", "is_mental", "is_drug", "is_youth", "lives_alone",
                         "is_dibao", "is_disabled", "is_left_behind") if c in df.columns]
    df = df.with_columns(pl.col(c).fill_null(False) for c in flags)
    return _drop_input_only(df, "id_number", "name", "phone"), EMPTY_BAD


def cases(df: pl.DataFrame, ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Category and deadline from the case-type catalogue when the file lacks them; types the
    catalogue lacks are registered from the file (deadline = the file's own time limit)."""
    if "reporter" in df.columns:
        df = df.with_columns(mask_name("reporter").alias("reporter_masked"))
    if "phone" in df.columns:
        df = df.with_columns(mask_phone("phone").alias("phone_masked"))
    if "category" not in df.columns:
        df = df.with_columns(pl.lit(None, pl.Utf8).alias("category"))
    # the county's 大类/小类 → the analytic class every metric counts (warehouse/taxonomy.yaml)
    df = taxonomy.map_categories(df, getattr(ctx, "path", None))
    for c in ("category", "deadline_at"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, pl.Datetime("us") if c == "deadline_at" else pl.Utf8).alias(c))
    hours = ((pl.col("deadline_at") - pl.col("reported_at")).dt.total_minutes() / 60).round(0).cast(pl.Int64)
    from_file = (df.filter(pl.col("deadline_at").is_not_null() & pl.col("category").is_not_null())
                 .group_by("case_type").agg(pl.col("category").mode().first(),
                                            hours.mode().first().alias("deadline_hours"))
                 .filter(pl.col("deadline_hours") > 0))
    catalogue = pl.concat([ctx.case_types, from_file.filter(~pl.col("case_type").is_in(
        ctx.case_types["case_type"].implode()))], how="vertical_relaxed")
    df = df.join(catalogue.rename({"category": "_cat", "deadline_hours": "_hours"}), on="case_type", how="left")
    df = df.with_columns(
        # the file's class, else what the catalogue says of the type, else the type's class
        pl.coalesce("category", "_cat", taxonomy.class_expr("case_type", getattr(ctx, "path", None))).alias("category"),
        pl.coalesce("deadline_at", pl.col("reported_at") + pl.duration(hours=pl.col("_hours"))).alias("deadline_at"),
        pl.lit(ctx.now).alias("updated_at"))
    unknown = pl.col("category").is_null() | pl.col("deadline_at").is_null()
    bad = df.filter(unknown).select(LINE, pl.lit("case_type").alias("column_name"),
                                    pl.lit("unknown_case_type").alias("reason_key"))
    df = df.filter(~unknown)
    steps = [("reported_at", "reported"), ("accepted_at", "accepted"), ("dispatched_at", "dispatched"),
             ("handled_at", "handled"), ("verified_at", "verified"), ("closed_at", "closed")]
    status = pl.lit("reported")
    for col, name in steps[1:]:
        if col in df.columns:
            status = pl.when(pl.col(col).is_not_null()).then(pl.lit(name)).otherwise(status)
    df = df.with_columns(status.alias("status"))  # provisional: etl.case_sync re-derives it from the log
    new_types = catalogue.filter(~pl.col("case_type").is_in(ctx.case_types["case_type"].implode())
                                 & pl.col("case_type").is_in(df["case_type"].implode()))
    ctx.new_case_types = new_types.select("case_type", "category", pl.col("deadline_hours").cast(pl.Int32))
    for c in ("returned_count",):
        if c in df.columns:
            df = df.with_columns(pl.col(c).fill_null(0))
    for c in ("escalated", "is_collective"):
        if c in df.columns:
            df = df.with_columns(pl.col(c).fill_null(False))
    return _drop_input_only(df, "reporter", "phone", "_cat", "_hours"), bad


def case_events(df: pl.DataFrame, ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    from warehouse import process

    return process.with_default_activity(df.with_columns(pl.col("seq").cast(pl.Int32))), EMPTY_BAD


def opinion(df: pl.DataFrame, ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    if "author" in df.columns:
        hashed = hmac_hex(df["author"], ctx.key, 16)
        df = df.with_columns((pl.coalesce("author_hash", hashed) if "author_hash" in df.columns
                              else hashed).alias("author_hash"))
    if "engagement" in df.columns:
        df = df.with_columns(pl.col("engagement").fill_null(0))
    df = _drop_input_only(df, "author")
    df = enrich_opinion(df, ctx)
    return df, EMPTY_BAD


def enrich_opinion(df: pl.DataFrame, ctx) -> pl.DataFrame:
    """Rows without sentiment go through etl.opinion.enrich.enrich_posts (sentiment, topic,
    keywords, linked place) when that module exists; otherwise columns load as given."""
    if importlib.util.find_spec("etl.opinion") is None:
        return df
    try:
        from etl.opinion.enrich import enrich_posts
    except ImportError:
        return df
    if "sentiment" not in df.columns:
        df = df.with_columns(pl.lit(None, pl.Utf8).alias("sentiment"))
    lacking = df.filter(pl.col("sentiment").is_null())
    if lacking.is_empty() or ctx.con is None:
        return df
    from etl.opinion.gazetteer import build_gazetteer, load_landmarks

    areas = ctx.con.sql("SELECT code, name, level, parent_code, lon, lat FROM area").pl()
    counties = areas.filter(pl.col("level") == "county")["code"].to_list()
    own = ctx.path.parent / "landmarks.csv" if getattr(ctx, "path", None) else None  # the county's own
    enriched = enrich_posts(lacking, build_gazetteer(areas, load_landmarks(counties, own)))
    # the place a post names is kept whether or not the file had place columns
    keep = [c for c in enriched.columns if c in df.columns
            or c in ("sentiment_score", "keywords", "topic", "place_text", "area_code", "lon", "lat")]
    return pl.concat([df.filter(pl.col("sentiment").is_not_null()), enriched.select(keep)],
                     how="diagonal_relaxed").sort(LINE)


def petitions(df: pl.DataFrame, ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The petitioner's ID as a keyed hash (repeat petitions are counted by it, never shown); an
    outcome needs its date and an open item has none (the table's CHECK), else the row is bad."""
    if "petitioner_id" in df.columns:
        df = df.with_columns(hmac_hex(df["petitioner_id"], ctx.key).alias("petitioner_key"))
    if "settled_at" not in df.columns:
        df = df.with_columns(pl.lit(None, pl.Datetime("us")).alias("settled_at"))
    df = df.with_columns(pl.col(c).fill_null(False) for c in ("irregular", "collective") if c in df.columns)
    is_open = pl.col("status").is_in(["办理中", "正在化解"])
    wrong = ((is_open != pl.col("settled_at").is_null())
             | (pl.col("settled_at") < pl.col("received_at")).fill_null(False))
    bad = df.filter(wrong).select(LINE, pl.lit("settled_at").alias("column_name"),
                                  pl.lit("bad_settled_at").alias("reason_key"))
    return _drop_input_only(df.filter(~wrong), "petitioner_id"), bad


def passthrough(df: pl.DataFrame, ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    return df, EMPTY_BAD


TRANSFORMS = {"areas": areas, "grid_staff": passthrough, "persons": persons, "cases": cases,
              "case_events": case_events, "opinion": opinion, "ssra": passthrough, "surveys": passthrough,
              "petitions": petitions,
              "event_log": lambda df, ctx: _event_log().transform(df, ctx)}


def _event_log():
    from etl import event_log

    return event_log
