"""A 100 MB-class cases file made on the fly loads completely (slow: kept out of the default run)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest

from etl.load import load_file
from tests.load_fixture import G1, G2, load_fixture

ROWS = 900_000


@pytest.mark.slow
def test_100mb_cases_file(tmp_path):
    wh = load_fixture(tmp_path / "wh.duckdb")
    rng = np.random.default_rng(1)
    start = np.datetime64(datetime(2024, 1, 1), "us")
    reported = start + (rng.random(ROWS) * 600 * 86_400e6).astype("timedelta64[us]")
    hours = lambda h: (h * 3_600e6).astype("timedelta64[us]")  # noqa: E731
    df = pl.DataFrame({
        "事件编号": [f"L{i:09d}" for i in range(ROWS)], "事件类型": "邻里纠纷", "事件大类": "矛盾纠纷",
        "来源渠道": rng.choice(["网格员巡查", "12345", "来访"], ROWS), "网格编码": rng.choice([G1, G2], ROWS),
        "事件描述": "两户村民因宅基地边界发生口角，情绪激动，网格员到场劝解并约定次日调解",
        "上报人": "王某华", "联系电话": "13800001111",
        "上报时间": reported, "受理时间": reported + hours(rng.random(ROWS)),
        "派遣时间": reported + hours(1 + rng.random(ROWS)), "办结时间": reported + hours(30 + rng.random(ROWS)),
    }).with_columns(pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S") for c in ("上报时间", "受理时间", "派遣时间", "办结时间"))
    path = tmp_path / "big_cases.csv"
    df.write_csv(path)
    assert path.stat().st_size > 90 * 2**20
    res = load_file(path, "cases", wh, progress=False)
    assert res.exit_code == 0, res.message
    assert (res.rows_read, res.loaded, res.quarantined_total) == (ROWS, ROWS, 0)
    print(f"{ROWS:,} rows, {path.stat().st_size / 2**20:.0f} MB in {res.seconds:.1f} s")
