"""The county's own gazetteer: which names in a post point to which area.

Entries come from the loaded `area` rows, whatever county they are: town names (三河镇) and
their bare form (三河), village short names as people say them (长河村, 临河社区; see
etl.names.short_name), and landmarks, which are data per county: landmarks/<county code>.csv
in this package (town_code,name) plus a county's own landmarks.csv beside its warehouse. A
landmark only links to a town of its own county (full code), never to another county's town
whose code ends the same. Linking: the longest name found in
the text wins; when a post names several places, a village beats a landmark beats a town
(the most specific place is what the post is about).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl

from etl.names import short_name

LANDMARK_DIR = Path(__file__).with_name("landmarks")
RANK = {"village": 0, "landmark": 1, "town": 2}  # lower = more specific
TOWN_SUFFIXES = ("街道", "镇", "乡")
COLUMNS = ("name", "area_code", "kind", "lon", "lat")


def bare_town(name: str) -> str | None:
    for suffix in TOWN_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def load_landmarks(counties, extra: Path | None = None) -> list[tuple[str, str]]:
    """(town_code, name) for the given county codes: the package's landmarks/<code>.csv and
    `extra` (a county's own file, same columns) when it exists."""
    files = [LANDMARK_DIR / f"{c}.csv" for c in counties]
    if extra is not None:
        files.append(Path(extra))
    out = []
    for f in files:
        if f.exists():
            with f.open(encoding="utf-8") as fh:
                lines = [line for line in fh if not line.startswith("#")]
            out += [(r["town_code"].strip(), r["name"].strip()) for r in csv.DictReader(lines)
                    if r.get("town_code") and r.get("name")]
    return out


def build_gazetteer(areas: pl.DataFrame, landmarks: list[tuple[str, str]] | None = None) -> pl.DataFrame:
    """One row per (name, area) from an `area` table (code, name, level, lon, lat);
    `landmarks` as (town_code, name), default the loaded counties' files (load_landmarks)."""
    rows: list[tuple] = []
    towns = areas.filter(pl.col("level") == "town")
    for code, name, lon, lat in towns.select("code", "name", "lon", "lat").iter_rows():
        rows.append((name, code, "town", lon, lat))
        if bare := bare_town(name):
            rows.append((bare, code, "town", lon, lat))
    for code, name, lon, lat in areas.filter(pl.col("level") == "village").select(
            "code", "name", "lon", "lat").iter_rows():
        rows.append((short_name(name), code, "village", lon, lat))
        if name != short_name(name):
            rows.append((name, code, "village", lon, lat))
    town_at = {c: (lon, lat) for c, lon, lat in towns.select("code", "lon", "lat").iter_rows()}
    counties = areas.filter(pl.col("level") == "county")["code"].to_list()
    for code, name in landmarks if landmarks is not None else load_landmarks(counties):
        if code in town_at:  # a town of a loaded county, by its full code
            rows.append((name, code, "landmark", *town_at[code]))
    df = pl.DataFrame(rows, schema={"name": pl.Utf8, "area_code": pl.Utf8, "kind": pl.Utf8,
                                    "lon": pl.Float64, "lat": pl.Float64}, orient="row")
    # a name shared by two areas of the same kind cannot be linked safely: drop it
    return df.unique(["name", "area_code"]).filter(pl.len().over("name", "kind") == 1).sort("name")


class Linker:
    """Find the place a text is about: longest match, then village > landmark > town."""

    def __init__(self, gazetteer: pl.DataFrame):
        g = gazetteer.sort(pl.col("name").str.len_chars(), descending=True)
        # one entry per name; where kinds share a name, the most specific is written last
        by_rank = g.sort(pl.col("kind").replace_strict(RANK, default=9), descending=True)
        self.entries = {n: (c, k, lon, lat) for n, c, k, lon, lat in by_rank.select(COLUMNS).iter_rows()}
        names = list(dict.fromkeys(g["name"]))  # longest first: the regex tries them in order
        self.pattern = re.compile("|".join(map(re.escape, names))) if names else None

    def link(self, text: str | None) -> tuple[str, str, float, float] | None:
        """(place_text, area_code, lon, lat) or None when no known place is named."""
        if not text or self.pattern is None:
            return None
        found = [m.group(0) for m in self.pattern.finditer(text)]
        if not found:
            return None
        best = min(found, key=lambda n: (RANK[self.entries[n][1]], -len(n)))
        code, _, lon, lat = self.entries[best]
        return best, code, lon, lat
