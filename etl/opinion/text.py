"""Shared text handling: one jieba tokenizer, loaded lazily (its first use builds a ~1 s cache)."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

_SPACE = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    return _SPACE.sub("", str(text or "")).lower()


@lru_cache(maxsize=1)
def tokenizer():
    import jieba  # imported here so pages that only read the warehouse never pay for it

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def add_words(words) -> None:
    """Teach the tokenizer names it must keep whole (towns, villages, landmarks)."""
    tok = tokenizer()
    for w in words:
        tok.add_word(w, freq=20000)


def cut(text: str) -> list[str]:
    return tokenizer().lcut(normalise(text))
