"""The CJK fonts the report embeds (PDF) and draws its charts with.

Debian's fonts-noto-cjk is installed by both README commands; REPORT_FONT_DIR points at
another folder holding NotoSerifCJK/NotoSansCJK files when a system keeps them elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

SEARCH = [Path(os.environ["REPORT_FONT_DIR"])] if os.environ.get("REPORT_FONT_DIR") else []
SEARCH += [Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"),
           Path("/usr/local/share/fonts"), Path.home() / ".fonts"]


def find(name: str) -> Path:
    """Path of a font file such as NotoSerifCJK-Regular.ttc; a clear error when missing."""
    for d in SEARCH:
        p = d / name
        if p.exists():
            return p
    raise FileNotFoundError(
        f"CJK font {name} not found in {', '.join(map(str, SEARCH))}: install Debian's fonts-noto-cjk "
        "(apt-get install fonts-noto-cjk) or set REPORT_FONT_DIR")


def serif() -> Path:
    return find("NotoSerifCJK-Regular.ttc")


def serif_bold() -> Path:
    return find("NotoSerifCJK-Bold.ttc")


def sans() -> Path:
    return find("NotoSansCJK-Regular.ttc")
