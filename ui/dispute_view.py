"""矛盾纠纷排查与调解 on the case page (三率 tab): disputes by sweep type, and how the resolved
ones were mediated (warehouse.disputes.sweeps)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from ui import tables
from ui.cache import call
from ui.download import buttons
from ui.i18n import t
from warehouse import disputes

COLOURS = {"people_mediation": "#2e75b6", "admin_mediation": "#9dc3e6", "judicial_mediation": "#e37400",
           "mediation_not_stated": "#bdc1c6"}
SHOWN = ("sweep_type", "disputes", "resolved", "local_share", *COLOURS)


def show(scope, area: str, start, end) -> None:
    st.subheader(t("dsp.title"))
    st.caption(t("dsp.caption"))
    df = call(disputes.sweeps, scope, area, start, end)
    rows = df.filter(pl.col("sweep_type").is_not_null())
    if rows.height == 0:
        st.info(t("dsp.none"))
        return
    names = [t(f"dsp.sweep.{s}") for s in rows["sweep_type"]]
    fig = go.Figure([go.Bar(y=names, x=rows[k].to_list(), name=t(f"dsp.col.{k}"), orientation="h",
                            marker_color=c) for k, c in COLOURS.items()])
    fig.update_layout(barmode="stack", height=80 + 40 * rows.height, margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      legend={"orientation": "h", "y": -0.25}, xaxis_title=t("dsp.axis"))
    st.plotly_chart(fig, config={"displaylogo": False}, key="dsp_chart")
    table = df.with_columns(pl.col("sweep_type").fill_null("total")).select(
        [pl.Series(t("dsp.col.sweep_type"), [t(f"dsp.sweep.{s}") for s in
                   df["sweep_type"].fill_null("total")])]
        + [pl.col(c).alias(t(f"dsp.col.{c}")) for c in SHOWN[1:]])
    tables.show(table, hide_index=True, width="stretch")
    buttons(df, "dispute_sweeps", key="dsp")
