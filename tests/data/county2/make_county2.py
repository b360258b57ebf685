"""Write the second county's files (金湖县 320831, not 洪泽) and manifest.yaml.

Run: python tests/data/county2/make_county2.py. Sources: see SOURCE.md beside this file.
The county and its 13 towns/streets carry real 统计用区划代码; the villages and grids under
them are constructed for the tests (the code list at village level was not available here),
named the way villages are (社区/村, one name used in two towns as happens in real lists).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml

HERE = Path(__file__).parent

# real: modood/Administrative-divisions-of-China dist/areas.csv + dist/streets.csv (国家统计局 2023)
COUNTY = ("320831", "金湖县")
TOWNS = [("320831001", "黎城街道"), ("320831002", "戴楼街道"), ("320831003", "金北街道"), ("320831101", "金南镇"),
         ("320831103", "塔集镇"), ("320831106", "前锋镇"), ("320831107", "吕良镇"), ("320831111", "银涂镇"),
         ("320831400", "宝应湖农场"), ("320831401", "复兴圩农场"), ("320831402", "粮棉原种场"),
         ("320831403", "金湖经济开发区")]
# constructed for the tests: 0xx communities, 2xx villages (the 统计用区划代码 convention)
VILLAGES = [("320831001001", "城南社区"), ("320831001002", "城北社区"), ("320831002201", "新建村"),
            ("320831103201", "新建村"), ("320831103202", "塔集村"), ("320831101201", "金南村")]
GRIDS = [("320831001001001", "城南社区第一网格"), ("320831001001002", "城南社区第二网格"),
         ("320831103202001", "塔集村第一网格")]


def divisions() -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["统计用区划代码", "名称", "层级", "上级代码"])
    w.writerow([*COUNTY, "county", "320800"])
    for code, name in TOWNS:
        w.writerow([code, name, "town", code[:6]])
    for code, name in VILLAGES:
        w.writerow([code, name, "village", code[:9]])
    for code, name in GRIDS:
        w.writerow([code, name, "grid", code[:12]])
    return out.getvalue()


HEAD_12345 = ["工单编号", "事件类型", "诉求大类", "工单来源", "所属街道", "所属社区", "网格编码", "上报时间",
              "受理时间", "办结时间", "办理时限", "满意度", "是否解决", "诉求内容"]
# id, type, category, channel, town, village, code, reported, accepted, closed, limit, satisfaction, resolved, text
ROWS_12345 = [
    ["JH2403050001", "邻里纠纷", "矛盾纠纷", "电话", "", "", "320831001001001", "2024-03-05T08:05:00+08:00",
     "2024-03-05T08:30:00+08:00", "2024-03-08T10:00:00+08:00", "5个工作日", "满意", "是", "楼上漏水协调"],
    ["JH2403050002", "邻里纠纷", "矛盾纠纷", "网站", "黎城街道", "城南居委会", "", "2024-03-05 09:00:00",
     "2024-03-05 09:20:00", "", "5个工作日", "未评价", "", "邻居占道堆放杂物"],
    ["JH2403050003", "噪音扰民", "社会治安", "微信", "", "", "320831103202", "2024-03-06 10:00",
     "2024-03-06 10:30", "2024-03-07 16:00", "3天", "未回访", "已解决", "夜间施工噪音"],
    ["JH2403050004", "噪音扰民", "社会治安", "APP", "金南", "", "", "2024-03-06 11:00",
     "", "", "24小时", "", "", "广场舞噪音"],
    ["JH2403050005", "邻里纠纷", "矛盾纠纷", "电话", "", "新建村", "", "2024-03-07 08:00",
     "", "", "5个工作日", "", "", "宅基地边界争议"],
    ["JH2403050006", "邻里纠纷", "矛盾纠纷", "电话", "塔集镇", "新建", "", "2024-03-07 09:00",
     "2024-03-07 09:10", "", "5个工作日", "", "", "宅基地边界争议"],
    ["JH2403050007", "邻里纠纷", "矛盾纠纷", "电话", "黎城街道", "不存在社区", "", "2024-13-45 09:00",
     "", "", "5个工作日", "", "", "日期和社区都填错"],
    ["JH2403050008", "噪音扰民", "社会治安", "市长信箱", "", "", "320831001001002", "2024-03-08T01:00:00Z",
     "2024-03-08T01:30:00Z", "2024-03-08T06:00:00Z", "2024-03-11 09:00", "非常满意", "已解决", "KTV噪音"],
    ["JH2403050009", "噪音扰民", "社会治安", "电话", "", "", "320831001001002", "2024-03-09 10:00",
     "", "", "3天", "很一般般", "", "满意度写法不认识"],
    ["JH2403050010", "宅基地审批", "自然资源", "电话", "银涂镇", "", "", "2024-03-09 11:00",
     "", "", "10个工作日", "", "", "大类不在分类对照表中：照常导入，列为未对应类别"],
]
HEAD_EXACT = ["工单编号", "事件类型", "网格编码", "上报时间", "受理时间", "办结时间", "满意度", "诉求内容"]
ROWS_EXACT = [
    ["JH2403100001", "邻里纠纷", "320831001001001", "2024-03-10 08:00", "2024-03-10 08:10", "2024-03-11 08:00",
     "满意", "表头与任一内置模板都不完全相同"],
    ["JH2403100002", "噪音扰民", "320831103202001", "2024-03-10 09:00", "2024-03-10 09:10", "", "", "未办结"],
    ["JH2403100003", "噪音扰民", "320831101201", "2024-03-10 10:00", "", "", "未回访", "村居编码代替网格"],
]


def town_squares() -> dict:
    """Constructed town outlines in WGS-84, matched by name only (full and short), one unknown."""
    def square(lon, lat, d=0.05):
        return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d],
                                                    [lon, lat + d], [lon, lat]]]}
    feats = [("黎城", 119.0, 33.0), ("塔集镇", 119.2, 33.1), ("不存在镇", 119.3, 33.0)]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"名称": n}, "geometry": square(lon, lat)} for n, lon, lat in feats]}


def table(head, rows) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(head)
    w.writerows(rows)
    return out.getvalue()


MANIFEST = [
    {"file": "01_区划代码_320831.csv", "kind": "areas",
     "what": "county + 12 real towns, constructed villages and grids; headers of the 统计用区划代码 list",
     "expect": {"exit": 0, "rows_read": 1 + len(TOWNS) + len(VILLAGES) + len(GRIDS),
                "loaded": 1 + len(TOWNS) + len(VILLAGES) + len(GRIDS), "quarantined": {}}},
    {"file": "outline_320831_jinhu.geojson", "kind": "boundaries",
     "what": "the county outline (GCJ-02, DataV), matched by adcode", "datum": "gcj02",
     "expect": {"exit": 0, "rows_read": 1, "loaded": 1, "quarantined": {}}},
    {"file": "02_镇街边界_wgs84.geojson", "kind": "boundaries",
     "what": "town outlines stated as WGS-84, matched by short name (黎城) and full name (塔集镇, though 塔集村 "
             "shares its short name); one name unknown", "datum": "wgs84",
     "expect": {"exit": 1, "rows_read": 3, "loaded": 2, "quarantined": {"unknown_area": 1}}},
    {"file": "03_12345工单_GBK.csv", "kind": "cases",
     "what": "12345 export in GBK: mixed headers, channels 电话/网站/微信/APP/市长信箱, 办理时限 as durations, "
             "未评价/未回访, ISO offsets, 所属街道/所属社区 instead of grid codes, a village code, an "
             "ambiguous village, a row with two faults, a 大类 the taxonomy does not know (loaded, listed)",
     "expect": {"exit": 1, "rows_read": 10, "loaded": 7,
                "quarantined": {"ambiguous_area": 1, "bad_date": 1, "bad_value": 1}}},
    {"file": "04_12345_表头混合.csv", "kind": "cases",
     "what": "the exact headers 工单编号/事件类型/网格编码/上报时间/受理时间/办结时间/满意度/诉求内容 (no profile has them "
             "all); no 大类: the class comes from the case type, the time limit from the types file 03 registered",
     "expect": {"exit": 0, "rows_read": 3, "loaded": 3, "quarantined": {}, "profile": "grid_cases+hotline_12345"}},
]


def main() -> None:
    (HERE / MANIFEST[0]["file"]).write_text(divisions(), encoding="utf-8")
    (HERE / "02_镇街边界_wgs84.geojson").write_text(json.dumps(town_squares(), ensure_ascii=False), encoding="utf-8")
    (HERE / "03_12345工单_GBK.csv").write_bytes(table(HEAD_12345, ROWS_12345).encode("gbk"))
    (HERE / "04_12345_表头混合.csv").write_text(table(HEAD_EXACT, ROWS_EXACT), encoding="utf-8-sig")
    (HERE / "manifest.yaml").write_text(
        "# Expected outcome of loading each file, in this order, into an empty warehouse.\n"
        "# Generated by tests/data/county2/make_county2.py.\n"
        + yaml.safe_dump(MANIFEST, allow_unicode=True, sort_keys=False), encoding="utf-8")


if __name__ == "__main__":
    main()
