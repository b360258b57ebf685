"""Every table of the product goes through `show()`: missing cells as "—" (never "None"),
floats with fixed decimals, counts with separators, and a share (0..1) as a percentage
wherever the column is one, whether or not the page said so.

What a column is comes from one place, the column catalogue (warehouse/export_columns.yaml,
the same that formats exports): looked up by the column's own name, or, once a page has put
a label on it, by that label's key (`cl.col.overdue_share` → `overdue_share`) or the
catalogue's own header text. A column the catalogue does not know but whose name says it is
a share (…_share, …_rate, 率, 占比) is one too."""

from __future__ import annotations

import re
from functools import lru_cache

import streamlit as st

from ui import fmt
from ui.i18n import LANGS, table
from warehouse.export_format import catalogue

# catalogue format -> Streamlit's number format
NUMBER_FORMATS = {"pct": "percent", "int": "localized", "num1": "%.1f", "num2": "%.2f", "hours": "%.1f"}
SHARE_NAME = re.compile(r"(_share|_rate|^share|^rate|率|占比|Share|[Rr]ate)$")


@lru_cache(maxsize=1)
def _header_formats() -> dict[str, str]:
    """Shown header text (either language) -> catalogue format, from the catalogue's own
    headers and from every label whose key ends in a catalogued column name."""
    columns = catalogue()["columns"]
    out: dict[str, str] = {}
    for spec in columns.values():
        for lang in LANGS:
            if spec.get("format") and spec.get(lang):
                out.setdefault(spec[lang], spec["format"])
    for key, entry in table().items():
        name = key.rsplit(".", 1)[-1]
        spec = columns.get(name)
        if spec and spec.get("format"):
            for lang in LANGS:
                if entry.get(lang):
                    out.setdefault(entry[lang], spec["format"])
    return out


def column_format(name: str) -> str | None:
    """The catalogue format of a column by its name or shown header (None: not known)."""
    spec = catalogue()["columns"].get(name)
    if spec and spec.get("format"):
        return spec["format"]
    known = _header_formats().get(name)
    if known:
        return known
    return "pct" if SHARE_NAME.search(name) else None


def _dtypes(data) -> dict[str, str]:
    """column -> 'float' | 'int' | other, for polars and pandas frames (else empty)."""
    schema = getattr(data, "schema", None)
    if schema is not None and hasattr(schema, "items"):  # polars
        return {n: "float" if d.is_float() else "int" if d.is_integer() else "" for n, d in schema.items()}
    dtypes = getattr(data, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "items"):  # pandas
        return {str(n): {"f": "float", "i": "int", "u": "int"}.get(d.kind, "") for n, d in dtypes.items()}
    return {}


def _fraction(data, name: str) -> bool:
    """Every value within -1..1: a share, not one already in percent (94.7)."""
    try:
        col = data[name]
        top = max(abs(col.min() or 0), abs(col.max() or 0))
    except Exception:  # noqa: BLE001 - cannot tell: trust the column's definition
        return True
    return top != top or top <= 1


def number_formats(data, given: dict | None = None) -> dict | None:
    """Column formats for the numeric columns a page did not configure itself."""
    out = dict(given or {})
    for name, kind in _dtypes(data).items():
        if name in out or kind not in ("float", "int"):
            continue
        known = column_format(name)
        if known == "pct" and kind == "float" and not _fraction(data, name):
            known = "num1"  # already ×100
        if known in NUMBER_FORMATS and (kind == "float" or known == "int"):
            out[name] = st.column_config.NumberColumn(format=NUMBER_FORMATS[known])
        elif kind == "float":
            out[name] = st.column_config.NumberColumn(format="%.2f")
        else:
            out[name] = st.column_config.NumberColumn(format="localized")
    return out or given


def show(data, *, column_config: dict | None = None, placeholder: str | None = fmt.MISSING,
         hide_index: bool | None = True, width="stretch", **kwargs):
    """st.dataframe with the product's formats (see the module doc); same arguments."""
    try:
        column_config = number_formats(data, column_config)
    except Exception:  # noqa: BLE001 - an odd frame is drawn as given rather than not at all
        pass
    return st.dataframe(data, column_config=column_config, placeholder=placeholder, hide_index=hide_index,
                        width=width, **kwargs)
