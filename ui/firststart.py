"""First start: build the demo warehouse when none exists, with progress on screen."""

from __future__ import annotations

import fcntl

import streamlit as st

from ui.i18n import t
from warehouse import db


def ensure_warehouse() -> None:
    path = db.db_path()
    if path.exists():
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
