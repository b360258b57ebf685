"""Vectorised validation: every check is a boolean polars expression over whole columns.

A row that fails goes to quarantine with every reason it fails for (`reasons`, in field
order), so a clerk fixes a file in one round; its first reason is its `reason_key`, by which
the load counts it. Good rows come back typed, with the file's line numbers kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from etl.order import is_sorted_by
from etl.readers import LINE
from etl.rules import county_values, parse
from etl.rules.kinds import VALUES, KindSpec

REASON = "__reason"
AREA_REASON, AREA_COLUMN = "__area_reason", "__area_column"  # set by etl.area_names.resolve
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = dict(enumerate("10X98765432"))
SEP = "\x1f"   # reason<SEP>column
RSEP = "\x1e"  # between a row's reasons


@dataclass
class Context:
    """What rows are checked against: the load's clock and codes already in the warehouse."""

    now: datetime
    values: dict = field(default_factory=lambda: VALUES)  # value words: the package's, or merged with a county's
    area_codes: pl.Series = field(default_factory=lambda: pl.Series("code", [], pl.Utf8))
    case_ids: pl.Series = field(default_factory=lambda: pl.Series("case_id", [], pl.Utf8))


@dataclass
class Validated:
    good: pl.DataFrame   # typed columns named like the spec's fields, plus __line
    bad: pl.DataFrame    # __line, column_name (all failing), reason_key (the first), reasons (all)


@dataclass(frozen=True)
class Words:
    """The value words a load reads cells with (etl/rules/values.yaml, plus a county's own)."""

    blank: dict[str, tuple[str, ...]]
    true: tuple[str, ...]
    false: tuple[str, ...]
    units: dict[str, str]


def words_of(values: dict) -> Words:
    return Words({f: tuple(str(w) for w in ws) for f, ws in values["blank"].items()},
                 tuple(str(w).upper() for w in values["true_words"]),
                 tuple(str(w).upper() for w in values["false_words"]), parse.units_of(values))


PACKAGE_WORDS = words_of(VALUES)


def typed(f, words: Words = PACKAGE_WORDS) -> pl.Expr:
    """The field parsed to its type from its trimmed text __raw_<name> (null where it does not
    parse)."""
    c, t = f.name, pl.col(f"__raw_{f.name}")
    if f.type == "datetime":
        return pl.col(f"__dt_{c}").alias(c)
    if f.type == "deadline":  # a date, or a duration from the report time ("5个工作日")
        return parse.deadline(t, pl.col(f"__dt_{c}"), pl.col("__dt_reported_at"), words.units).alias(c)
    if f.type == "date":
        return pl.col(f"__dt_{c}").dt.date().alias(c)
    if f.type == "quarter":
        return parse.quarter_(t, pl.col(f"__dt_{c}")).alias(c)
    if f.type == "bool":
        return parse.bool_(t, words.true, words.false).alias(c)
    expr = {"int": parse.int_, "float": parse.float_}.get(f.type)
    if expr is not None:
        return expr(t).alias(c)
    if f.type == "enum":
        return parse.enum_(t, f.values).alias(c)
    if f.type == "id":
        return t.str.to_uppercase().alias(c)
    return t.alias(c)


PARSE_REASON = {"datetime": "bad_date", "deadline": "bad_date", "date": "bad_date", "quarter": "bad_date", "int": "bad_number",
                "float": "bad_number", "bool": "bad_bool", "enum": "bad_value"}


def id_problems(col: str) -> list[tuple[pl.Expr, str]]:
    """GB 11643: 18 characters, MOD 11-2 check character, a real birth date (in this order:
    a row is reported under the first that fails)."""
    s = pl.col(col)
    fmt_ok = s.str.contains(r"^\d{17}[\dX]$")
    total = pl.sum_horizontal([s.str.slice(i, 1).cast(pl.Int64, strict=False) * w
                               for i, w in enumerate(_WEIGHTS)])
    check = (total % 11).replace_strict(_CHECK, default=None, return_dtype=pl.Utf8)
    birth = s.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    given = s.is_not_null()
    return [(given & ~fmt_ok, "id_format"),
            (given & fmt_ok & (check != s.str.slice(17, 1)), "id_check_digit"),
            (given & fmt_ok & (birth.is_null() | (birth.dt.year() < 1900)), "id_birth_date")]


