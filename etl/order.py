"""Whether a frame is already in an order, checked in one vectorised pass (sorting millions
of rows that arrive in order costs seconds; the look back costs a fraction of that)."""

from __future__ import annotations

import polars as pl


def is_sorted_by(frame: pl.DataFrame, cols: list[str] | tuple[str, ...]) -> bool:
    """True when every row is ≥ the row before it by `cols` (lexicographic, like
    frame.sort(cols)); False when a key column holds a null (sort would move it)."""
    if frame.height < 2:
        return True
    if frame.select(pl.any_horizontal(pl.col(c).is_null().any() for c in cols)).item():
        return False
    if len(cols) == 1:
        return frame[cols[0]].is_sorted()

    def at_least(i: int) -> pl.Expr:  # rows i.. of the key compare ≥ the previous row's
        c = pl.col(cols[i])
        if i == len(cols) - 1:
            return c >= c.shift(1)
        return (c > c.shift(1)) | ((c == c.shift(1)) & at_least(i + 1))

    return frame.select(at_least(0).slice(1).all()).item()
