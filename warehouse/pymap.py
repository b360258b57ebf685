"""Python functions applied to polars columns WITHOUT running Python inside polars.

A Python callback in a polars expression (`map_elements`, `map_batches` with a Python
function) runs on polars' worker threads and needs the GIL there. With several Streamlit
sessions running page scripts at once, one thread holds the GIL while it waits for polars'
pool and a pool worker waits for the GIL: the whole server, event loop included, hangs for
good (pola-rs/polars#26821, #27396; README, "Operations"). So the Python function runs here,
in plain Python over the column's few distinct values, and polars only applies the result
with a native `replace_strict`.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl


def mapped(df: pl.DataFrame, col: str, fn: Callable, dtype=pl.Utf8) -> pl.Expr:
    """pl.col(col) with fn applied to every non-null value (nulls stay null), as an expression.

    fn is called once per distinct value of df[col], outside polars; use on label-like
    columns (codes, keys, levels), not on millions of distinct values."""
    values = df.get_column(col).drop_nulls().unique().to_list()
    return pl.col(col).replace_strict({v: fn(v) for v in values}, default=None, return_dtype=dtype)


def joined_names(col: str, names: dict, sep: str) -> pl.Expr:
    """A list column of keys as one string of their names joined by sep ("" for an empty list)."""
    return pl.col(col).list.eval(pl.element().replace_strict(names, default=pl.element())).list.join(sep)


def thousands(expr: pl.Expr) -> pl.Expr:
    """Whole numbers as text with thousands separators, "1,234,567", natively."""
    n = expr.cast(pl.Int64)
    digits = (n.abs().cast(pl.Utf8).str.reverse().str.replace_all(r"(\d{3})", "${1},")
              .str.strip_suffix(",").str.reverse())
    return pl.when(n < 0).then(pl.lit("-") + digits).otherwise(digits)
