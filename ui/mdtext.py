"""Data as text inside Markdown (issue #18): every ASCII punctuation character a Markdown
renderer might read (links, images, emphasis, :colour[…] directives, HTML) is backslash-
escaped, so a stored `![b](http://host/beacon.png)` or a URL's `[点此重新登录](http://…)`
shows as the characters it is and nothing is fetched or linked."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&\"'=])")


def md(value) -> str:
    """Any value as literal Markdown text ("—" for None); newlines kept as line breaks."""
    if value is None:
        return "—"
    return _SPECIAL.sub(r"\\\1", str(value)).replace("\n", "  \n")
