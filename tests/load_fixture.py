"""A tiny hand-built warehouse for load tests: one county, town, village, two grids, one case."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.fixtures import empty_warehouse, insert

G1, G2 = "320813001001001", "320813001001002"


def load_fixture(path: Path) -> Path:
    empty_warehouse(path)
    insert(path, "area", [
        {"code": "320813", "name": "洪泽区", "level": "county", "parent_code": "320800"},
        {"code": "320813001", "name": "高良涧街道", "level": "town", "parent_code": "320813"},
        {"code": "320813001001", "name": "临河社区", "level": "village", "parent_code": "320813001"},
        {"code": G1, "name": "临河社区第一网格", "level": "grid", "parent_code": "320813001001"},
        {"code": G2, "name": "临河社区第二网格", "level": "grid", "parent_code": "320813001001"},
    ], rebuild_marts=False)
    insert(path, "case_type", [{"case_type": "邻里纠纷", "category": "矛盾纠纷", "deadline_hours": 72}],
           rebuild_marts=False)
    insert(path, "cases", [{
        "case_id": "E1", "case_type": "邻里纠纷", "category": "矛盾纠纷", "source_channel": "网格员巡查",
        "area_code": G1, "reported_at": datetime(2025, 3, 5, 8), "deadline_at": datetime(2025, 3, 8, 8),
        "status": "reported"}], rebuild_marts=False)
    insert(path, "case_event", [{"case_id": "E1", "seq": 1, "step": "report",
                                 "occurred_at": datetime(2025, 3, 5, 8)}])
    return path
