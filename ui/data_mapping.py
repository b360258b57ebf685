"""The mapping step on the 数据管理 page: upload → kind → first rows → a column for each field
(pre-filled by the loader's own header matching) → dry run listing the rows that would be
quarantined and why → save the mapping as a named profile → load. Administrators only.

The work is etl/dry_run.py's; this module draws it and keeps the upload for the session."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import polars as pl
import streamlit as st

from etl import dry_run
from etl.readers import FileNotLoadable
from etl.templates import LOAD_ORDER
from etl.templates import fields as template_fields
from ui import fmt, tables
from ui.i18n import lang, t
from ui.mdtext import md
from warehouse import audit
from warehouse.scope import Scope

KINDS = tuple(k for k in LOAD_ORDER if k != "boundaries")  # outlines load from the command line
TYPES = ["csv", "txt", "tsv", "xlsx", "xlsm", "parquet"]
_STASH = "_dm_stash"   # session: (upload digest, path of the saved copy)
_RESULT = "_dm_result"  # session: (mapping key, DryRun)


def mapping_step(scope: Scope, who: str = "admin") -> None:
    """The whole step in an expander; a non-administrator sees only that loading is theirs."""
    with st.expander(t("dm.title"), expanded=False):
        if not scope.is_admin:
            st.info(t("dm.admin_only"))
            return
        st.caption(t("dm.help"))
        kind = st.selectbox(t("dm.kind"), KINDS, index=KINDS.index("cases"), key="dm_kind",
                            format_func=lambda k: t(f"data.kind.{k}"))
        up = st.file_uploader(t("dm.upload"), type=TYPES, key="dm_file")
        if up is None:
            return
        path = _stash(up.name, up.getvalue())
        try:
            raw = dry_run.read(path, kind)
        except (FileNotLoadable, ValueError, pl.exceptions.PolarsError) as e:
            st.error(t("dm.unreadable", msg=md(str(e))))
            return
        saved = dry_run.saved_profiles(kind)
        start = st.selectbox(t("dm.start_from"), [None, *saved], key=f"dm_profile_{kind}",
                             format_func=lambda p: t("dm.auto") if p is None else p)
        mapping = _pick_columns(raw, kind, start)
        st.caption(t("dm.read_info", n=fmt.num(raw.frame.height), k=min(dry_run.PREVIEW_ROWS, raw.frame.height)))
        tables.show(dry_run.preview(raw, mapping).rename({"line": t("data.col.line")}), hide_index=True)
        _dry_run(raw, kind, mapping)
        _save(raw, kind, mapping)
        _load(path, kind, mapping, who)


def reason_guide() -> None:
    """What each quarantine reason means (etl/rules/reasons.py), for the getting-started text."""
    from etl.rules.reasons import REASONS

    st.caption(t("start.reasons"))
    tables.show(pl.DataFrame({t("start.col.reason_key"): list(REASONS), t("start.col.meaning"): list(REASONS.values())}),
                hide_index=True)


def _stash(name: str, data: bytes) -> Path:
    """The upload as a file under its own name (the loader reads paths; runs record the name)
    in a private directory for this session; a new upload replaces the old one."""
    digest = hashlib.sha256(data).hexdigest()
    old = st.session_state.get(_STASH)
    if old and old[0] == digest and Path(old[1]).exists():
        return Path(old[1])
    if old:
        shutil.rmtree(Path(old[1]).parent, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-"))  # mode 0700: the file holds personal data
    path = folder / (Path(name).name or "upload.csv")
    path.write_bytes(data)
    path.chmod(0o600)
    st.session_state[_STASH] = (digest, str(path))
    st.session_state.pop(_RESULT, None)
    return path


def _pick_columns(raw, kind: str, profile: str | None) -> dict[str, str | None]:
    """One select box per field, pre-filled with the loader's own choice of column."""
    heads = dry_run.headers(raw)
    suggested = dry_run.suggest(raw, kind, profile=profile)
    names = {r["field"]: r["header"] for r in template_fields(kind)}
    st.markdown(f"**{t('dm.fields')}**")
    cols = st.columns(3)
    mapping: dict[str, str | None] = {}
    # keyed by the file and the starting profile: a new file or profile pre-fills afresh
    tag = hashlib.sha1("|".join([kind, profile or "", *heads]).encode()).hexdigest()[:8]
    for i, (fld, required) in enumerate(dry_run.fields(kind)):
        options = [None, *heads]
        default = suggested.get(fld)
        label = f"{'*' if required else ''}{names.get(fld, fld)}" + ("" if lang() == "zh" else f" ({fld})")
        mapping[fld] = cols[i % 3].selectbox(
            label, options, index=options.index(default) if default in options else 0, key=f"dm_{tag}_{fld}",
            format_func=lambda h: t("dm.none") if h is None else h)
    return mapping


