"""First start: build the demo warehouse when none exists, with progress on screen."""

from __future__ import annotations

import fcntl
import logging

import duckdb
import streamlit as st

from ui.i18n import t
from warehouse import db, schema

_current: set[str] = set()  # warehouse builds already checked against SCHEMA_VERSION


def ensure_warehouse() -> None:
    path = db.db_path()
    if path.exists():
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
        st.toast(t("app.built"))
