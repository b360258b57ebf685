"""数据管理: load runs, quarantined rows (by file and reason, raw rows, XLSX to fix) and
data freshness per table. Queries live in warehouse/admin.py; this page only draws."""

import polars as pl
import streamlit as st

from alerts.state import history_frame as alert_history
from ui import fmt, tables
from ui.auth import audit_view, viewer
from ui.cache import call
from ui.data_mapping import mapping_step, reason_guide
from ui.data_process import section as process_section
from ui.download import buttons
from ui.filters import sidebar
from ui.freshness import banner
from ui.i18n import lang, t
from warehouse import admin, taxonomy
from warehouse.pymap import mapped
from warehouse.templates import template_kinds, template_xlsx

f = sidebar(show_period=False)
st.title(t("page.data"))
st.caption(t("data.caption"))
banner()


with st.expander(t("start.title")):
    st.markdown(t("start.body"))
    reason_guide()
    st.caption(t("start.templates"))
    cols = st.columns(4)
    for i, kind in enumerate(template_kinds(), start=1):
        cols[(i - 1) % 4].download_button(f"{i:02d} {kind}", call(template_xlsx, kind), file_name=f"{i:02d}_{kind}.xlsx",
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            key=f"template_{kind}")

mapping_step(f.scope, viewer().name)  # upload → map → dry run → save profile → load (ui/data_mapping.py)


def outcome(col: str = "outcome") -> pl.Expr:
    return pl.col(col).replace_strict({k: t(f"data.outcome.{k}") for k in ("ok", "partial", "failed", "skipped")},
                                      default=pl.col(col), return_dtype=pl.Utf8)


KINDS = ("demo", "areas", "grid_staff", "persons", "cases", "case_events", "opinion", "ssra", "surveys",
         "boundaries", "petitions")


def kind_name(col: str = "kind") -> pl.Expr:
    """What was loaded, in the page's language (the stored kind is the CLI's English word)."""
    return pl.col(col).replace_strict({k: t(f"data.kind.{k}") for k in KINDS}, default=pl.col(col),
                                      return_dtype=pl.Utf8)