def checks(spec: KindSpec, raw: pl.DataFrame, ctx: Context) -> list[tuple[pl.Expr, str]]:
    """One (fails, 'reason<SEP>column') pair per check, in the order a row's reason is chosen:
    `fails` is a boolean expression over the whole frame (true where the row fails; null
    counts as passing)."""
    out: list[tuple[pl.Expr, str]] = []

    def flag(cond: pl.Expr, reason: str, column: str | pl.Expr):
        out.append((cond, f"{reason}{SEP}{column}" if isinstance(column, str)
                    else pl.lit(reason + SEP) + column))

    now = pl.lit(ctx.now)
    for f in spec.fields:
        if f"__raw_{f.name}" not in raw.columns:  # not in the file (seq may be numbered here)
            continue
        c, text = pl.col(f.name), pl.col(f"__raw_{f.name}")
        if f.required:
            unresolved = pl.col(AREA_REASON).is_not_null() if f.type == "area" and AREA_REASON in raw.columns \
                else pl.lit(False)
            flag(text.is_null() & ~unresolved, "missing_value", f.name)
        if f.type == "deadline":  # a duration is not a bad date (only unusable if the start is)
            flag(text.is_not_null() & pl.col(f"__dt_{f.name}").is_null()
                 & ~parse.is_duration(text, words_of(ctx.values).units),
                 "bad_date", f.name)
        elif f.type in PARSE_REASON:
            flag(text.is_not_null() & c.is_null(), PARSE_REASON[f.type], f.name)
        if f.type == "id":
            for cond, reason in id_problems(f.name):
                flag(cond, reason, f.name)
        if f.min is not None:
            flag(c < f.min, "negative_count" if f.type == "int" and f.min == 0 else "out_of_range", f.name)
        if f.max is not None:
            flag(c > f.max, "out_of_range", f.name)
        if f.past:
            limit = now.dt.date() if f.type in ("date", "quarter") else now
            flag(c > limit, "future_date", f.name)
        if f.type == "area":
            flag(c.is_not_null() & ~c.str.len_chars().is_in(list(f.levels)) | ~c.str.contains(r"^\d*$"),
                 "bad_area_code", f.name)
            if spec.kind != "areas":
                flag(c.is_not_null() & ~c.is_in(ctx.area_codes.implode()), "unknown_area", f.name)
    if AREA_REASON in raw.columns:  # town/village named but not found once (etl.area_names)
        for reason in ("unknown_area_name", "ambiguous_area"):
            flag(pl.col(AREA_REASON) == reason, reason, pl.col(AREA_COLUMN))
    if spec.kind == "areas" and "code" in raw.columns:
        parent = (pl.coalesce(pl.col("parent_code"), _parent_of(pl.col("code")))
                  if "parent_code" in raw.columns else _parent_of(pl.col("code")))
        known = parent.is_in(ctx.area_codes.implode()) | parent.is_in(pl.col("code").implode())
        # a county's parent (the city) lies outside the warehouse: only lower levels are checked
        flag(parent.is_not_null() & ~known & (pl.col("code").str.len_chars() > 6), "unknown_parent", "parent_code")
    if spec.step_order:
        present = [s for s in spec.step_order if s in raw.columns]
        for i, s in enumerate(present[1:], start=1):
            flag(pl.col(s) < pl.max_horizontal([pl.col(p) for p in present[:i]]), "steps_out_of_order", s)
    if spec.kind == "case_events":
        flag(~pl.col("case_id").is_in(ctx.case_ids.implode()), "unknown_case", "case_id")
        # rows are sorted by case and seq here: any step earlier than the one before it breaks the order
        same_case = pl.col("case_id") == pl.col("case_id").shift(1)
        flag(same_case & (pl.col("occurred_at") < pl.col("occurred_at").shift(1)), "steps_out_of_order", "occurred_at")
    keys = [k for k in spec.file_key if k in raw.columns]
    if spec.kind == "case_events":
        # sorted by (case_id, seq, line) above: a repeat is the row right after its first
        # (an O(n) look back instead of hashing 7 M concatenated keys)
        same_key = (pl.col("case_id") == pl.col("case_id").shift(1)) & (pl.col("seq") == pl.col("seq").shift(1))
        flag(same_key, "duplicate_key", "case_id")
    elif keys:
        key = pl.col(keys[0]) if len(keys) == 1 else pl.concat_str([pl.col(k).cast(pl.Utf8) for k in keys],
                                                                     separator=SEP, ignore_nulls=True)
        flag(~key.is_first_distinct(), "duplicate_key", keys[0])
    return out


