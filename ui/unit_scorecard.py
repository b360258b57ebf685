"""责任单位考核 on the overview: departments, town centres and villages scored on their cases
(warehouse.units.scorecard), one kind at a time, next to the town ranking."""

from __future__ import annotations

import polars as pl
import streamlit as st

from ui import tables
from ui.cache import call
from ui.download import buttons
from ui.i18n import t
from warehouse import units

SHOWN = ("rank", "responsible_unit", "score", "cases", "closed_rate", "overdue_rate", "returned_rate",
         "satisfied_rate")


def show(scope, area: str, period) -> None:
    st.subheader(t("unit.title"), divider="gray")
    st.caption(t("unit.caption", min_base=units.config()["min_base"]))
    card = call(units.scorecard, scope, area, period.start, period.end)
    kinds = [k for k in units.KINDS if card.filter(pl.col("unit_kind") == k).height]
    if not kinds:
        st.info(t("unit.none"))
        return
    kind = st.segmented_control(t("unit.kind"), kinds, default=kinds[0], key="ov_unit_kind",
                                format_func=lambda k: t(f"unit.kind.{k}")) or kinds[0]
    rows = card.filter(pl.col("unit_kind") == kind)
    table = rows.select(pl.col(c).alias(t(f"unit.col.{c}")) for c in SHOWN)
    tables.show(table, hide_index=True, width="stretch", column_config={
        t("unit.col.score"): st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.2f",
                                                             color="blue")})
    buttons(rows, f"unit_scorecard_{kind}_{period.key}", key="ov_units")
