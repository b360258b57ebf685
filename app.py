"""Entry point: `streamlit run app.py`. Builds the demo warehouse on first start, then
serves the pages named in ui/nav.py. `/?view=wall` opens the wall display on its own."""

from pathlib import Path

import streamlit as st

from ui import serving

serving.preload()  # before any page code: heavy imports done once, polars conversions guarded

from ui import auth  # noqa: E402
from ui.chrome import chrome  # noqa: E402
from ui.errors import shown_as_id  # noqa: E402
from ui.filters import init_language  # noqa: E402
from ui.firststart import ensure_warehouse  # noqa: E402
from ui.i18n import t  # noqa: E402
from ui.nav import DEFAULT_PAGE, PAGES  # noqa: E402
from warehouse.scope import OutOfScope  # noqa: E402

ICON = str(Path(__file__).with_name("ui") / "assets" / "icon.png")  # local: a :material: icon loads from fonts.gstatic.com

st.set_page_config(page_title="社会治理联动指挥平台", page_icon=ICON, layout="wide")
init_language()
chrome()


def page(spec):
    return st.Page(spec.file, title=t(f"page.{spec.key}"), icon=spec.icon, url_path=spec.key)


def root(home):
    """The app root (/) opens the home page at its own URL (/home, as linked in the README):
    Streamlit serves its default page only at /, so a default home page made /home "not found"."""
    def go_home():
        st.switch_page(home, query_params=st.query_params.to_dict())
    return st.Page(go_home, title=t(f"page.{DEFAULT_PAGE}"), url_path="root", default=True,
                   visibility="hidden")


viewer = auth.gate(st.query_params.get("view"))  # login form and stop, unless signed in / demo
if st.query_params.get("view") == "wall" or viewer.kiosk:
    wall = next(p for p in PAGES if p.key == "wall")
    nav = st.navigation([st.Page(wall.file, title=t("page.wall"), default=True)], position="hidden")
else:
    groups: dict[str, list] = {}
    for spec in PAGES:
        groups.setdefault(t(f"nav.group.{spec.group}"), []).append(page(spec))
    home = next(p for ps in groups.values() for p in ps if p.url_path == DEFAULT_PAGE)
    groups[next(iter(groups))].insert(0, root(home))
    nav = st.navigation(groups)
ensure_warehouse()  # after st.navigation, so the sidebar never lists raw page files
if nav.url_path == "wall" or viewer.kiosk:
    if viewer.demo:
        auth.wall_demo_marker()
else:
    auth.sidebar_user(viewer)
auth.record_view(viewer, nav.url_path or DEFAULT_PAGE)
with serving.run_slot(), shown_as_id():  # a few runs at a time; an error shows an id, never a traceback
    try:
        nav.run()
    except OutOfScope as refusal:  # an out-of-scope URL, case, grid or export: refused, never widened
        auth.refused(viewer, refusal, nav.url_path or DEFAULT_PAGE)
