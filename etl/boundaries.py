"""`python -m etl load --kind boundaries FILE.geojson|FILE.zip [--datum wgs84|gcj02]`.

Outlines for areas that are already loaded: each feature of a GeoJSON file (or of the
shapefile in a .zip) is matched to one area by its code (adcode, 区划代码 …) or, failing
that, by its name (full or short: etl.area_names.stem), and sets that area's geometry. No
other column changes, except lon/lat/area_km2 where they are still empty (from the shape).
A feature that matches no area, or several, is quarantined with its properties.

The warehouse keeps GCJ-02 (the datum of the DataV outlines and of the demo): a file stated
as WGS-84 (--datum wgs84, e.g. from a surveying office or OpenStreetMap) is shifted to GCJ-02.
"""

from __future__ import annotations

import io
import json
import math
import time
import zipfile
from datetime import datetime
from pathlib import Path

import polars as pl

from etl.readers import FileNotLoadable

CODE_KEYS = ("adcode", "code", "区划代码", "统计用区划代码", "行政区划代码", "网格编码", "编码", "xzqdm", "XZQDM",
             "ADCODE", "CODE", "gb", "GB")
NAME_KEYS = ("name", "名称", "区划名称", "网格名称", "NAME", "xzqmc", "XZQMC", "mc", "MC")
DATUMS = ("gcj02", "wgs84")


# ---- WGS-84 → GCJ-02 (the published approximation every Chinese map SDK uses; ~1 m)
_A, _EE = 6378245.0, 0.00669342162296594323


