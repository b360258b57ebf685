"""Entry point: `streamlit run app.py`. Builds the demo warehouse on first start, then
serves the pages named in ui/nav.py. `/?view=wall` opens the wall display on its own."""

import streamlit as st

from ui.filters import init_language
from ui.firststart import ensure_warehouse
from ui.i18n import t
from ui.nav import DEFAULT_PAGE, PAGES

st.set_page_config(page_title="社会治理联动指挥平台", page_icon=":material/shield:", layout="wide")
init_language()


def page(spec):
    return st.Page(spec.file, title=t(f"page.{spec.key}"), icon=spec.icon, url_path=spec.key,
                   default=spec.key == DEFAULT_PAGE)


if st.query_params.get("view") == "wall":
    wall = next(p for p in PAGES if p.key == "wall")
    nav = st.navigation([st.Page(wall.file, title=t("page.wall"), default=True)], position="hidden")
else:
    groups: dict[str, list] = {}
    for spec in PAGES:
        groups.setdefault(t(f"nav.group.{spec.group}"), []).append(page(spec))
    nav = st.navigation(groups)
ensure_warehouse()  # after st.navigation, so the sidebar never lists raw page files
nav.run()
