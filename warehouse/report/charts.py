"""Report charts rendered offline with matplotlib (Agg) in a CJK font, as PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from warehouse.report import fonts  # noqa: E402

_font = {}


def _prop() -> font_manager.FontProperties:
    if "p" not in _font:
        f = fonts.sans()
        font_manager.fontManager.addfont(str(f.path))  # registers every face of a .ttc
        family = f.name if f.path.suffix.lower() == ".ttc" else font_manager.FontProperties(fname=str(f.path)).get_name()
        _font["p"] = font_manager.FontProperties(family=family)
        plt.rcParams["font.family"] = family  # the SC face, not the collection's first (JP)
        plt.rcParams["axes.unicode_minus"] = False
    return _font["p"]


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def trend_chart(df: pl.DataFrame) -> bytes:
    _prop()
    fig, ax = plt.subplots(figsize=(7.5, 2.3))
    x = [f"{d.year % 100:02d}/{d.month}" for d in df["month"]]
    ax.plot(x, df["cases"], marker="o", color="#1f4e79", label="全部事件")
    ax.plot(x, df["disputes"], marker="s", color="#c0392b", label="矛盾纠纷")
    ax.plot(x, df["public_security"], marker="^", color="#7f8c8d", label="治安隐患")
    ax.set_ylabel("件")
    ax.set_ylim(bottom=0)  # counts from zero: a truncated axis makes small moves look large
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, ncol=3, loc="upper center", bbox_to_anchor=(0.5, 1.18), fontsize=8)
    ax.tick_params(labelsize=8)
    return _png(fig)


def child_bar(df: pl.DataFrame, title: str) -> bytes:
    _prop()
    df = df.sort("current", descending=True)
    fig, ax = plt.subplots(figsize=(7.5, 2.3))
    idx = range(df.height)
    ax.bar([i - 0.2 for i in idx], df["previous"].fill_null(0), width=0.4, color="#bdc3c7", label="上月")
    ax.bar([i + 0.2 for i in idx], df["current"].fill_null(0), width=0.4, color="#1f4e79", label="本月")
    ax.set_xticks(list(idx), [n.replace("居委会", "").replace("村委会", "") for n in df["name"]],
                  rotation=30, ha="right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    return _png(fig)
