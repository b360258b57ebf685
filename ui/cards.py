"""Coloured metric cards: a st.metric in a keyed container, tinted by CSS on its key class.

Risk levels are 蓝黄橙红 everywhere (cards, map, wall); a KPI against its target is green
when met, amber when close, red when missed (see warehouse.indicators for the RAG rule)."""

from __future__ import annotations

LEVEL_COLOURS = {"蓝": "#1e88e5", "黄": "#f9a825", "橙": "#ef6c00", "红": "#c62828"}
LEVEL_SLUG = {"蓝": "blue", "黄": "yellow", "橙": "orange", "红": "red"}


def tinted(parent, key: str, colour: str):
    """A container whose card has a coloured left edge and a light wash of the colour."""
    parent.html(f"<style>.st-key-{key} {{ border-left: 6px solid {colour}; background: {colour}14;"
                " border-radius: 6px; padding: 4px 10px; }</style>")
    return parent.container(key=key)


def level_card(parent, level: str, label: str, value: str, **metric_kw) -> None:
    box = tinted(parent, f"level_card_{LEVEL_SLUG.get(level, 'none')}", LEVEL_COLOURS.get(level, "#9e9e9e"))
    box.metric(label, value, **metric_kw)
