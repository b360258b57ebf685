"""Enrich opinion posts at load time: sentiment, keywords, topic and the place they name.

Used by the demo build (after the generator) and by the loader for real opinion files; both
pass the county's `area` rows (or a gazetteer built from them). Work is done once per
distinct text, so reposts and templated posts cost nothing extra.
"""

from __future__ import annotations

import polars as pl

from etl.opinion import sentiment
from etl.opinion.gazetteer import Linker, build_gazetteer
from etl.opinion.text import add_words, cut
from etl.opinion.topics import keywords_of, topic_of

PLACE_COLUMNS = {"place_text": pl.Utf8, "area_code": pl.Utf8, "lon": pl.Float64, "lat": pl.Float64}


def as_gazetteer(frame: pl.DataFrame) -> pl.DataFrame:
    """Accept either a gazetteer (name, area_code, kind, lon, lat) or raw `area` rows."""
    return frame if "kind" in frame.columns and "area_code" in frame.columns else build_gazetteer(frame)


def enrich_text(text: str, linker: Linker, place_names: frozenset[str], given_topic: str | None) -> dict:
    words = cut(text)
    place = linker.link(text)
    score = sentiment.score(text, words)
    # the place name must not vote for a topic (洪泽湖湿地公园 is not a tourism complaint)
    topic_text = text.replace(place[0], "") if place else text
    return {"score": round(score, 3), "label": sentiment.label(score),
            "topic": topic_of(topic_text, given_topic),
            "keywords": keywords_of(words, place_names),
            "place": place}


def enrich_posts(df: pl.DataFrame, gazetteer: pl.DataFrame) -> pl.DataFrame:
    """Return df with sentiment, sentiment_score, keywords, topic, place_text, area_code,
    lon and lat filled from the text of `content`.

    A post that names no known place keeps the place columns it came with (a loaded file may
    carry them); a post matching no topic keyword keeps its given topic, else 其他.
    """
    g = as_gazetteer(gazetteer)
    linker = Linker(g)
    names = frozenset(g["name"])
    add_words(names)
    for col, dtype in {**PLACE_COLUMNS, "topic": pl.Utf8}.items():
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dtype).alias(col))
    distinct = df.select("content", "topic").unique()
    rows = []
    for text, given in distinct.iter_rows():
        r = enrich_text(text or "", linker, names, given)
        place = r["place"] or (None, None, None, None)
        rows.append((text, given, r["label"], r["score"], r["topic"], r["keywords"], *place))
    found = pl.DataFrame(rows, orient="row", schema={
        "content": pl.Utf8, "topic": pl.Utf8, "_sentiment": pl.Utf8, "_score": pl.Float64,
        "_topic": pl.Utf8, "_keywords": pl.Utf8, "_place_text": pl.Utf8, "_area_code": pl.Utf8,
        "_lon": pl.Float64, "_lat": pl.Float64})
    linked = pl.col("_area_code").is_not_null()
    out = df.join(found, on=["content", "topic"], how="left", nulls_equal=True)
    return out.with_columns(
        sentiment=pl.col("_sentiment"), sentiment_score=pl.col("_score"), topic=pl.col("_topic"),
        keywords=pl.col("_keywords"),
        place_text=pl.when(linked).then(pl.col("_place_text")).otherwise(pl.col("place_text")),
        area_code=pl.when(linked).then(pl.col("_area_code")).otherwise(pl.col("area_code")),
        lon=pl.when(linked).then(pl.col("_lon")).otherwise(pl.col("lon")),
        lat=pl.when(linked).then(pl.col("_lat")).otherwise(pl.col("lat")),
    ).select(df.columns + [c for c in ("sentiment", "sentiment_score", "keywords")
                           if c not in df.columns])