def _d_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _d_lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    dlat, dlon = _d_lat(lon - 105.0, lat - 35.0), _d_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (_A / sq * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def _shift(coords, fn):
    if isinstance(coords[0], (int, float)):
        return [*fn(coords[0], coords[1]), *coords[2:]]
    return [_shift(c, fn) for c in coords]


# ---- reading
def read_features(path: Path) -> list[dict]:
    """GeoJSON (FeatureCollection, Feature or bare geometry) or a zipped shapefile → features."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _shapefile_features(path)
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FileNotLoadable(f"not GeoJSON: {e}") from e
    if doc.get("type") == "FeatureCollection":
        return list(doc.get("features") or [])
    if doc.get("type") == "Feature":
        return [doc]
    if doc.get("type") in ("Polygon", "MultiPolygon"):
        return [{"type": "Feature", "properties": {}, "geometry": doc}]
    raise FileNotLoadable("not GeoJSON: expected a FeatureCollection, Feature, Polygon or MultiPolygon")


def _shapefile_features(path: Path) -> list[dict]:
    import shapefile

    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise FileNotLoadable(f"not a zip of a shapefile: {e}") from e
    names = {Path(n).suffix.lower(): n for n in z.namelist() if not n.startswith("__MACOSX")}
    if ".shp" not in names or ".dbf" not in names:
        raise FileNotLoadable("the zip holds no .shp/.dbf pair")
    for enc in ("utf-8", "gbk"):  # Chinese shapefiles' .dbf is often GBK (see .cpg when present)
        try:
            r = shapefile.Reader(shp=io.BytesIO(z.read(names[".shp"])), dbf=io.BytesIO(z.read(names[".dbf"])),
                                 shx=io.BytesIO(z.read(names[".shx"])) if ".shx" in names else None, encoding=enc)
            return [{"type": "Feature", "properties": rec.record.as_dict(), "geometry": rec.shape.__geo_interface__}
                    for rec in r.iterShapeRecords()]
        except UnicodeDecodeError:
            continue
    raise FileNotLoadable("shapefile attributes are neither UTF-8 nor GBK")


def _prop(props: dict, keys) -> str | None:
    for k in keys:
        v = props.get(k)
        if v not in (None, ""):
            return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()
    return None


def match(features: list[dict], areas: pl.DataFrame) -> pl.DataFrame:
    """One row per feature: line (1-based feature number), code matched (or null), reason."""
    from etl.area_names import stem

    rows = [{"line": i + 1, "fcode": _prop(f.get("properties") or {}, CODE_KEYS),
             "fname": _prop(f.get("properties") or {}, NAME_KEYS)} for i, f in enumerate(features)]
    df = pl.DataFrame(rows, schema={"line": pl.Int64, "fcode": pl.Utf8, "fname": pl.Utf8})
    keyed = areas.with_columns(stem(pl.col("name")).alias("key"))
    by_key = keyed.group_by("key").agg(pl.col("code").first().alias("by_name"), pl.len().alias("n"))
    by_full = areas.group_by("name").agg(pl.col("code").first().alias("by_full"), pl.len().alias("n_full"))
    df = (df.join(areas.select(pl.col("code").alias("by_code")), left_on="fcode", right_on="by_code",
                  how="left", coalesce=False)
          .join(by_full, left_on="fname", right_on="name", how="left")
          .with_columns(stem(pl.col("fname")).alias("key"))
          .join(by_key, on="key", how="left"))
    # the code, else the exact full name, else the short name (塔集 is both 塔集镇 and 塔集村: ambiguous)
    code = pl.coalesce("by_code", pl.when(pl.col("n_full") == 1).then(pl.col("by_full")),
                       pl.when(pl.col("n") == 1).then(pl.col("by_name")))
    reason = (pl.when(code.is_not_null()).then(None)
              .when(pl.col("n") > 1).then(pl.lit("ambiguous_area"))
              .when(pl.col("fcode").is_null() & pl.col("fname").is_null()).then(pl.lit("missing_value"))
              .otherwise(pl.lit("unknown_area")))
    return df.select("line", code.alias("code"), reason.alias("reason"), "fcode", "fname")


def load(file, path=None, datum: str = "gcj02", now: datetime | None = None):
    """Set the outlines of loaded areas from one file; returns etl.load.LoadResult."""
    from shapely.geometry import mapping, shape

    from etl import load as loader
    from warehouse import db, marts

    file, started, t0 = Path(file), datetime.now(), time.perf_counter()
    now = now or started
    res = loader.LoadResult(file=file.name, kind="boundaries", profile=f"datum={datum}")
    live = loader.ensure_warehouse(path)
    try:
        if datum not in DATUMS:
            raise ValueError(f"--datum must be one of {', '.join(DATUMS)}")
        if not file.exists():
            raise FileNotLoadable(f"no such file: {file}")
        res.sha256 = loader.sha256_of(file)
        features = read_features(file)
        res.rows_read = len(features)
        with loader._one_writer(live), db.writing(live) as con:
            areas = con.sql("SELECT code, name, level FROM area").pl()
            if areas.is_empty():
                raise ValueError("no areas loaded yet: load the area list (--kind areas) first")
            m = match(features, areas)
            good, rows, bad_lines = [], [], []
            for (line, code, reason, _, _), feat in zip(m.iter_rows(), features):
                geom = feat.get("geometry")
                if code is not None and (not geom or geom.get("type") not in ("Polygon", "MultiPolygon")):
                    code, reason = None, "bad_value"
                if code is None:
                    bad_lines.append((line, reason))
                    continue
                if datum == "wgs84":
                    geom = {"type": geom["type"], "coordinates": _shift(geom["coordinates"], wgs84_to_gcj02)}
                shp = shape(geom)
                c = shp.representative_point() if not shp.centroid.within(shp) else shp.centroid
                km2 = shp.area * (111.32 ** 2) * math.cos(math.radians(c.y))  # degrees² → km² near the centre
                rows.append({"code": code, "geometry": json.dumps(mapping(shp), ensure_ascii=False),
                             "lon": c.x, "lat": c.y, "area_km2": round(km2, 2)})
                good.append(line)
            if rows:
                con.register("_b", pl.DataFrame(rows).unique("code", keep="last").to_arrow())
                con.execute("""UPDATE area SET geometry = b.geometry, lon = coalesce(area.lon, b.lon),
                                   lat = coalesce(area.lat, b.lat), area_km2 = coalesce(area.area_km2, b.area_km2)
                               FROM _b b WHERE area.code = b.code""")
                con.unregister("_b")
            res.updated = len(good)  # outlines of areas that exist: updates, never new rows
            if bad_lines:
                _quarantine(con, res, features, bad_lines, now)
            res.outcome = "partial" if bad_lines else "ok"
            res.message = f"datum={datum}; {len(good)} outlines set"
            if rows:
                marts.rebuild(con, changed={"area"})
            _record(con, res, started, t0)
    except (FileNotLoadable, ValueError) as e:
        res.outcome, res.message, res.updated, res.quarantined = "failed", str(e), 0, {}
        try:
            with db.writing(live) as con:
                _record(con, res, started, t0)
        except Exception:  # recording must never hide the original problem
            pass
    res.seconds = round(time.perf_counter() - t0, 3)
    return res


def _quarantine(con, res, features, bad_lines, now) -> None:
    from etl.rules import reason_zh

    res.quarantined = {}
    rows = []
    for line, reason in bad_lines:
        res.quarantined[reason] = res.quarantined.get(reason, 0) + 1
        props = features[line - 1].get("properties") or {}
        rows.append({"run_id": res.run_id, "file_name": res.file, "line_no": line, "column_name": "properties",
                     "reason_key": reason, "reason_zh": reason_zh(reason),
                     "raw_row": json.dumps({k: str(v) for k, v in props.items()}, ensure_ascii=False),
                     "created_at": now})
    con.register("_q", pl.DataFrame(rows).to_arrow())
    con.execute("INSERT INTO quarantine BY NAME SELECT * FROM _q")
    con.unregister("_q")


def _record(con, res, started, t0) -> None:
    res.seconds = round(time.perf_counter() - t0, 3)
    con.execute(
        "INSERT INTO etl_run (run_id, kind, domain, file_name, sha256, started_at, finished_at, rows_read, "
        "rows_loaded, rows_updated, rows_quarantined, outcome, run_by, seconds, message) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [res.run_id, "boundaries", "areas", res.file, res.sha256, started, datetime.now(), res.rows_read,
         0, res.updated, res.quarantined_total, res.outcome, _user(), res.seconds, res.message[:2000]])


def _user() -> str:
    from etl.load import _user as user

    return user()
