"""Personal numbers out of free text and quarantined rows (issue #18; etl/load.py at load,
warehouse/admin.py again when quarantined rows are read).

Free text (诉求内容, post text, 备注 …) is written by citizens and clerks and often carries a
phone or an ID number: "请联系13812345678" or "身份证320813199001011234". They are masked at load,
the same way the structured fields are (ID: region code and last 4 kept; mobile: 138****5678;
landline: last 4 kept), so neither the warehouse nor a page ever holds them in clear.

Patterns are bounded by non-digits (ASCII word boundaries: a Chinese character next to the
number counts as a boundary), so a 20-digit 工单编号 is not cut into an "ID".
"""

from __future__ import annotations

import re

import polars as pl

# (?-u:\b): an ASCII word boundary, so 话13812345678联 still matches (Chinese is not \w here)
_B = r"(?-u:\b)"
ID_18 = _B + r"(\d{6})\d{8}(\d{3}[\dXx])" + _B
ID_15 = _B + r"(\d{6})\d{5}(\d{4})" + _B
MOBILE = _B + r"(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})" + _B
LANDLINE = _B + r"0\d{2,3}[- ]?\d{3,4}(\d{4})" + _B

# polars (Rust regex) replacements, in order: IDs before phones (an ID contains phone-like runs)
_RULES = ((ID_18, "${1}********${2}"), (ID_15, "${1}*****${2}"),
          (MOBILE, "${1}****${2}"), (LANDLINE, "****${1}"))


def scrub_expr(expr: pl.Expr, *, codes_inside: bool = False) -> pl.Expr:
    """Vectorised: the text with ID and phone numbers masked (null stays null).

    codes_inside: the text may hold area codes (a quarantined row as JSON): only 18-digit IDs
    and mobiles are masked, since a 15-digit grid code reads like an old 15-digit ID."""
    for pattern, repl in _RULES:
        if not codes_inside or pattern in (ID_18, MOBILE):
            expr = expr.str.replace_all(pattern, repl)
    return expr


def scrub(text: str | None) -> str | None:
    """One string, the same masking as scrub_expr (for JSON text and single values)."""
    if text is None:
        return None
    return pl.select(scrub_expr(pl.lit(text, pl.Utf8))).item()


_PY_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)|(?<!\d)\d{15}(?!\d)")
_PY_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def holds_personal_number(text: str | None) -> bool:
    """True when the text still holds an 18/15-digit ID or an 11-digit mobile in clear (a
    check for tests and audits, independent of the polars patterns above)."""
    return bool(text) and bool(_PY_ID.search(text) or _PY_PHONE.search(text))
