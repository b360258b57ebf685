"""Every UI label, Chinese and English, from one table: the YAML files in ui/labels/.

The files are split by page only to keep them short; they merge into one table and a key
may be defined once (tests/test_i18n.py checks that, and that every key has both languages).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from warehouse import yamlfile

LABEL_DIR = Path(__file__).with_name("labels")
LANGS = ("zh", "en")
_current = {"lang": "zh"}


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for f in sorted(LABEL_DIR.glob("*.yaml")):
        for key, value in (yamlfile.read(f) or {}).items():
            if key in merged:
                raise ValueError(f"label {key!r} defined twice (second time in {f.name})")
            merged[key] = value
    return merged


def set_lang(lang: str) -> None:
    _current["lang"] = lang if lang in LANGS else "zh"


def lang() -> str:
    """The session's language inside a script run, else the process default. Asked first
    whether a run is there: touching st.session_state outside one (worker threads, cached
    functions, the CLI) logs a "missing ScriptRunContext" warning each time."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
    except ImportError:  # the CLI without Streamlit
        return _current["lang"]
    if get_script_run_ctx(suppress_warning=True) is None:
        return _current["lang"]
    import streamlit as st
    return st.session_state.get("lang", _current["lang"])


def t(key: str, lang_: str | None = None, **fmt) -> str:
    """The label for key in the current language; unknown keys show as the key itself."""
    entry = table().get(key)
    text = entry.get(lang_ or lang(), entry.get("zh", key)) if entry else key
    return text.format(**fmt) if fmt else text


def has(key: str) -> bool:
    return key in table()
