"""`python -m etl sentiment`: score any CSV/XLSX text column with the offline sentiment model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
from tqdm import tqdm


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sentiment", help="add sentiment label and score to a CSV/XLSX text column",
                       description="Read FILE (CSV in UTF-8 or GBK/GB18030, or XLSX), score the text "
                                   "in --text-col offline and write it back with two more columns: "
                                   "sentiment (positive/neutral/negative) and sentiment_score "
                                   "(0 = most negative … 1 = most positive). Binary use: score > 0.5 "
                                   "is positive. Measured accuracy: see README, 'Public opinion'.")
    p.add_argument("--in", dest="inp", required=True, metavar="FILE", help="input .csv or .xlsx")
    p.add_argument("--text-col", required=True, metavar="NAME", help="column holding the text")
    p.add_argument("--out", required=True, metavar="FILE", help="output .csv (UTF-8 with BOM) or .xlsx")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def read_table(path: Path) -> pl.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pl.read_excel(path, engine="openpyxl", infer_schema_length=0)
    raw = path.read_bytes()
    for bom in (b"\xef\xbb\xbf", b"\x84\x31\x95\x33"):  # UTF-8 and GB18030 byte-order marks
        if raw.startswith(bom):
            raw = raw[len(bom):]
            break
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    return pl.read_csv(text.encode("utf-8"), infer_schema_length=0)


def write_table(df: pl.DataFrame, path: Path) -> None:
    if path.suffix.lower() == ".xlsx":
        df.write_excel(path, worksheet="sentiment")
    else:
        path.write_bytes(b"\xef\xbb\xbf" + df.write_csv().encode("utf-8"))  # BOM: Excel reads UTF-8


def score_column(df: pl.DataFrame, column: str, progress: bool = True) -> pl.DataFrame:
    from etl.opinion import sentiment

    texts = df[column].to_list()
    scores = [round(sentiment.score(t or ""), 3)
              for t in tqdm(texts, desc="sentiment", unit="row", disable=not progress)]
    return df.with_columns(sentiment=pl.Series([sentiment.label(s) for s in scores], dtype=pl.Utf8),
                           sentiment_score=pl.Series(scores, dtype=pl.Float64))


def run(args: argparse.Namespace) -> int:
    src, dst = Path(args.inp), Path(args.out)
    df = read_table(src)
    if args.text_col not in df.columns:
        print(f"no column {args.text_col!r} in {src}; columns: {', '.join(df.columns)}", file=sys.stderr)
        return 2
    out = score_column(df, args.text_col, progress=not args.quiet)
    write_table(out, dst)
    counts = out["sentiment"].value_counts().sort("sentiment")
    print(f"scored {out.height} rows → {dst}: " +
          ", ".join(f"{s} {n}" for s, n in counts.iter_rows()))
    return 0
