"""A bare event log (`python -m etl load --kind event_log FILE --process PROCESS.yaml`).

One row per event: a case id, the county's own activity name and a timestamp (XES column
names case:concept:name, concept:name, time:timestamp are mapped like any other header;
etl/profiles/event_log.yaml). Columns the profile does not map are kept per event as a JSON
object (case_event.attributes). The process definition (warehouse/process.py) maps each
activity to a stage or side event; activities it does not name are kept with stage NULL and
listed (load output, data page), never quarantined.

Events are numbered per case in time order (ties in file order), as process-mining tools
order a log, so variants and transitions equal theirs. The file is the whole log of each
case it names: that case's log is replaced. A case the warehouse lacks is created from its
log: reported at its first event, area unknown ('' unless the log gives a grid code), type
and channel from the log's columns or the definition (case_type, source_channel,
deadline_hours), category 未分类 for a type the catalogue lacks.
"""

from __future__ import annotations

import polars as pl

from etl.readers import LINE
from warehouse import process

UNKNOWN_TYPE = "未分类"


def attributes(raw: pl.DataFrame, mapped: dict[str, str]) -> pl.DataFrame:
    """LINE → JSON object of the file's columns the profile did not map (None when none)."""
    extra = [c for c in raw.columns if c != LINE and c not in set(mapped.values())]
    if not extra:
        return raw.select(LINE, pl.lit(None, pl.Utf8).alias("attributes"))
    return raw.select(LINE, pl.struct(extra).struct.json_encode().alias("attributes"))


def transform(df: pl.DataFrame, ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validated rows → case_event rows (seq by time, stage by the definition); the cases the
    warehouse lacks go to ctx.new_cases, their type to ctx.new_case_types."""
    from etl.transforms import EMPTY_BAD

    definition: process.Definition = ctx.process
    if ctx.attributes is not None:
        df = df.join(ctx.attributes, on=LINE, how="left")
    for c in ("unit", "outcome", "case_type", "source_channel", "area_code", "attributes"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, pl.Utf8).alias(c))
    df = df.sort("case_id", "occurred_at", LINE).with_columns(
        (pl.int_range(pl.len()).over("case_id") + 1).cast(pl.Int32).alias("seq"),
        pl.col("activity").replace_strict(definition.stages, default=None, return_dtype=pl.Utf8).alias("step"),
        pl.lit(definition.name).alias("process"))
    ctx.activities = df["activity"].unique().to_list()
    new = df.filter(~pl.col("case_id").is_in(ctx.case_ids.implode()))
    ctx.new_cases = _new_cases(new, definition, ctx)
    events = df.select(LINE, "case_id", "seq", "step", "occurred_at", "unit", "outcome", "activity", "process",
                       "attributes")
    return events, EMPTY_BAD


def _new_cases(events: pl.DataFrame, definition: process.Definition, ctx) -> pl.DataFrame:
    hours = definition.deadline_hours
    first = events.group_by("case_id").agg(
        pl.col("occurred_at").min().alias("reported_at"),
        pl.col("case_type").drop_nulls().first(), pl.col("source_channel").drop_nulls().first(),
        pl.col("area_code").drop_nulls().first())
    first = first.with_columns(
        pl.col("case_type").fill_null(definition.case_type or UNKNOWN_TYPE),
        pl.col("source_channel").fill_null(definition.source_channel),
        pl.col("area_code").fill_null(""))
    catalogue = ctx.case_types.select("case_type", "category", "deadline_hours")
    first = first.join(catalogue, on="case_type", how="left").with_columns(
        pl.col("category").fill_null(UNKNOWN_TYPE), pl.col("deadline_hours").fill_null(hours))
    ctx.new_case_types = (first.filter(~pl.col("case_type").is_in(catalogue["case_type"].implode()))
                          .group_by("case_type").agg(pl.lit(UNKNOWN_TYPE).alias("category"),
                                                     pl.lit(hours).cast(pl.Int32).alias("deadline_hours")))
    return first.sort("reported_at", "case_id").select(
        "case_id", "case_type", "category", "source_channel", "area_code", "reported_at",
        (pl.col("reported_at") + pl.duration(hours=pl.col("deadline_hours"))).alias("deadline_at"),
        pl.lit("reported").alias("status"), pl.lit(ctx.now).alias("updated_at"))


def write(con, ctx) -> None:
    """After the events are written: create the cases the log named and the warehouse lacked,
    register their new types, store the definition with the unmapped activities."""
    if ctx.new_case_types is not None and ctx.new_case_types.height:
        con.register("_types", ctx.new_case_types.to_arrow())
        con.execute("INSERT INTO case_type BY NAME SELECT * FROM _types")
        con.unregister("_types")
    if ctx.new_cases is not None and ctx.new_cases.height:
        con.register("_new_cases", ctx.new_cases.to_arrow())
        con.execute("INSERT INTO cases BY NAME SELECT * FROM _new_cases")
        con.unregister("_new_cases")
    ctx.unmapped = process.save(con, ctx.process, ctx.activities)
