"""First start: build the demo warehouse when none exists, with progress on screen.

Only the very first start with no configuration builds it: WAREHOUSE_DB unset, the default
path, and no warehouse ever seen there (a marker file beside it says one was). A configured
path that is missing, or a default warehouse gone since, shows an error page instead: a page
view must never build a demo county where a county's data is expected (issue #18)."""

from __future__ import annotations

import fcntl
import logging
import os

import duckdb
import streamlit as st

from ui.i18n import t
from warehouse import db, schema

_current: set[str] = set()  # warehouse builds already checked against SCHEMA_VERSION


def first_start_marker(path):
    return path.with_name(".first_start_done")


def may_build_demo(path) -> bool:
    """The very first start with no configuration (see the module doc)."""
    return (not os.environ.get("WAREHOUSE_DB") and path == db.db_path(db.DEFAULT_DB)
            and not first_start_marker(path).exists())


def _mark(path) -> None:
    marker = first_start_marker(path)
    if path == db.db_path(db.DEFAULT_DB) and not marker.exists():
        try:
            marker.touch()
        except OSError:  # a read-only data directory: the demo is never built there anyway
            pass


def ensure_warehouse() -> None:
    path = db.db_path()
    db.sweep_stale(path)  # copies left by a writer killed with kill -9
    if path.exists():
        _mark(path)
        if db.version(path) not in _current:  # a warehouse from an older release: bring it up to date
            try:
                if schema.needs_upgrade(path):
                    with st.spinner(t("app.upgrading")):  # seconds at city scale
                        schema.upgrade_locked(path)
            except duckdb.Error as e:  # unreadable file: pages report it (the wall keeps its last figures)
                logging.getLogger(__name__).error("warehouse %s not readable: %s", path, e)
                return
            _current.add(db.version(path))
        return
    if not may_build_demo(path):
        st.error(t("first_start.missing", path=str(path)))
        st.stop()
    path.parent.mkdir(parents=True, exist_ok=True)
    # one build even when several browsers open the fresh app at once
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return
        from etl.demo.build import build

        bar = st.progress(0.0, text=t("app.building"))
        build(path, scale="county", show_progress=False,
              on_step=lambda done, total: bar.progress(done / total, text=t("app.building")))
        bar.empty()
        _mark(path)
        st.toast(t("app.built"))
