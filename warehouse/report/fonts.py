"""The fonts of the report: 公文 faces where the machine has them, named fallbacks otherwise.

A 公文 sets its title in 方正小标宋, the body in 仿宋 (三号 = 16 pt), first-level headings in
黑体 and second-level ones in 楷体. Those faces are commercial and rarely on a Linux server, so
each role has a fallback from Debian's fonts-noto-cjk, always its **Simplified Chinese** face
(the .ttc files hold JP, KR, SC, TC and HK; index 0 is JP, whose glyphs differ — 说, 骨, 直):

    title    方正小标宋 / 小标宋   -> Noto Serif CJK SC Bold
    body     仿宋 / 仿宋_GB2312    -> Noto Serif CJK SC Regular
    heading  黑体 / SimHei         -> Noto Sans CJK SC Regular
    heading2 楷体 / 楷体_GB2312    -> AR PL UKai CN (fonts-arphic-ukai) -> Noto Serif CJK SC Bold

REPORT_FONT_DIR points at a folder with the real 公文 fonts (e.g. simfang.ttf,
FZXBSJW.TTF): they are found there first. The DOCX names the 公文 faces (Word substitutes its
own when one is missing); the PDF embeds whatever was found (subset).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SEARCH = [Path(os.environ["REPORT_FONT_DIR"])] if os.environ.get("REPORT_FONT_DIR") else []
SEARCH += [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"]
SC = 2  # index of the Simplified Chinese face in Noto CJK .ttc collections


@dataclass(frozen=True)
class Face:
    role: str
    name: str  # what the document calls it (the 公文 face, or the fallback actually used)
    path: Path
    index: int = 0  # face inside a .ttc collection


# role -> (DOCX face name, [(file name patterns of the real face)], [(fallback file, index, name)])
ROLES = {
    "title": ("方正小标宋简体", ["FZXBSJW*", "FZXiaoBiaoSong*", "*XiaoBiaoSong*", "方正小标宋*"],
              [("NotoSerifCJK-Bold.ttc", SC, "Noto Serif CJK SC Bold")]),
    "body": ("仿宋", ["simfang*", "FangSong*", "STFANGSO*", "*仿宋*", "fzfs*", "FZFSJW*"],
             [("NotoSerifCJK-Regular.ttc", SC, "Noto Serif CJK SC")]),
    "heading": ("黑体", ["simhei*", "SimHei*", "STHeiti*", "*黑体*"],
                [("NotoSansCJK-Regular.ttc", SC, "Noto Sans CJK SC")]),
    "heading2": ("楷体", ["simkai*", "KaiTi*", "STKAITI*", "*楷体*", "ukai.ttc"],
                 [("NotoSerifCJK-Bold.ttc", SC, "Noto Serif CJK SC Bold")]),
}


def _glob(patterns: list[str]) -> Path | None:
    for d in SEARCH:
        if not d.is_dir():
            continue
        for pat in patterns:
            for p in sorted(d.rglob(pat)):
                if p.suffix.lower() in (".ttf", ".otf", ".ttc"):
                    return p
    return None


@cache
def face(role: str) -> Face:
    """The font for a role: the 公文 face when installed, else its named fallback."""
    docx_name, patterns, fallbacks = ROLES[role]
    real = _glob(patterns)
    if real is not None:
        # fonts-arphic-ukai ships ukai.ttc whose face 0 is AR PL UKai CN (Simplified)
        return Face(role, docx_name, real, 0)
    for fname, index, name in fallbacks:
        p = _glob([fname])
        if p is not None:
            return Face(role, name, p, index)
    raise FileNotFoundError(
        f"no font for the report's {role} ({docx_name}) nor its fallback {fallbacks[0][2]} in "
        f"{', '.join(map(str, SEARCH))}: install Debian's fonts-noto-cjk (apt-get install "
        "fonts-noto-cjk) or set REPORT_FONT_DIR to a folder holding the fonts")


def docx_name(role: str) -> str:
    """The face a DOCX asks for: always the 公文 face (Word falls back on its own)."""
    return ROLES[role][0]


def serif() -> Path:
    return face("body").path


def sans() -> Face:
    return face("heading")
