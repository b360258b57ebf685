"""The review's recovery attacks on suppressed special-group counts (issue #18), re-run on a
county-scale warehouse, with the figures for the closing note.

    python benchmarks/side_channels.py [--db county.duckdb]   # builds the county demo if missing

Density attack: the risk dataset's n_special_density per grid times the grid's residents (both
published) was proportional to the true special-group count, so the smallest product among
hidden grids was a count of 1 and every hidden count its multiple (before: 494 of 494 hidden
grid totals exact at county scale). Two ways to set the scale are tried: the smallest product
(a count of 1) and the grids whose count is shown (their exact count / product). A blind guess
(every hidden grid has the commonest hidden count) is printed beside them for comparison.
RAG attack: a suppressed indicator must show no colour.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="/tmp/side_channels_county.duckdb",
                    help="county-scale warehouse (built with the tests' seed if missing)")
    ap.add_argument("--audit", action="store_true",
                    help="also the audit of tests/test_side_channels.py on this warehouse: perturb hidden counts, "
                         "compare every dataset, the wall and the report (~10 min per perturbation at county scale)")
    args = ap.parse_args()
    os.environ.setdefault("WAREHOUSE_HASH_KEY", "test-key-not-secret")
    import duckdb
    import polars as pl

    from tests.conftest import AS_OF, SEED
    from tests.test_side_channels import AGG, _density_attack
    from warehouse import datasets, population

    db = Path(args.db)
    if not db.exists():
        from etl.demo.build import build

        t0 = time.perf_counter()
        build(db, seed=SEED, scale="county", as_of=AS_OF, show_progress=True)
        print(f"built {db} in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    df = _density_attack(db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        residents = con.sql("SELECT count(*) FROM person").fetchall()[0][0]
        pub = population.published_grid_totals(con)
    finally:
        con.close()
    exact_min = df.filter(pl.col("inferred") == pl.col("special")).height
    # scale from the shown grids: their exact count over their product
    risk = datasets.get("risk", AGG, path=db)
    risk = risk.filter(pl.col("period") == risk["period"].max()).select("area_code", "n_special_density")
    con = duckdb.connect(str(db), read_only=True)
    pops = con.sql("SELECT area_code, count(*) AS pop FROM person GROUP BY 1").pl()
    con.close()
    shown = (risk.join(pops, on="area_code").join(pub, on="area_code")
             .filter(pl.col("special_shown").is_not_null() & (pl.col("special_shown") > 0)
                     & (pl.col("n_special_density") > 0))
             .with_columns((pl.col("special_shown") / (pl.col("n_special_density") * pl.col("pop"))).alias("s")))
    scale = shown["s"].median() if shown.height else None
    exact_shown = (df.filter(((pl.col("k") * scale).round(0)) == pl.col("special")).height
                   if scale is not None else 0)
    guess = df["special"].value_counts()["count"].max()
    ratio = df["k_per_published"]
    print(f"county warehouse: {residents:,} residents; hidden grids attacked: {df.height} "
          f"(true counts 1–4: {df.filter(pl.col('special').is_between(1, 4)).height})")
    print(f"density attack, scale from the smallest product: {exact_min} of {df.height} exact")
    print(f"density attack, scale from {shown.height} shown grids: {exact_shown} of {df.height} exact")
    print(f"blind guess of the commonest hidden count: {guess} of {df.height}")
    from_page = df.filter(pl.col("published").round(0).cast(pl.Int64) == pl.col("special").cast(pl.Int64)).height
    print(f"no attack, the population page's village remainder shared over its hidden grids, rounded: "
          f"{from_page} of {df.height}")
    print(f"n·residents / published stand-in: {ratio.min():.6f} .. {ratio.max():.6f} "
          f"(one constant: the product carries nothing beyond the published figure)")
    ind = datasets.get("indicators", AGG, path=db)
    sup = ind.filter(pl.col("suppressed"))
    print(f"RAG attack: {sup.height} suppressed indicator rows, {sup['rag'].drop_nulls().len()} with a colour, "
          f"{sup['value'].drop_nulls().len()} with a value")
    print(f"attack ran in {time.perf_counter() - t0:.1f} s")
    if args.audit:
        import tempfile

        from tests.test_side_channels import (
            _differences,
            _perturbed,
            _reoffend_perturbation,
            _village_perturbation,
        )

        for name, make in (("hidden grid counts", _village_perturbation), ("hidden reoffending", _reoffend_perturbation)):
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as d:
                base, moved, focus = _perturbed(db, Path(d), make)
                changed = _differences(base, moved, focus)
            print(f"audit, {name} (in {focus}): {len(changed)} outputs moved {changed} "
                  f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
