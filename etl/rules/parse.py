"""Text → typed polars expressions, tolerant of the formats Chinese exports use."""

from __future__ import annotations

from datetime import datetime

import polars as pl

DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
                    "%Y-%m-%d", "%Y%m%d")
EXCEL_EPOCH = datetime(1899, 12, 30)
TRUE_WORDS = ("是", "是的", "有", "Y", "YES", "1", "TRUE", "T", "√", "✓", "✔")
FALSE_WORDS = ("否", "无", "不是", "N", "NO", "0", "FALSE", "F", "×", "✗", "")


def text(col: str) -> pl.Expr:
    """Trimmed text; blank → null."""
    s = pl.col(col).str.strip_chars()
    return pl.when(s.str.len_chars() > 0).then(s)


def _normalise(s: pl.Series) -> pl.Series:
    """Chinese and slashed dates to 'YYYY-M-D[ H:M[:S[.f]]]'."""
    return (s.str.replace(r"^(\d{4})[年/.\-](\d{1,2})[月/.\-](\d{1,2})日?", "$1-$2-$3")
            .str.replace(r"(\d)T(\d)", "$1 $2")
            .str.replace(r"(\d{1,2})时(\d{1,2})分?", "$1:$2")
            .str.replace(r"\s+", " ")
            .str.strip_chars())


def _parse_any(s: pl.Series) -> pl.Series:
    n = _normalise(s)
    serial = n.cast(pl.Float64, strict=False)
    is_serial = n.str.contains(r"^\d{3,5}(\.\d+)?$") & serial.is_between(1, 99999)
    excel = pl.select(pl.when(pl.lit(is_serial)).then(
        pl.lit(EXCEL_EPOCH) + pl.duration(milliseconds=(pl.lit(serial) * 86_400_000).round(0).cast(pl.Int64)))
    ).to_series()
    parsed = [n.str.strptime(pl.Datetime("us"), f, strict=False) for f in DATETIME_FORMATS]
    return pl.select(pl.coalesce(pl.lit(excel), *[pl.lit(p) for p in parsed])).to_series()


def parse_datetime(s: pl.Series) -> pl.Series:
    """Text → datetime: 2024-03-05 08:05[:01[.123]], 2024/3/5 8:05, 2024年3月5日 [8时5分],
    2024.3.5, 20240305, ISO with T, or an Excel serial day number (45356.34); else null.

    Fast path first: the ISO form most exports use is parsed in one pass; only the values it
    misses go through normalisation and the other formats (column-level control flow, the
    per-value work stays vectorised)."""
    text_ = s.str.strip_chars()
    text_ = pl.select(pl.when(pl.lit(text_).str.len_chars() > 0).then(pl.lit(text_))).to_series()
    out = text_.str.strptime(pl.Datetime("us"), DATETIME_FORMATS[0], strict=False)
    missed = out.is_null() & text_.is_not_null()
    if missed.any():
        idx = missed.arg_true()
        out = out.scatter(idx, _parse_any(text_.gather(idx)))
    return out.alias(s.name)


def float_(col: str) -> pl.Expr:
    return text(col).str.replace_all(",", "").cast(pl.Float64, strict=False)


def int_(col: str) -> pl.Expr:
    f = float_(col)
    return pl.when(f == f.round(0)).then(f).cast(pl.Int64, strict=False)


def bool_(col: str) -> pl.Expr:
    s = text(col).str.to_uppercase()
    return pl.when(s.is_in(TRUE_WORDS)).then(True).when(s.is_in(FALSE_WORDS)).then(False)


def enum_(col: str, mapping: dict[str, str]) -> pl.Expr:
    """Synonyms → canonical values; anything else → null (flagged bad_value)."""
    return text(col).replace_strict(mapping, default=None, return_dtype=pl.Utf8)


def quarter_(col: str) -> pl.Expr:
    """2026Q3, 2026年第3季度, 2026-3季度 or any date in the quarter → the quarter's first day.
    Reads the parse_datetime column __dt_<col> for the date case."""
    s = text(col)
    m = s.str.extract_groups(r"^(\d{4})\s*(?:年|-)?\s*(?:Q|q|第)?\s*([1-4])\s*(?:季度?)?$")
    from_q = pl.date(m.struct.field("1").cast(pl.Int32, strict=False),
                     m.struct.field("2").cast(pl.Int32, strict=False) * 3 - 2, 1)
    return pl.coalesce(from_q, pl.col(f"__dt_{col}").dt.date().dt.truncate("1q"))