def _key(kind: str, mapping: dict) -> str:
    return kind + "|" + "|".join(f"{f}={h}" for f, h in sorted(mapping.items(), key=lambda kv: kv[0]))


def _dry_run(raw, kind: str, mapping: dict[str, str | None]) -> None:
    if st.button(t("dm.check"), key="dm_check", type="primary"):
        st.session_state[_RESULT] = (_key(kind, mapping), dry_run.dry_run(raw, kind, mapping))
    done = st.session_state.get(_RESULT)
    if not done:
        return
    if done[0] != _key(kind, mapping):
        st.info(t("dm.stale"))
        return
    res = done[1]
    if res.missing:
        st.error(t("dm.missing", names=md("、".join(res.missing))))
        return
    if res.message:
        st.error(md(res.message))
        return
    st.markdown(t("dm.result", read=fmt.num(res.rows_read), ok=fmt.num(res.would_load), bad=fmt.num(res.quarantined)))
    if not res.quarantined:
        st.success(t("dm.all_ok"))
        return
    st.caption(t("dm.bad_rows"))
    reasons = "reasons_zh" if lang() == "zh" else "reason_key"
    tables.show(res.bad.drop("reasons_zh" if reasons == "reason_key" else "reason_key").rename(
        {"line": t("data.col.line"), "column_name": t("data.col.column"), reasons: t("dm.col.reasons")}),
        hide_index=True)


def _save(raw, kind: str, mapping: dict[str, str | None]) -> None:
    cols = st.columns([3, 1])
    name = cols[0].text_input(t("dm.profile_name"), key="dm_profile_name")
    if cols[1].button(t("dm.save"), key="dm_save", disabled=not name):
        try:
            path = dry_run.save_profile(raw, kind, mapping, name.strip())
        except ValueError as e:
            st.error(t("dm.save_failed", msg=md(str(e))))
        else:
            st.success(t("dm.saved", name=name.strip(), path=str(path)))


def _load(path: Path, kind: str, mapping: dict[str, str | None], who: str) -> None:
    if not st.button(t("dm.load"), key="dm_load"):
        return
    with st.spinner(t("dm.load")):
        res = dry_run.load_upload(path, kind, mapping)
    audit.record("load", who, "admin", what=f"{kind} {res.file}", rows=res.rows_read, outcome=res.outcome,
                 loaded=res.loaded, updated=res.updated, quarantined=res.quarantined_total, sha256=res.sha256)
    if res.outcome == "failed":
        st.error(t("dm.load_failed", msg=md(res.message)))
        return
    st.success(t("dm.loaded", outcome=t(f"data.outcome.{res.outcome}"), read=fmt.num(res.rows_read),
                 loaded=fmt.num(res.loaded), updated=fmt.num(res.updated), bad=fmt.num(res.quarantined_total)))
    if res.loaded or res.updated:  # alert rules see the new data, as after a command-line load
        from alerts import after_load

        after_load(None)
