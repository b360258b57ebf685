"""Issue #18: no published figure gives a suppressed special-group count away.

Two attacks from the review, re-run, and one property over every dataset:

* density attack: the risk index's n_special_density per grid is an affine function of
  special / residents; fitted on the grids whose count is shown, it returned every hidden
  grid count exactly. Now it returns only what the population page already publishes.
* RAG attack: a suppressed 重新犯罪率 kept its colour while 安置率 published the same
  denominator, so amber with den 90 meant exactly 1.
* audit: perturb hidden special-group counts in a way the published suppressed tables cannot
  see (same markers, same shown cells and totals); every dataset must come out identical.
"""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import polars as pl
import pytest

from warehouse import datasets, population, suppression
from warehouse.db import Scope
from warehouse.definitions import SPECIAL_GROUP_COLUMNS

AGG = Scope(person_level=False, name="audit")
GROUPS = list(SPECIAL_GROUP_COLUMNS)


def _density_attack(path) -> pl.DataFrame:
    """Per hidden grid (score not clipped): what the attack infers from the published risk
    dataset, the true count, and the figure the population page lets anyone work out.

    n_special_density = 10 · (x − min) / (max − min) with x = special · 1000 / residents and
    min = 0 (grids with 0 are shown as 0), so n · residents is proportional to the count: the
    smallest such product among hidden grids is a count of 1, and every other hidden count is
    its multiple (at county scale two shown grids give the scale as well)."""
    risk = datasets.get("risk", AGG, path=path)
    last = risk["period"].max()
    risk = risk.filter(pl.col("period") == last).select("area_code", "n_special_density")
    con = duckdb.connect(str(path), read_only=True)
    truth = con.sql(f"""SELECT area_code, count(*) AS pop, sum({' + '.join(c + '::INT' for c in GROUPS)}) AS special
                        FROM person GROUP BY 1""").pl()
    pub = population.published_grid_totals(con)
    con.close()
    from warehouse.risk import HIDDEN_SPECIAL_STAND_IN

    df = (risk.join(truth, on="area_code").join(pub, on="area_code")
          .filter(pl.col("special_shown").is_null() & pl.col("n_special_density").is_between(0.001, 9.999))
          .with_columns((pl.col("n_special_density") * pl.col("pop")).alias("k"),
                        pl.coalesce("village_share", pl.lit(HIDDEN_SPECIAL_STAND_IN)).alias("published")))
    return df.with_columns((pl.col("k") / pl.col("k").min()).round(0).alias("inferred"),
                           (pl.col("k") / pl.col("published")).alias("k_per_published"))


def test_density_times_residents_recovers_nothing_hidden(small_db):
    df = _density_attack(small_db)
    assert df.height > 20
    exact = df.filter(pl.col("inferred") == pl.col("special")).height
    ratio = df["k_per_published"]
    guess = df["special"].value_counts()["count"].max()  # "every hidden grid has the commonest count"
    print(f"density attack: {exact} of {df.height} hidden grid totals recovered exactly "
          f"(a blind guess of the commonest value hits {guess}); "
          f"n·residents / published stand-in spread {ratio.min():.4f}..{ratio.max():.4f}")
    # n·residents follows the published stand-in alone: the attack learns what the
    # population page says and nothing more
    assert ratio.max() - ratio.min() < 1e-6 * ratio.max()


@pytest.mark.slow
def test_density_attack_recovers_nothing_at_county_scale(county_db):
    """The scale of the review's 494-of-494 (python benchmarks/side_channels.py prints it all)."""
    df = _density_attack(county_db)
    assert df.height > 200
    ratio = df["k_per_published"]
    assert ratio.max() - ratio.min() < 1e-6 * ratio.max()
    ind = datasets.get("indicators", AGG, path=county_db).filter(pl.col("suppressed"))
    assert ind["rag"].null_count() == ind.height and ind["value"].null_count() == ind.height


def test_suppressed_indicator_has_no_colour(small_db):
    df = datasets.get("indicators", AGG, path=small_db)
    sup = df.filter(pl.col("suppressed"))
    assert sup.height > 0
    assert sup["rag"].null_count() == sup.height
    assert sup["value"].null_count() == sup.height


# ---------------------------------------------------------------- the audit over every dataset


def _copy(src, dst):
    shutil.copy(src, dst)
    return dst


def _village_perturbation(con) -> tuple[str, list[str], list[str]] | None:
    """SQL that moves one special-group member from grid A to grid B of the same village, where
    the village's published table (markers, shown cells, totals) stays exactly the same."""
    counts = con.sql(f"SELECT area_code, {', '.join(f'count(*) FILTER (WHERE {c}) AS {c}' for c in GROUPS)} "
                     "FROM person GROUP BY 1").pl()
    villages = sorted(set(c[:12] for c in counts["area_code"].to_list()))
    for v in villages:
        raw = counts.filter(pl.col("area_code").str.starts_with(v)).sort("area_code")
        if raw.height < 2:
            continue
        base = suppression.suppress(raw, GROUPS, "area_code")
        for g in ("is_drug", "is_mental", "is_youth"):
            vals = raw[g].to_list()
            for i in range(raw.height):
                for j in range(raw.height):
                    if i == j or not (2 <= vals[i] <= 4 and 1 <= vals[j] <= 3):
                        continue
                    new = raw.with_columns(pl.Series(g, [vals[k] - (k == i) + (k == j) for k in range(raw.height)],
                                                     dtype=pl.Int64))
                    after = suppression.suppress(new, GROUPS, "area_code")
                    if not after.drop("area_code").equals(base.drop("area_code")):
                        continue
                    a, b = raw["area_code"][i], raw["area_code"][j]
                    others = " OR ".join(c for c in GROUPS if c != g)
                    return a, [], [
                        f"""UPDATE person SET {g} = FALSE WHERE person_key = (
                              SELECT person_key FROM person WHERE area_code = '{a}' AND {g}
                              AND NOT ({others}) ORDER BY person_key LIMIT 1)""",
                        f"""UPDATE person SET {g} = TRUE WHERE person_key = (
                              SELECT person_key FROM person WHERE area_code = '{b}' AND NOT {g}
                              AND NOT ({others}) AND reoffended IS NULL AND is_placed IS NULL
                              ORDER BY person_key LIMIT 1)"""]
    return None