def when(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime("%Y-%m-%d %H:%M").fill_null("—")


# ---- headline: the last 30 days of runs (wall clock: loads happen in real time), as listed below
runs = call(admin.recent_runs, f.scope, limit=500)
recent = call(admin.run_summary, f.scope, 30)
cols = st.columns(4)
cols[0].metric(t("data.runs_30d"), fmt.num(recent["runs"]))
cols[1].metric(t("data.rows_30d"), fmt.num(recent["rows_read"]))
cols[2].metric(t("data.quarantined_30d"), fmt.num(recent["rows_quarantined"]))
cols[3].metric(t("data.failed_30d"), fmt.num(recent["failed"]))

# ---- freshness per table
st.subheader(t("data.freshness"))
fresh = call(admin.freshness_by_table, f.scope)
tables.show(fresh.select(
    mapped(fresh, "table_name", lambda x: t(f"data.table.{x}")).alias(t("data.col.table")),
    mapped(fresh, "domain", lambda x: t(f"domain.{x}")).alias(t("data.col.domain")),
    pl.col("rows").alias(t("data.col.rows")),
    when("newest_data").alias(t("data.col.newest")),
    when("last_loaded").alias(t("data.col.last_loaded")),
    outcome("last_outcome").alias(t("data.col.last_outcome")),
), hide_index=True, width="stretch")

# ---- categories no analytic class counts (warehouse/taxonomy.yaml): a new county's words
unmapped = call(taxonomy.unmapped)
if unmapped.height:
    st.subheader(t("taxonomy.unmapped"))
    st.caption(t("taxonomy.unmapped_help"))
    tables.show(unmapped.rename({"category": t("taxonomy.col.category"), "cases": t("taxonomy.col.cases")}),
                 hide_index=True)

# ---- recent runs
st.subheader(t("data.runs"))
if runs.is_empty():
    st.info(t("data.no_runs"))
else:
    tables.show(runs.head(50).select(
        when("started_at").alias(t("data.col.started")),
        pl.col("file_name").fill_null(t("data.demo_build")).alias(t("data.col.file")),
        kind_name().alias(t("data.col.kind")), outcome().alias(t("data.col.outcome")),
        pl.col("rows_read").alias(t("data.col.read")), pl.col("rows_loaded").alias(t("data.col.loaded")),
        pl.col("rows_updated").alias(t("data.col.updated")),
        pl.col("rows_quarantined").alias(t("data.col.quarantined")),
        pl.col("seconds").alias(t("data.col.seconds")), pl.col("run_by").alias(t("data.col.by")),
        pl.col("message").alias(t("data.col.message")),
    ), hide_index=True, width="stretch")
    buttons(runs, "etl_runs")

if f.scope.is_admin:  # the audit trail: administrators only, read-only
    audit_view(f.scope)
# ---- 预警记录: alerts sent to webhooks and e-mail (their state lives beside the warehouse)
st.subheader(t("alerts.history"))
hist = alert_history()  # not cached: deliveries happen between page views
if hist.is_empty():
    st.info(t("alerts.none"))
else:
    tables.show(hist.select(
        pl.col("last_at").str.replace("T", " ").str.slice(0, 16).alias(t("alerts.col.when")),
        pl.col("level").alias(t("alerts.col.level")), pl.col("title").alias(t("alerts.col.title")),
        pl.col("channel").alias(t("alerts.col.channel")),
        pl.col("status").replace_strict({k: t(f"alerts.status.{k}") for k in ("sent", "failed", "gave_up")},
                                        default=pl.col("status")).alias(t("alerts.col.status")),
        pl.col("tries").alias(t("alerts.col.tries")), pl.col("last_error").alias(t("alerts.col.error")),
        pl.col("link").alias(t("alerts.col.link")),
    ), hide_index=True, width="stretch",
        column_config={t("alerts.col.link"): st.column_config.LinkColumn(display_text=t("alerts.open"))})
    buttons(hist.drop("event_key"), "alert_history", key="alert_history")

# ---- process definitions: the map in use, the unmapped activities, the editor (ui/data_process.py)
process_section(f.scope)

# ---- quarantine: by file and reason, then the raw rows of one group
st.subheader(t("data.quarantine"))
try:
    summary = call(admin.quarantine_summary, f.scope)
except PermissionError:
    st.info(t("data.quarantine_denied"))
    st.stop()
if summary.is_empty():
    st.success(t("data.quarantine_none"))
    st.stop()
tables.show(summary.select(
    pl.col("file_name").alias(t("data.col.file")), kind_name().alias(t("data.col.kind")),
    pl.col("reason_zh" if lang() == "zh" else "reason_key").alias(t("data.col.reason")),
    pl.col("rows").alias(t("data.col.rows")), pl.col("first_line").alias(t("data.col.first_line")),
    pl.col("last_line").alias(t("data.col.last_line")), when("quarantined_at").alias(t("data.col.when")),
), hide_index=True, width="stretch")
groups = summary.select("file_name", "reason_key", "reason_zh", "rows").rows()
pick = st.selectbox(t("data.pick"), range(len(groups)),
                    format_func=lambda i: f"{groups[i][0]} · {groups[i][2]}（{groups[i][3]}）", key="data_pick")
file_name, reason_key = groups[pick][0], groups[pick][1]
table = call(admin.quarantine_table, f.scope, file_name, reason_key).rename({"file_name": t("data.col.file"), "line_no": t("data.col.line"),
                                           "column_name": t("data.col.column"), "reason_zh": t("data.col.reason")})
st.caption(t("data.raw_rows", n=fmt.num(table.height)))
tables.show(table, hide_index=True, width="stretch")
buttons(table, f"quarantine_{file_name.rsplit('.', 1)[0]}_{reason_key}", key="quarantine_rows")
