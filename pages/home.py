"""首页: a few headline numbers straight from the warehouse, and where to go next."""

import streamlit as st

from ui import fmt
from ui.cache import call
from ui.filters import sidebar
from ui.freshness import banner
from ui.i18n import t
from ui.mdtext import md
from ui.report_button import report_download
from warehouse import areas, home

f = sidebar()
name = call(areas.names).get(f.area_code, f.area_code)
st.title(f"{md(name)} · {t('app.title')}")
st.caption(t("app.subtitle"))
banner()
h = call(home.headline, f.scope, f.area_code)
cols = st.columns(4)
cols[0].metric(t("home.residents"), fmt.num(h["residents"]))
cols[1].metric(t("home.grids"), fmt.num(h["grids"]))
cols[2].metric(t("home.cases_today"), fmt.num(h["cases_today"]))
cols[3].metric(t("home.cases_30d"), fmt.num(h["cases_30d"]))
cols = st.columns(4)
cols[0].metric(t("home.open"), fmt.num(h["open"]))
cols[1].metric(t("home.open_overdue"), fmt.num(h["open_overdue"]))
cols[2].metric(t("home.satisfaction_30d"), fmt.pct(h["satisfaction_30d"]))
st.info(t("home.intro"), icon=":material/info:")
st.subheader(t("report.title"))
report_download(f)
