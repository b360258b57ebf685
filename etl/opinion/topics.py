"""Topic and keywords of a post: a documented keyword → topic mapping (topics.yaml) and jieba
segmentation with a stopword list (stopwords.txt)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

from warehouse import yamlfile

HERE = Path(__file__).parent
OTHER = "其他"
KEYWORDS_PER_POST = 5


@lru_cache(maxsize=1)
def topic_keywords() -> dict[str, list[str]]:
    raw = yamlfile.read(HERE / "topics.yaml")
    return {topic: [str(w) for w in words] for topic, words in raw.items()}


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    lines = (HERE / "stopwords.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in lines if not w.startswith("#"))


def topic_of(text: str | None, given: str | None = None) -> str:
    """The topic whose keywords occur most often in the text; else `given`, else 其他."""
    text = text or ""
    best, hits = None, 0
    for topic, words in topic_keywords().items():
        n = sum(text.count(w) for w in words)
        if n > hits:
            best, hits = topic, n
    return best or given or OTHER


def keywords_of(words: list[str], exclude: frozenset[str] | set[str] = frozenset()) -> str:
    """Up to five content words, most frequent first, space-separated (no stopwords, no
    single characters, no place names: the place has its own column)."""
    stop = stopwords()
    counts = Counter(w for w in words if len(w) > 1 and w not in stop and w not in exclude
                     and not w.isdigit())
    return " ".join(w for w, _ in counts.most_common(KEYWORDS_PER_POST))