def _parent_of(code: pl.Expr) -> pl.Expr:
    n = code.str.len_chars()
    return (pl.when(n == 15).then(code.str.slice(0, 12)).when(n == 12).then(code.str.slice(0, 9))
            .when(n == 9).then(code.str.slice(0, 6)))


def _typed(frame: pl.DataFrame, present, words: Words = PACKAGE_WORDS) -> pl.DataFrame:
    """Each column trimmed once (blank → null) as __raw_<name>, dates parsed as __dt_<name>,
    then typed: the checks and the typed values both read these."""
    frame = frame.with_columns(_blank_as_null(parse.text(f.name), f.name, words).alias(f"__raw_{f.name}")
                               for f in present)
    frame = frame.with_columns(parse.parse_datetime(frame[f"__raw_{f.name}"]).alias(f"__dt_{f.name}")
                               for f in present if f.type in ("datetime", "date", "quarter", "deadline"))
    return frame.with_columns(typed(f, words) for f in present)


def _blank_as_null(text: pl.Expr, name: str, words: Words = PACKAGE_WORDS) -> pl.Expr:
    """Words that mean "not given" for this field (未评价, 未回访 …: etl/rules/values.yaml)."""
    blank = words.blank.get(name)
    return pl.when(~text.is_in(list(blank))).then(text) if blank else text


def _in_case_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Case events numbered where the file gives no seq (by file order within the case; a seq
    that does not parse stays null and is reported), sorted by (case_id, seq, line). Logs
    usually arrive numbered and in order: both steps are skipped then (seconds at 7 M rows)."""
    numbered = pl.int_range(1, pl.len() + 1).over("case_id", order_by=LINE)
    if "seq" not in frame.columns:
        frame = frame.with_columns(numbered.alias("seq"))
    elif frame["__raw_seq"].null_count():
        frame = frame.with_columns(pl.when(pl.col("__raw_seq").is_null()).then(numbered)
                                   .otherwise(pl.col("seq")).alias("seq"))
    if is_sorted_by(frame, ("case_id", "seq", LINE)):
        return frame
    # an unreadable seq last in its case: it is reported, and its neighbours compare as in the file
    return frame.sort("case_id", "seq", LINE, nulls_last=True)


def validate(raw: pl.DataFrame, spec: KindSpec, ctx: Context) -> Validated:
    """raw: text columns already named by field (see etl.profiles) plus __line."""
    spec = county_values.with_words(spec, ctx.values)
    present = [f for f in spec.fields if f.name in raw.columns]
    extra = [c for c in (AREA_REASON, AREA_COLUMN) if c in raw.columns]
    frame = _typed(raw.select(LINE, *[f.name for f in present], *extra), present, words_of(ctx.values))
    if spec.kind == "case_events":
        frame = _in_case_order(frame)
    # Every check as a boolean column over the whole frame (duplicate and order checks need
    # all rows), then the reason text only for the few failing rows: building a reason string
    # per row and check costs more than the checks themselves.
    found = checks(spec, frame, ctx)
    flags = [f"__fails_{i}" for i in range(len(found))]
    frame = frame.with_columns(cond.fill_null(False).alias(n) for (cond, _), n in zip(found, flags))
    failing = pl.any_horizontal(flags) if flags else pl.lit(False)
    frame = frame.with_columns(failing.alias(REASON))
    labels = [pl.when(pl.col(n)).then(label if isinstance(label, pl.Expr) else pl.lit(label))
              for n, (_, label) in zip(flags, found)]
    every = pl.concat_list(labels).list.drop_nulls() if flags else pl.lit([], pl.List(pl.Utf8))
    bad = frame.filter(pl.col(REASON)).select(LINE, every.alias("reasons"))
    first = pl.col("reasons").list.first().str.split_exact(SEP, 1).struct.rename_fields(["reason_key", "column_name"])
    bad = bad.with_columns(first.alias(REASON)).unnest(REASON)
    bad = bad.with_columns(
        pl.col("reasons").list.eval(pl.element().str.split(SEP).list.get(1)).list.unique(maintain_order=True)
        .list.join(", ").alias("column_name"),
        pl.col("reasons").list.join(RSEP).alias("reasons"))
    names = [f.name for f in present]
    if spec.kind == "case_events" and "seq" not in names:  # numbered above from the file order
        names.append("seq")
    good = frame.filter(~pl.col(REASON)).select(LINE, *names)
    if spec.kind == "case_events":
        good = good.sort(LINE)
    return Validated(good, bad.select(LINE, "column_name", "reason_key", "reasons"))