def _reoffend_perturbation(con) -> tuple[str, list[str], list[str]]:
    """Two towns with enough released prisoners to be ranked (>= min_base), one and two of them
    reoffending (both 重新犯罪率 suppressed); the perturbation swaps which town has two. The
    county's count stays the same, so nothing published may move."""
    towns = [r[0] for r in con.sql("SELECT DISTINCT left(area_code, 9) FROM person ORDER BY 1").fetchall()][:2]

    def add_released(town: str, n: int) -> str:
        return f"""UPDATE person SET is_released = TRUE, is_placed = TRUE, reoffended = FALSE
                   WHERE person_key IN (SELECT person_key FROM person WHERE left(area_code, 9) = '{town}'
                   AND NOT (is_corrections OR is_released OR is_mental OR is_drug OR is_youth)
                   ORDER BY person_key LIMIT {n})"""

    def reoffend(town: str, n: int) -> str:
        return f"""UPDATE person SET reoffended = (person_key IN (SELECT person_key FROM person
                   WHERE left(area_code, 9) = '{town}' AND is_released ORDER BY person_key LIMIT {n}))
                   WHERE left(area_code, 9) = '{town}' AND is_released"""

    setup = [add_released(t, 30) for t in towns]
    base = setup + [reoffend(towns[0], 1), reoffend(towns[1], 2)]
    moved = setup + [reoffend(towns[0], 2), reoffend(towns[1], 1)]
    return towns[0], base, moved


def _perturbed(small_db, tmp_path, make) -> tuple[object, object, str]:
    """(baseline copy, perturbed copy, area to look at) of the small warehouse."""
    from warehouse import marts

    paths = []
    for name in ("base", "moved"):
        path = _copy(small_db, tmp_path / f"{name}.duckdb")
        con = duckdb.connect(str(path))
        found = make(con)
        if found is None:
            con.close()
            pytest.skip("no hidden cells to perturb in this demo")
        focus, base, moved = found
        for st in base if name == "base" else moved:
            con.execute(st)
        marts.rebuild(con, {"person"})
        con.close()
        paths.append(path)
    return paths[0], paths[1], focus


def _attempt(fn, *args, **kw) -> pl.DataFrame:
    try:
        out = fn(*args, **kw)
    except Exception as e:  # noqa: BLE001 – e.g. a dataset that needs other arguments
        return pl.DataFrame({"error": [type(e).__name__]})
    if hasattr(out, "blocks"):  # a report: its text and tables
        return pl.DataFrame({"block": [repr((b.text, b.rows)) for b in out.blocks]})
    return out if isinstance(out, pl.DataFrame) else pl.DataFrame({"repr": [repr(out)]})


def _outputs(town: str, grid: str) -> dict[str, tuple]:
    """Every dataset an aggregate viewer may export (with the arguments a page would use), the
    wall's panels and the monthly report: name -> (function, args, kwargs without path)."""
    from warehouse import db, periods, wall
    from warehouse.report import compose

    out = {}
    for name, ds in datasets.all_datasets().items():
        if not ds.person_level:
            for args in ({}, {"area": town}, {"area": grid}):
                out[f"{name} {args}"] = (datasets.get, (name, AGG), args)
    for kind in ("risk", "opinion"):
        out[f"wall warnings {kind}"] = (wall.warnings, (db.WALL, kind), {})
    for name in ("headline", "village_risk", "village_heat", "town_cases"):
        out[f"wall {name}"] = (getattr(wall, name), (db.WALL,), {})
    month = periods.period_of("month", date(2026, 10, 1))
    for area in (town[:6], town):
        out[f"report {area}"] = (compose.build, (db.FULL, area, month), {"with_charts": False})
    return out


def _differences(base, perturbed, focus: str) -> list[str]:
    """Outputs that differ between the two warehouses (an output that differs between two
    runs on the same warehouse, e.g. one reading the clock, is not counted)."""
    con = duckdb.connect(str(base), read_only=True)
    grid = con.sql(f"SELECT min(code) FROM area WHERE level = 'grid' AND starts_with(code, '{focus}')"
                   ).fetchall()[0][0]
    con.close()
    changed = []
    for key, (fn, args, kw) in _outputs(grid[:9], grid).items():
        before = _attempt(fn, *args, path=base, **kw)
        if not before.equals(_attempt(fn, *args, path=perturbed, **kw)) and \
                before.equals(_attempt(fn, *args, path=base, **kw)):
            changed.append(key)
    return changed


def test_audit_hidden_grid_counts_change_no_dataset(small_db, tmp_path):
    base, perturbed, focus = _perturbed(small_db, tmp_path, _village_perturbation)
    changed = _differences(base, perturbed, focus)
    print("datasets that moved with a hidden grid count:", changed)
    assert changed == []


def test_audit_hidden_reoffending_changes_no_dataset(small_db, tmp_path):
    base, perturbed, focus = _perturbed(small_db, tmp_path, _reoffend_perturbation)
    changed = _differences(base, perturbed, focus)
    print("datasets that moved with a hidden reoffending count:", changed)
    assert changed == []
