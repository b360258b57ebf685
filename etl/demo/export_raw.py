"""`python -m etl demo --export-raw DIR`: the demo county as the files a county would send.

Chinese headers (the first header of each mapping profile), clear synthetic ID numbers and
unmasked-looking names/phones (the masked letters replaced by 某 / 0000, so masking them on
load gives back exactly the demo's masked values), and the mix of shapes real exports come
in: UTF-8 with and without BOM, GB18030, an XLSX with a title row, tab-separated text and
Parquet. Loading the files in the order of `LOAD_ORDER` into an empty warehouse gives the
same tables as the direct build (tests/test_load_roundtrip.py).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from etl.profiles import all_profiles

# (kind, file name, profile); loading in this order satisfies every reference check
LOAD_ORDER = [
    ("areas", "01_区划网格底册.csv", "areas_gazetteer"),
    ("grid_staff", "02_网格力量配备.xlsx", "grid_staff"),
    ("persons", "03_实有人口.csv", "grid_persons"),
    ("cases", "04_事件台账.csv", "grid_cases"),
    ("case_events", "05_事件流程日志.txt", "case_events"),
    ("opinion", "06_舆情信息.parquet", "opinion_dump"),
    ("ssra", "07_社会稳定风险评估台账.xlsx", "ssra_register"),
    ("surveys", "08_群众安全感调查.csv", "safety_survey"),
]
TS = "%Y-%m-%d %H:%M:%S%.f"
YES_NO = {True: "是", False: "否"}
SENTIMENT_ZH = {"positive": "正面", "neutral": "中性", "negative": "负面"}
LEVEL_ZH = {"county": "区县", "town": "镇街", "village": "村社区", "grid": "网格"}


def headers(profile: str) -> dict[str, str]:
    return {f: aliases[0] for f, aliases in all_profiles()[profile].columns.items()}


def _yes_no(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col(c).replace_strict(YES_NO, default=None, return_dtype=pl.Utf8)
                           for c, t in df.schema.items() if t == pl.Boolean)


def _unmask_name(col: str) -> pl.Expr:
    return pl.col(col).str.replace_all(r"\*", "某")


def _unmask_phone(col: str) -> pl.Expr:
    return pl.col(col).str.replace_all(r"\*", "0")


def _named(df: pl.DataFrame, profile: str) -> pl.DataFrame:
    h = headers(profile)
    return df.select([pl.col(c).alias(h[c]) for c in df.columns if c in h])


def raw_frames(tables: dict[str, pl.DataFrame], id_numbers: list[str]) -> dict[str, pl.DataFrame]:
    """Warehouse-shaped demo tables → raw county-shaped frames, keyed by kind."""
    area = tables["area"].with_columns(pl.col("level").replace_strict(LEVEL_ZH))
    person = tables["person"].with_columns(
        pl.Series("id_number", id_numbers), _unmask_name("name_masked").alias("name"),
        _unmask_phone("phone_masked").alias("phone"),
        pl.col("sex").replace_strict({"M": "男", "F": "女"}),
        pl.Series("birth_month", id_numbers).str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d"),
    ).drop("person_key", "name_masked", "phone_masked", "updated_at", strict=False)
    cases = tables["cases"].with_columns(
        _unmask_name("reporter_masked").alias("reporter"), _unmask_phone("phone_masked").alias("phone"),
        *[pl.col(c).dt.strftime(TS) for c in ("reported_at", "accepted_at", "dispatched_at", "handled_at",
                                              "verified_at", "closed_at", "deadline_at")],
    ).drop("reporter_masked", "phone_masked", "status", "updated_at", strict=False)
    events = tables["case_event"].with_columns(pl.col("occurred_at").dt.strftime(TS))
    posts = tables["opinion_post"].with_columns(pl.col("sentiment").replace_strict(SENTIMENT_ZH))
    surveys = tables["survey_response"].with_columns(
        (pl.col("survey_period").dt.year().cast(pl.Utf8) + "年第" +
         pl.col("survey_period").dt.quarter().cast(pl.Utf8) + "季度").alias("survey_period"))
    return {"areas": area, "grid_staff": tables["grid_staff"], "persons": person, "cases": cases,
            "case_events": events, "opinion": posts, "ssra": tables["ssra"], "surveys": surveys}


def write_files(frames: dict[str, pl.DataFrame], out: Path) -> list[tuple[str, Path]]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, name, profile in LOAD_ORDER:
        df = frames[kind]
        path = out / name
        if kind == "opinion":  # Parquet keeps its types
            _named(df, profile).write_parquet(path)
        elif path.suffix == ".xlsx":
            _write_xlsx_with_title(_named(_yes_no(df), profile), path, name)
        else:
            text = _named(_yes_no(df), profile).write_csv(separator="\t" if kind == "case_events" else ",")
            if kind == "areas":
                data = b"\xef\xbb\xbf" + text.encode("utf-8")        # Excel's "CSV UTF-8"
            elif kind == "persons":
                data = text.encode("gb18030")                       # GBK-era grid system
            elif kind == "surveys":
                data = b"\x84\x31\x95\x33" + text.encode("gb18030")  # GB18030 with its BOM
            else:
                data = text.encode("utf-8")
            path.write_bytes(data)
        written.append((kind, path))
    return written


def _write_xlsx_with_title(df: pl.DataFrame, path: Path, title: str) -> None:
    """A title row above the header, as county spreadsheets have."""
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as wb:
        ws = wb.add_worksheet("Sheet1")
        ws.merge_range(0, 0, 0, max(df.width - 1, 1), Path(title).stem)
        df.write_excel(wb, worksheet="Sheet1", position=(1, 0), autofit=False,
                       dtype_formats={pl.Date: "yyyy-mm-dd"}, table_style=None)


def export_raw(out_dir, seed: int, scale: str, as_of=None) -> list[tuple[str, Path]]:
    """Generate the demo exactly as `build` would and write it as raw county files."""
    from etl.demo.build import counties_for, generate_county, scaled_config
    from etl.demo.cases import as_of_now
    from etl.identity import hash_key

    now = as_of_now(as_of)
    cfg = scaled_config(scale)
    key = hash_key()
    parts: dict[str, list[pl.DataFrame]] = {}
    ids: list[str] = []
    for i, (code, name, offset) in enumerate(counties_for(scale)):
        county = generate_county(cfg, seed, now, key, code, name, offset)
        for t, df in county.tables.items():
            if t == "case_type" and i:
                continue
            parts.setdefault(t, []).append(df)
        ids += county.id_numbers
    tables = {t: pl.concat(v, how="vertical_relaxed") for t, v in parts.items()}
    return write_files(raw_frames(tables, ids), Path(out_dir))


