"""The demo county's area hierarchy with plausible, nested, non-overlapping polygons.

Only the county outline is real. Towns are a Voronoi tessellation of approximate town
centres clipped to the outline; villages tessellate their town and grids their village, so
every level nests exactly and siblings never overlap.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import shapely
from shapely.geometry import MultiPoint, Point, mapping, shape

from etl.names import short_name

HERE = Path(__file__).parent
DIVISIONS_CSV = HERE / "divisions_320813_hongze.csv"
OUTLINE_GEOJSON = HERE / "outline_320813_hongze.geojson"
KM_PER_DEG_LAT = 111.32


def load_divisions() -> list[dict]:
    with DIVISIONS_CSV.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_outline():
    data = json.loads(OUTLINE_GEOJSON.read_text(encoding="utf-8"))
    return shapely.make_valid(shape(data["features"][0]["geometry"]))


def area_km2(geom) -> float:
    lat = geom.centroid.y
    return geom.area * KM_PER_DEG_LAT * KM_PER_DEG_LAT * math.cos(math.radians(lat))


def _random_points_in(poly, n: int, rng: np.random.Generator, near=None, spread=None) -> list:
    """n points inside poly; optionally clustered around `near` (communities hug the centre)."""
    minx, miny, maxx, maxy = poly.bounds
    prepared = shapely.prepared.prep(poly)
    pts: list = []
    tries = 0
    while len(pts) < n:
        tries += 1
        if near is not None and tries < 2000:
            x, y = rng.normal(near.x, spread), rng.normal(near.y, spread)
        else:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        p = Point(x, y)
        if prepared.contains(p) and all(p.distance(q) > 1e-4 for q in pts):
            pts.append(p)
    return pts


def tessellate(poly, seeds: list) -> list:
    """One cell per seed, clipped to poly, in seed order; together they cover poly."""
    if len(seeds) == 1:
        return [poly]
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=poly, ordered=True)
    out = []
    for cell in cells.geoms:
        part = shapely.make_valid(cell.intersection(poly))
        if part.geom_type == "GeometryCollection":
            polys = [g for g in part.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            part = shapely.union_all(polys)
        out.append(part)
    return out


def _snap_inside(poly, lon: float, lat: float):
    p = Point(lon, lat)
    if poly.contains(p):
        return p
    nearest = shapely.ops.nearest_points(poly.buffer(-0.01), p)[0]
    return nearest


def _geojson(geom) -> str:
    return json.dumps(mapping(shapely.set_precision(geom, 1e-5)), separators=(",", ":"))


def build_areas(cfg: dict, rng: np.random.Generator, county_code: str = "320813",
                county_name: str | None = None, offset: tuple[float, float] = (0.0, 0.0)
                ) -> tuple[pl.DataFrame, dict]:
    """Return the area table and a dict of village code -> planned residents.

    county_code/offset let the city scale clone the county shape side by side.
    """
    import shapely.ops  # noqa: F401  (nearest_points)

    outline = shapely.affinity.translate(load_outline(), *offset)
    divisions = load_divisions()
    towns = [d for d in divisions if d["level"] == "town"]
    villages = [d for d in divisions if d["level"] == "village"]

    def recode(c: str) -> str:
        return county_code + c[6:]

    rows: list[dict] = []

    def add(code, name, level, parent, kind, geom):
        c = geom.centroid if geom.contains(geom.centroid) else geom.representative_point()
        rows.append({"code": code, "name": name, "level": level, "parent_code": parent,
                     "kind": kind, "geometry": _geojson(geom), "lon": round(c.x, 6),
                     "lat": round(c.y, 6), "area_km2": round(area_km2(geom), 4)})

    add(county_code, county_name or divisions[0]["name"], "county", county_code[:4] + "00",
        "区", outline)

    town_seeds = [_snap_inside(outline, cfg["towns"][t["code"]]["lonlat"][0] + offset[0],
                               cfg["towns"][t["code"]]["lonlat"][1] + offset[1]) for t in towns]
    town_polys = tessellate(outline, town_seeds)
    lo, hi = cfg["village_size"]["community"], cfg["village_size"]["village"]
    planned: dict[str, float] = {}
    for town, tpoly, tseed in zip(towns, town_polys, town_seeds):
        tcode = recode(town["code"])
        kind = "街道" if town["name"].endswith("街道") else ("开发区" if "开发区" in town["name"] else "镇")
        add(tcode, town["name"], "town", county_code, kind, tpoly)
        tv = [v for v in villages if v["parent_code"] == town["code"]]
        is_comm = [v["code"][9] == "0" for v in tv]
        spread = math.sqrt(tpoly.area) / 6
        seeds = []
        for comm in is_comm:  # communities cluster near the town seat, villages spread out
            pts = _random_points_in(tpoly, 1, rng, near=tseed if comm else None, spread=spread)
            while any(pts[0].distance(q) < 1e-3 for q in seeds):
                pts = _random_points_in(tpoly, 1, rng)
            seeds.append(pts[0])
        for v, vpoly, comm in zip(tv, tessellate(tpoly, seeds), is_comm):
            vcode = recode(v["code"])
            add(vcode, v["name"], "village", tcode, "社区" if comm else "村", vpoly)
            size = lo if comm else hi
            planned[vcode] = float(rng.uniform(*size))

    scale = cfg["county"]["residents"] / sum(planned.values())
    planned = {k: v * scale for k, v in planned.items()}
    per_grid = cfg["county"]["residents_per_grid"]
    vrows = [r for r in rows if r["level"] == "village"]
    for v in vrows:
        vpoly = shape(json.loads(v["geometry"]))
        n = max(2, round(planned[v["code"]] / per_grid))
        seeds = _random_points_in(vpoly, n, rng)
        for i, gpoly in enumerate(tessellate(vpoly, seeds), start=1):
            add(f"{v['code']}{i:03d}", f"{short_name(v['name'])}第{i}网格", "grid", v["code"],
                "城市网格" if v["kind"] == "社区" else "农村网格", gpoly)
    return pl.DataFrame(rows), planned
