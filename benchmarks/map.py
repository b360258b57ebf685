"""Time the grid heatmap at county scale: compute the values and build the pydeck map.

    python benchmarks/map.py [--db PATH] [--repeat 3]

Without --db it builds the county demo into a temporary file first (~15 s). "Cold" is the
first call in this process (DuckDB's caches empty, the data clock and risk scores not yet
computed); "warm" is the median of the repeats after it. "All grids" draws every grid of the
county (~800 polygons) in one deck (the page's "show every grid" switch): one query for the
values, then the deck serialised to the JSON Streamlit sends to the browser.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from ui import map as umap  # noqa: E402
from warehouse import areas as wa  # noqa: E402
from warehouse import geo  # noqa: E402
from warehouse.db import FULL  # noqa: E402

WINDOW = (date(2026, 10, 1), date(2026, 11, 1))


def county_map(path, county: str) -> int:
    values = geo.map_values(FULL, county, *WINDOW, path=path)
    shapes = geo.polygons(FULL, county, path=path)
    edges = umap.bin_edges(values["cases_per_1k"], "cases_per_1k", "quantile")
    rows = umap.polygon_rows(shapes, values, "cases_per_1k", edges, "cividis", "v", "r")
    deck = umap.polygon_deck(rows, umap.label_rows(shapes), umap.view_for(shapes))
    return len(deck.to_json())


def all_grids_map(path, county: str) -> tuple[int, int]:
    values = geo.map_values(FULL, county, *WINDOW, path=path, level="grid")
    shapes = geo.polygons(FULL, county, path=path, level="grid")
    edges = umap.bin_edges(values["cases_per_1k"], "cases_per_1k", "quantile")
    rows = umap.polygon_rows(shapes, values, "cases_per_1k", edges, "cividis", "v", "r")
    deck = umap.polygon_deck(rows, [], umap.view_for(shapes))
    return values.height, len(deck.to_json())


def hexes(path, county: str) -> int:
    return geo.hexagons(FULL, county, date(2026, 1, 1), WINDOW[1], resolution=8, path=path).height


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="a county-scale warehouse (default: build one in a temporary dir)")
    ap.add_argument("--repeat", type=int, default=3, help="warm repeats (median reported)")
    args = ap.parse_args(argv)
    path = args.db
    if not path:
        from etl.demo.build import build
        path = Path(tempfile.mkdtemp()) / "county.duckdb"
        t, _ = timed(build, path, seed=20261124, scale="county", as_of=datetime(2026, 11, 24, 10), show_progress=True)
        print(f"built county demo in {t:.1f} s")
    county = wa.root_codes(FULL, path=path)[0]
    for name, fn in (("county → towns", county_map), ("all grids, one deck", all_grids_map),
                     ("H3 res 8, cases Jan–Oct", hexes)):
        cold, out = timed(fn, path, county)
        warm = statistics.median(timed(fn, path, county)[0] for _ in range(args.repeat))
        print(f"{name:<26} cold {cold * 1000:8.0f} ms   warm {warm * 1000:8.0f} ms   ({out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
