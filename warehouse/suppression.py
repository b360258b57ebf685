"""Small-cell suppression for special-group aggregates: one rule, used by every page and export.

The rule (README "Population and privacy"):

1. Primary: a count from 1 to 4 (``1 <= n < SUPPRESS_BELOW``) is never shown; it displays as
   "<5". Zero is shown as 0: "nobody" is not a person, and hiding zeros would make every
   sparse table unreadable.
2. Complementary (secondary): margins are part of the table. A total row (per column) and a
   total column (per row) are computed from the *unsuppressed* counts and protected like any
   other cell. Any row or column (its total included) that holds exactly one suppressed cell
   gets a second one: its smallest other cell, non-zero cells preferred (a hidden 0 protects
   little). This repeats until stable, so no hidden cell equals a published total minus
   published cells. Secondary cells display as "*".

Shapes, so numbers stay numbers:

* ``suppress()`` returns the table with margins; hidden cells are null (Int64) and a hidden
  status column per value column (``STATUS_PREFIX + col``: null, "<5" or "*") says why.
* ``display()`` turns it into text for a page or tooltip ("1,234", "<5", "*").
* ``export()`` keeps the numeric columns numeric (null where hidden) and replaces the status
  columns with one text column ``suppressed`` naming the hidden cells of that row, e.g.
  "吸毒 <5; 合计 *". CSV and XLSX downloads and `python -m warehouse export` use this form.

Limits: the protection covers the rows and columns of one table. Tables of the same counts at
other levels (a village here, its grids on another page) must each come from this module;
differencing across levels is not checked.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from warehouse.definitions import SUPPRESS_BELOW

SMALL = f"<{SUPPRESS_BELOW}"  # primary: the count is 1..SUPPRESS_BELOW-1
COMPLEMENT = "*"              # secondary: hidden so that a small cell cannot be worked out
STATUS_PREFIX = "_status_"
TOTAL = "total"


def is_small(n) -> bool:
    """True when a count must not be shown (1..4)."""
    return n is not None and 1 <= n < SUPPRESS_BELOW


def mask_count(n) -> str:
    """One count as text for a card or tooltip: "<5" for 1..4, else the number."""
    if n is None:
        return "—"
    return SMALL if is_small(n) else f"{int(n):,}"


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
                     fixed_total_row: list[int] | None = None) -> np.ndarray:
    """Cell status for a 2-D count matrix: 0 shown, 1 primary ("<5"), 2 secondary ("*").

    total_row/total_col: the last row/column holds the margins (sums of the others). Rows and
    columns are protected as published sums either way (see _lines). fixed_total_row: the
    statuses the total row already has where it was published before (the parent area's row
    in the table one level up); those cells keep them, so drilling down never shows a cell
    the level above hid, nor hides one it showed.
    """
    v = np.asarray(values, dtype=np.int64)
    status = np.where((v >= 1) & (v < SUPPRESS_BELOW), 1, 0).astype(np.int8)
    locked = np.zeros(v.shape, bool)
    if fixed_total_row is not None and total_row:
        status[-1, :] = fixed_total_row
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
             total_name: str = TOTAL, fixed_total_row: list[str | None] | None = None) -> pl.DataFrame:
    """Add margins from the raw counts, then hide small cells and their complements.

    df: one row per category (e.g. area) with raw counts in value_cols. The total row (label
    `total_label` in label_col, other non-value columns null) is appended when total_row; a
    `total_name` column (row sums) when total_col. Returns the table with hidden cells null and
    one status column per value column (see module docstring). fixed_total_row: the status
    markers (None, "<5", "*") the total row must carry, one per value column plus the total
    column, e.g. from `row_status()` of the parent's row one level up.
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
    names = np.array([None, SMALL, COMPLEMENT], dtype=object)
    code = {None: 0, SMALL: 1, COMPLEMENT: 2}
    fixed = [code[m] for m in fixed_total_row] if fixed_total_row is not None else None
    status = (suppression_mask(matrix, total_row, total_col, fixed) if data.height
              else np.zeros_like(matrix, dtype=np.int8))
    out = data.with_columns(
        [pl.Series(STATUS_PREFIX + c, names[status[:, j]].tolist(), dtype=pl.Utf8) for j, c in enumerate(cols)])
    return out.with_columns(
        pl.when(pl.col(STATUS_PREFIX + c).is_null()).then(pl.col(c)).otherwise(None).alias(c) for c in cols)


def row_status(df: pl.DataFrame, row: int) -> list[str | None]:
    """The markers of one row of a suppress() result, in column order (for fixed_total_row)."""
    return [df[c][row] for c in status_columns(df)]


def status_columns(df: pl.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(STATUS_PREFIX)]


def display(df: pl.DataFrame) -> pl.DataFrame:
    """Text form for pages and tooltips: numbers with thousands separators, "<5" or "*"."""
    exprs = []
    for s in status_columns(df):
        c = s[len(STATUS_PREFIX):]
        text = pl.col(c).map_elements(lambda n: f"{int(n):,}", return_dtype=pl.Utf8)
        exprs.append(pl.coalesce(pl.col(s), text).alias(c))
    return df.with_columns(exprs).drop(status_columns(df))


def export(df: pl.DataFrame, labels: dict[str, str] | None = None) -> pl.DataFrame:
    """Export form: numeric columns stay numeric (null = hidden) plus a `suppressed` note.

    labels maps column names to the words used in the note (default: the column names).
    """
    labels = labels or {}
    notes = [pl.when(pl.col(s).is_not_null())
             .then(pl.lit(labels.get(s[len(STATUS_PREFIX):], s[len(STATUS_PREFIX):]) + " ") + pl.col(s))
             for s in status_columns(df)]
    note = pl.concat_str(notes, separator="; ", ignore_nulls=True) if notes else pl.lit("")
    return df.with_columns(note.fill_null("").alias("suppressed")).drop(status_columns(df))


def check(df: pl.DataFrame) -> None:
    """Raise if a displayed or exported frame still holds a special-group cell of 1..4.

    A last line of defence for code paths that build their own frames.
    """
    for c, dt in df.schema.items():
        if dt.is_integer() and df[c].is_between(1, SUPPRESS_BELOW - 1).any():
            raise ValueError(f"column {c!r} holds a count between 1 and {SUPPRESS_BELOW - 1}")
