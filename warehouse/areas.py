"""The area hierarchy (county → town → village → grid): lookups for filters and drill-downs."""

from __future__ import annotations

import polars as pl

from warehouse import db
from warehouse.db import Scope

LEVELS = ("county", "town", "village", "grid")
CODE_LENGTH = {"county": 6, "town": 9, "village": 12, "grid": 15}


def level_of(code: str) -> str:
    for level, n in CODE_LENGTH.items():
        if len(code) == n:
            return level
    raise ValueError(f"not an area code: {code!r}")


def child_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def areas(scope: Scope, level: str | None = None, parent: str | None = None,
          with_geometry: bool = False, path=None) -> pl.DataFrame:
    """Areas visible in scope, optionally one level or the children of one parent."""
    cols = "code, name, level, parent_code, kind, lon, lat, area_km2" + (", geometry" if with_geometry else "")
    where = [scope.area_clause("code")]
    params: list = []
    if level:
        where.append("level = ?")
        params.append(level)
    if parent:
        where.append("parent_code = ?")
        params.append(parent)
    return db.query(f"SELECT {cols} FROM area WHERE {' AND '.join(where)} ORDER BY code", params, path)


def area(code: str, scope: Scope, path=None) -> dict | None:
    scope.check_area(code)
    df = db.query("SELECT code, name, level, parent_code, kind, lon, lat, area_km2 FROM area WHERE code = ?",
                  [code], path)
    return df.row(0, named=True) if df.height else None


def root_codes(scope: Scope, path=None) -> list[str]:
    """The top areas a viewer may choose: counties, or the areas named in the scope."""
    if scope.areas is not None:
        return list(scope.areas)
    return areas(scope, level="county", path=path)["code"].to_list()


def lineage(code: str, path=None) -> list[dict]:
    """The area and its ancestors, county first (for breadcrumbs)."""
    codes = [code[:n] for n in (6, 9, 12, 15) if len(code) >= n]
    df = db.query("SELECT code, name, level FROM area WHERE list_contains(?, code) ORDER BY length(code)",
                  [codes], path)
    return df.to_dicts()


def names(path=None) -> dict[str, str]:
    df = db.query("SELECT code, name FROM area", path=path)
    return dict(zip(df["code"], df["name"]))



def bounds(code: str | None = None, path=None) -> tuple[float, float, float, float] | None:
    """(min_lon, min_lat, max_lon, max_lat) of an area's outline (GCJ-02), or of the loaded
    counties when no code is given; else of the outlines below it, else of the areas' centre
    points; None when nothing is located. The map and the wall fit their view to this."""
    import json

    from shapely.geometry import shape

    like = f"{code}%" if code else "%"
    top = "code = ?" if code else "level = 'county'"
    for where, params in ((top, [code] if code else []), ("code LIKE ?", [like])):
        geo = db.query(f"SELECT geometry FROM area WHERE {where} AND geometry IS NOT NULL "
                       "ORDER BY length(code) LIMIT 500", params, path)
        boxes = [shape(json.loads(g)).bounds for g in geo["geometry"]]
        if boxes:
            return (min(b[0] for b in boxes), min(b[1] for b in boxes),
                    max(b[2] for b in boxes), max(b[3] for b in boxes))
    row = db.query("SELECT min(lon), min(lat), max(lon), max(lat) FROM area WHERE code LIKE ?", [like], path).row(0)
    return None if row[0] is None else tuple(float(v) for v in row)
