"""矛盾纠纷排查与调解: disputes by how they were found (日常 / 集中 / 重点 / 专项排查, seed 003)
and how they were mediated (人民 / 行政 / 司法调解, the 三调 of seed 001's 五级三调).

Per sweep type, over the disputes (definitions.DISPUTE) reported in the period within scope:
disputes; resolved = with a resolution level (definitions.RESOLVED); resolved_local = at
village or town level (definitions.RESOLVED_LOCAL); the resolved ones by mediation kind
(people / admin / judicial; not stated = resolved − the three). A total row has sweep_type
NULL; disputes whose file gave no sweep type are the row '未注明'.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from warehouse import db
from warehouse.datasets import dataset
from warehouse.db import Scope
from warehouse.definitions import DISPUTE, RESOLVED, RESOLVED_LOCAL
from warehouse.periods import during

SWEEPS = ("日常排查", "集中排查", "重点排查", "专项排查")
MEDIATIONS = {"people_mediation": "人民调解", "admin_mediation": "行政调解", "judicial_mediation": "司法调解"}
NOT_STATED = "未注明"


@dataset("dispute_sweeps", "矛盾纠纷排查与调解: disputes by sweep type, resolved (locally) and by mediation kind")
def sweeps(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
           path=None) -> pl.DataFrame:
    when, params = during("reported_at", start, end)
    where = [scope.within(area), DISPUTE, *when]
    kinds = ", ".join(f"count(*) FILTER (WHERE {RESOLVED} AND mediation_kind = '{v}') AS {k}"
                      for k, v in MEDIATIONS.items())
    got = db.query(f"""
        SELECT CASE WHEN grouping(s) = 0 THEN s END AS sweep_type, count(*) AS disputes,
               count(*) FILTER (WHERE {RESOLVED}) AS resolved,
               count(*) FILTER (WHERE {RESOLVED_LOCAL}) AS resolved_local, {kinds}
        FROM (SELECT *, coalesce(sweep_type, '{NOT_STATED}') AS s FROM cases WHERE {" AND ".join(where)})
        GROUP BY GROUPING SETS ((s), ())""", params, path)
    order = {s: i for i, s in enumerate((*SWEEPS, NOT_STATED))}
    return (got.with_columns(
                (pl.col("resolved_local") / pl.col("resolved")).alias("local_share"),
                (pl.col("resolved") - pl.sum_horizontal(*MEDIATIONS)).alias("mediation_not_stated"))
            .sort(pl.col("sweep_type").replace_strict(order, default=len(order), return_dtype=pl.Int8)))
