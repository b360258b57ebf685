"""ui.tables.show: every table's numbers formatted from the column's definition (the column
catalogue), so a share no page configured still reads 12.0%, never 0.12; and no page calls
st.dataframe around it."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from ui import tables
from ui.i18n import t

ROOT = Path(__file__).resolve().parent.parent


def _formats(frame, given=None) -> dict:
    out = tables.number_formats(frame, given) or {}
    return {k: (v or {}).get("type_config", {}).get("format") for k, v in out.items()}


def test_a_share_column_without_a_format_is_a_percentage():
    frame = pl.DataFrame({"overdue_share": [0.12, 0.5], "cases": [1234, 5], "score": [12.0676, 3.1]})
    assert _formats(frame) == {"overdue_share": "percent", "cases": "localized", "score": "%.2f"}


def test_a_share_is_found_under_its_label_in_either_language():
    for lang in ("zh", "en"):
        header = t("cl.col.overdue_share", lang)
        assert _formats(pl.DataFrame({header: [0.12]})) == {header: "percent"}, header
    # named like a share though the catalogue does not list it
    assert _formats(pl.DataFrame({"调解成功率": [0.8], "repeat_rate": [0.1]})) == {
        "调解成功率": "percent", "repeat_rate": "percent"}


def test_what_the_page_set_and_shares_already_in_percent_are_left_alone():
    given = {"overdue_share": "keep"}
    assert tables.number_formats(pl.DataFrame({"overdue_share": [0.1]}), given)["overdue_share"] == "keep"
    # 94.7 under a share's name is already ×100: one decimal, not 9470%
    assert _formats(pl.DataFrame({"satisfaction_rate": [94.7]})) == {"satisfaction_rate": "%.1f"}
    # hours by the catalogue: one decimal
    assert _formats(pl.DataFrame({"median_hours": [12.345]})) == {"median_hours": "%.1f"}


def test_pages_draw_tables_through_ui_tables_only():
    calls = [f"{p.relative_to(ROOT)}:{i}" for p in [*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py")]
             if p.name != "tables.py"
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\bst\.dataframe\(", line)]
    assert calls == [], calls
