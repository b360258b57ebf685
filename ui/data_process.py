"""数据管理 › 流程定义: the process definitions in use with their activity → stage map and the
unmapped activities; for administrators an editor: pick a flow and where to start from (the
definition in use, the county's saved file, the built-in default), set each activity's stage
or side event and each stage's deadline, check, save as the county's own file, or save and
apply (etl/reprocess.py re-reads the flow's log and rebuilds the marts atomically).

Plain select boxes in a form rather than st.data_editor: nothing reruns while editing, and
the page test can drive it."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import streamlit as st

from etl import reprocess
from ui import tables
from ui.cache import call
from ui.i18n import t
from ui.mdtext import md
from warehouse import process

OPTIONS = ("",) + process.ALL          # "" = unmapped
RULES = ("case", "hours", "none")
BASES = ("stored", "county", "default")
DONE = "proc_edit_done"               # the last apply's message, shown after the rerun


def stage_label(s: str) -> str:
    return t("proc.unmapped") if not s else f"{t(f'cl.step.{s}')}（{s}）"


def section(scope) -> None:
    st.subheader(t("proc.data.title"))
    if DONE in st.session_state:
        st.success(st.session_state.pop(DONE))
    mapping = call(process.in_use)
    missing = call(process.unmapped)
    if missing.height:
        st.warning(t("proc.data.unmapped", n=missing.height, names=md("、".join(missing["activity"].to_list()[:50]))))
    else:
        st.caption(t("proc.data.none"))
    tables.show(mapping.with_columns(
        pl.col("stage").replace_strict({s: t(f"cl.step.{s}") for s in process.ALL}, default=t("proc.unmapped"),
                                       return_dtype=pl.Utf8)).rename(
        {"process": t("proc.process"), "activity": t("cl.col.activity"), "stage": t("proc.stage"),
         "events": t("proc.events"), "cases": t("proc.cases")}), hide_index=True, width="stretch")
    if scope.is_admin:
        with st.expander(t("proc.edit.title"), expanded=bool(missing.height)):
            editor(mapping)


def _base(flow: str, which: str, own) -> process.Definition:
    if which == "county" and own is not None:
        return own
    if which == "default":
        return replace(process.default(), name=flow)
    return process.stored(flow)


def editor(mapping: pl.DataFrame) -> None:
    st.caption(t("proc.edit.help"))
    flows = list(dict.fromkeys(mapping["process"].to_list())) or [process.default().name]
    flow = st.selectbox(t("proc.edit.flow"), flows, key="proc_edit_flow")
    own = None
    try:
        own = reprocess.county_definition(flow)
    except ValueError as e:
        st.error(t("proc.edit.bad_file", error=md(str(e))))
    bases = [b for b in BASES if b != "county" or own is not None]
    which = st.radio(t("proc.edit.base"), bases, format_func=lambda b: t(f"proc.edit.base.{b}"),
                     horizontal=True, key="proc_edit_base")
    base = _base(flow, which, own)
    logged = mapping.filter((pl.col("process") == flow) & (pl.col("events") > 0)).sort("events", descending=True)
    counts = dict(zip(logged["activity"], logged["events"]))
    activities = list(dict.fromkeys(logged["activity"].to_list() + list(base.stages)))
    key = f"{flows.index(flow)}_{which}"
    with st.form(f"proc_edit_form_{key}"):
        st.markdown(f"**{t('proc.edit.map')}**")
        cols = st.columns(3)
        picks = {}
        for i, a in enumerate(activities):
            picks[a] = cols[i % 3].selectbox(
                t("proc.edit.activity", activity=md(a), n=counts.get(a, 0)), OPTIONS,
                index=OPTIONS.index(base.stages.get(a) or ""), format_func=stage_label, key=f"proc_stage_{key}_{i}")
        st.markdown(f"**{t('proc.edit.deadlines')}**")
        st.caption(t("proc.edit.deadlines_help"))
        rules, hours = {}, {}
        for s in process.DEADLINE_STAGES:
            rule = base.deadlines.get(s, process.DEFAULT_DEADLINES[s])
            c1, c2 = st.columns(2)
            rules[s] = c1.selectbox(t(f"cl.step.{s}"), RULES, index=RULES.index("hours" if not isinstance(rule, str)
                                                                            else rule),
                                    format_func=lambda r: t(f"proc.edit.rule.{r}"), key=f"proc_rule_{key}_{s}")
            hours[s] = c2.number_input(t("proc.edit.hours", stage=t(f"cl.step.{s}")), min_value=0.0,
                                       value=float(rule) if not isinstance(rule, str) else 24.0, step=1.0,
                                       key=f"proc_hours_{key}_{s}")
        b = st.columns(3)
        check = b[0].form_submit_button(t("proc.edit.check"))
        save = b[1].form_submit_button(t("proc.edit.save"))
        apply = b[2].form_submit_button(t("proc.edit.apply"), type="primary")
    if not (check or save or apply):
        return
    draft = {"name": flow, "description": base.description, "stages": {a: s for a, s in picks.items() if s},
             "deadlines": {s: hours[s] if rules[s] == "hours" else rules[s] for s in rules},
             "case_type": base.case_type, "source_channel": base.source_channel,
             "deadline_hours": base.deadline_hours}
    try:
        definition = process.parse(draft, flow)
    except ValueError as e:
        st.error(t("proc.edit.invalid", error=md(str(e))))
        return
    still = [a for a in counts if a not in definition.stages]
    st.success(t("proc.edit.valid", mapped=len(definition.stages)))
    if still:
        st.warning(t("proc.edit.still_unmapped", n=len(still), names=md("、".join(still[:50]))))
    if save:
        st.success(t("proc.edit.saved", path=md(reprocess.save(definition))))
    if apply:
        try:
            with st.spinner(t("proc.edit.applying")):
                r = reprocess.apply(definition)
        except Exception as e:  # noqa: BLE001 (the warehouse is unchanged: say why, keep the page)
            st.error(t("proc.edit.failed", error=md(str(e))))
            return
        st.session_state[DONE] = t("proc.edit.applied", name=md(r.process), events=r.events, remapped=r.remapped,
                                   cases=r.cases, seconds=f"{r.seconds:.1f}", path=md(r.file))
        st.rerun()
