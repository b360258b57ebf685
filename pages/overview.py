"""overview page: placeholder until its issue lands."""

import streamlit as st

from ui.filters import sidebar
from ui.i18n import t

sidebar()
st.title(t("page.overview"))
st.info(t("page.coming"))
