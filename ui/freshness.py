"""The data-freshness banner: latest load per domain from etl_run, warning when stale."""

from __future__ import annotations

import streamlit as st

from ui import fmt
from ui.cache import call
from ui.i18n import t
from warehouse import meta


def banner() -> None:
    df = call(meta.freshness)
    stale = [t(f"domain.{d}") for d in df.filter(df["stale"])["domain"]]
    now = call(meta.data_now)
    text = t("fresh.as_of", when=fmt.moment(now))
    if stale:
        st.warning(text + " · " + t("fresh.stale", domains="、".join(stale)), icon=":material/schedule:")
    else:
        st.caption(text)
