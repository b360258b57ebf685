"""Small-cell suppression for special-group aggregates: one rule, used by every page and export.

The rule (README "Population and privacy"):

1. Primary: a count from 1 to 4 (``1 <= n < SUPPRESS_BELOW``) is never shown. Zero is shown
   as 0: "nobody" is not a person, and hiding zeros would make sparse tables unreadable.
2. Complementary: margins are part of the table. A total row (per column) and a total column
   (per row) are computed from the *unsuppressed* counts and protected like any other cell.
   Any row or column (its total included) holding exactly one hidden cell gets a second one,
   its smallest other cell (non-zero first: a hidden 0 protects little), until stable; then
   an exact linear-algebra audit (`recoverable`) hides more until no hidden cell follows
   from the published cells and totals together.
3. Every hidden cell shows the same marker, ``MASK`` ("*"). Marking small cells "<5" and
   complements differently would tell a reader that a complement is >= 5, and with the totals
   that pins values down: a total row [drug "<5", released "*", total 19] with 13 other
   people gives released + drug = 6, released >= 5, drug >= 1, so drug = 1. Pages explain the
   marker as "fewer than 5, or hidden so that such a cell cannot be worked out".

Shapes, so numbers stay numbers:

* ``suppress()`` returns the table with margins; hidden cells are null (Int64), and a Boolean
  column ``HIDDEN_PREFIX + col`` per value column says which cells are hidden.
* ``display()`` turns it into text for a page or tooltip ("1,234" or "*"); ``cell()`` gives
  one displayed cell.
* ``export()`` keeps the numeric columns numeric (null where hidden) and replaces the flags
  with one text column ``suppressed`` naming the hidden cells of the row ("吸毒; 合计"). CSV
  and XLSX downloads and `python -m warehouse export` use this form.

Limits: rows and columns of one table are protected exactly. Tables one level down are kept
consistent (``fixed_total_row``: the parent's row keeps its hidden cells in the child table's
total row), but a joint audit across levels or across other breakdowns is not done.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from warehouse.definitions import SUPPRESS_BELOW
from warehouse.pymap import thousands

MASK = "*"  # every hidden cell: 1..4, or hidden so that such a cell cannot be worked out
HIDDEN_PREFIX = "_hidden_"
TOTAL = "total"


def is_small(n) -> bool:
    """True when a count must never be shown (1..4)."""
    return n is not None and 1 <= n < SUPPRESS_BELOW


def _lines(shape: tuple[int, int], total_row: bool, total_col: bool) -> list[dict[tuple[int, int], int]]:
    """The published sums as equations {cell: coefficient}.

    With a margin, a row is `cells - total = 0`; without one, its sum is assumed published
    anyway (another page or a report may print it): `cells = known`. One-cell lines say
    nothing beyond the cell itself and are skipped.
    """
    rows, cols = shape
    out = []
    if cols >= 2:
        for i in range(rows):
            out.append({(i, j): (-1 if total_col and j == cols - 1 else 1) for j in range(cols)})
    if rows >= 2:
        for j in range(cols):
            out.append({(i, j): (-1 if total_row and i == rows - 1 else 1) for i in range(rows)})
    return out


def recoverable(status: np.ndarray, total_row: bool = False, total_col: bool = False) -> list[tuple[int, int]]:
    """Hidden cells whose value follows exactly from the shown cells and the published sums.

    A hidden cell is determined iff every solution of the equations agrees on it, i.e. iff the
    null space of the equations (restricted to hidden cells) is zero in that cell.
    """
    hidden = [tuple(c) for c in np.argwhere(status > 0)]
    if not hidden:
        return []
    col_of = {c: k for k, c in enumerate(hidden)}
    lines = _lines(status.shape, total_row, total_col)
    a = np.zeros((max(len(lines), 1), len(hidden)))
    for r, line in enumerate(lines):
        for cell, coef in line.items():
            if cell in col_of:
                a[r, col_of[cell]] = coef
    _, sv, vt = np.linalg.svd(a, full_matrices=True)
    rank = int(np.sum(sv > 1e-9))
    null = vt[rank:].T  # hidden × nullity
    free = np.linalg.norm(null, axis=1) > 1e-9 if null.size else np.zeros(len(hidden), bool)
    return [c for c, f in zip(hidden, free) if not f]


def suppression_mask(values, total_row: bool = False, total_col: bool = False,
                     fixed_total_row: list[bool] | None = None) -> np.ndarray:
    """Cell status for a 2-D count matrix: 0 shown, 1 primary (1..4), 2 complementary.

    total_row/total_col: the last row/column holds the margins (sums of the others). Rows and
    columns are protected as published sums either way (see _lines). fixed_total_row: which
    total-row cells are hidden where that row was published before (the parent area's row in
    the table one level up); those cells keep that state, so drilling down never shows a cell
    the level above hid, nor hides one it showed.
    """
    v = np.asarray(values, dtype=np.int64)
    status = np.where((v >= 1) & (v < SUPPRESS_BELOW), 1, 0).astype(np.int8)
    locked = np.zeros(v.shape, bool)
    if fixed_total_row is not None and total_row:
        status[-1, :] = np.where(np.asarray(fixed_total_row, bool), np.maximum(status[-1, :], 2), 0)
        locked[-1, :] = True
    lines = _lines(v.shape, total_row, total_col)

    def hide_smallest(cells) -> bool:
        shown = [c for c in cells if not status[c] and not locked[c]]
        if not shown:
            return False
        # positive counts before zeros: a hidden 0 protects little
        status[min(shown, key=lambda c: (v[c] == 0, v[c]))] = 2
        return True

    for _ in range(v.size + 1):
        # the quick rule first: no published sum with exactly one hidden cell
        changed = True
        while changed:
            changed = False
            for line in lines:
                if sum(1 for c in line if status[c]) == 1:
                    changed = hide_smallest(line) or changed
        # then the exact test: no hidden cell follows from the equations together
        exposed = recoverable(status, total_row, total_col)
        if not exposed:
            return status
        cell = exposed[0]
        mine = [line for line in lines if cell in line]
        if not any(hide_smallest(line) for line in mine):
            hide_smallest([tuple(c) for c in np.argwhere(status == 0)])
    raise RuntimeError("suppression did not converge")


def suppress(df: pl.DataFrame, value_cols: list[str], label_col: str | None = None, *,
             total_row: bool = True, total_col: bool = True, total_label: str = "合计",
             total_name: str = TOTAL, fixed_total_row: list[bool] | None = None) -> pl.DataFrame:
    """Add margins from the raw counts, then hide small cells and their complements.

    df: one row per category (e.g. area) with raw counts in value_cols. The total row (label
    `total_label` in label_col, other non-value columns null) is appended when total_row; a
    `total_name` column (row sums) when total_col. Returns the table with hidden cells null and
    one Boolean hidden-flag column per value column. fixed_total_row: which total-row cells
    must be hidden (one per value column, then the total column), e.g. `row_hidden()` of the
    parent's row in the table one level up.
    """
    data = df.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in value_cols)
    cols = list(value_cols)
    if total_col:
        data = data.with_columns(pl.sum_horizontal(value_cols).cast(pl.Int64).alias(total_name))
        cols.append(total_name)
    if total_row:
        sums = {c: int(data[c].sum()) for c in cols}
        row = {c: sums.get(c) for c in data.columns}
        if label_col:
            row[label_col] = total_label
        data = pl.concat([data, pl.DataFrame([row], schema=data.schema)], how="vertical")
    matrix = data.select(cols).to_numpy() if data.height else np.zeros((0, len(cols)), np.int64)
    status = (suppression_mask(matrix, total_row, total_col, fixed_total_row) if data.height
              else np.zeros_like(matrix, dtype=np.int8))
    out = data.with_columns(
        [pl.Series(HIDDEN_PREFIX + c, (status[:, j] > 0).tolist(), dtype=pl.Boolean) for j, c in enumerate(cols)])
    return out.with_columns(
        pl.when(pl.col(HIDDEN_PREFIX + c)).then(None).otherwise(pl.col(c)).alias(c) for c in cols)


def hidden_columns(df: pl.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(HIDDEN_PREFIX)]


def row_hidden(df: pl.DataFrame, row: int) -> list[bool]:
    """Which cells of one row of a suppress() result are hidden (for fixed_total_row)."""
    return [bool(df[c][row]) for c in hidden_columns(df)]


def display(df: pl.DataFrame) -> pl.DataFrame:
    """Text form for pages and tooltips: "1,234", or MASK for a hidden cell."""
    exprs = []
    for h in hidden_columns(df):
        c = h[len(HIDDEN_PREFIX):]
        text = thousands(pl.col(c))  # natively: no Python callback inside polars
        exprs.append(pl.when(pl.col(h)).then(pl.lit(MASK)).otherwise(text).alias(c))
    return df.with_columns(exprs).drop(hidden_columns(df))


def cell(df: pl.DataFrame, key_col: str, key, col: str) -> str:
    """One displayed cell of a suppress() result (for a card or tooltip), e.g. the total of
    one area: cell(table, "area_code", code, "total"). Never format a raw count yourself."""
    row = df.filter(pl.col(key_col).is_null() if key is None else pl.col(key_col) == key)
    if row.height != 1:
        raise KeyError(f"{key_col}={key!r} matches {row.height} rows")
    return display(row)[col][0]


def export(df: pl.DataFrame, labels: dict[str, str] | None = None) -> pl.DataFrame:
    """Export form: numeric columns stay numeric (null = hidden) plus a `suppressed` note.

    labels maps column names to the words used in the note (default: the column names).
    """
    labels = labels or {}
    notes = [pl.when(pl.col(h)).then(pl.lit(labels.get(h[len(HIDDEN_PREFIX):], h[len(HIDDEN_PREFIX):])))
             for h in hidden_columns(df)]
    note = pl.concat_str(notes, separator="; ", ignore_nulls=True) if notes else pl.lit("")
    return df.with_columns(note.fill_null("").alias("suppressed")).drop(hidden_columns(df))


def check(df: pl.DataFrame) -> None:
    """Raise if a displayed or exported frame still holds a special-group cell of 1..4.

    A last line of defence for code paths that build their own frames.
    """
    for c, dt in df.schema.items():
        if dt.is_integer() and df[c].is_between(1, SUPPRESS_BELOW - 1).any():
            raise ValueError(f"column {c!r} holds a count between 1 and {SUPPRESS_BELOW - 1}")
