"""The page registry: one place that names every page, its group, icon and URL."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    key: str          # label key page.<key> and the URL path
    file: str
    icon: str
    group: str        # label key nav.group.<group>


PAGES = [
    PageSpec("wall", "pages/wall.py", ":material/tv:", "wall"),
    PageSpec("home", "pages/home.py", ":material/home:", "leaders"),
    PageSpec("overview", "pages/overview.py", ":material/monitoring:", "leaders"),
    PageSpec("map", "pages/map.py", ":material/map:", "analysis"),
    PageSpec("grid", "pages/grid.py", ":material/grid_on:", "analysis"),
    PageSpec("cases", "pages/cases.py", ":material/sync_alt:", "analysis"),
    PageSpec("risk", "pages/risk.py", ":material/warning:", "analysis"),
    PageSpec("ssra", "pages/ssra.py", ":material/gavel:", "analysis"),
    PageSpec("petition", "pages/petition.py", ":material/record_voice_over:", "analysis"),
    PageSpec("opinion", "pages/opinion.py", ":material/forum:", "analysis"),
    PageSpec("population", "pages/population.py", ":material/groups:", "analysis"),
    PageSpec("data", "pages/data.py", ":material/database:", "data"),
]
DEFAULT_PAGE = "home"

# Each page file is named like its URL path: before app.py first runs, Streamlit resolves a
# deep link against the pages/ folder by file name, and a mismatch shows "Page not found".
