"""Templates for the data page (the page draws, the ETL knows the headers: etl.templates)."""

from __future__ import annotations


def template_kinds() -> list[str]:
    from etl.rules.kinds import KINDS
    from etl.templates import LOAD_ORDER

    return [k for k in LOAD_ORDER if k in KINDS]


def template_xlsx(kind: str) -> bytes:
    from etl.templates import template_xlsx as build

    return build(kind)
