"""Marts: pre-aggregated tables rebuilt after every build or load.

Each `marts/*.sql` file starts with a header comment stating its grain ("one row per …")
and creates or replaces exactly one table named like the file (mart_<name>). Files run in
name order, so a mart may read one with a smaller prefix number; the PYTHON_MARTS run last.
"""

from __future__ import annotations

import importlib
from pathlib import Path

MARTS_DIR = Path(__file__).with_name("marts")
# marts computed in Python after the SQL ones (module:function(con) -> tables built), for
# SQL that is generated (the indicator catalogue's) or work SQL says badly (the risk index's
# per-month winsorising and its main drivers)
PYTHON_MARTS = ("warehouse.indicators:build_marts", "warehouse.risk:build_marts")


def mart_files() -> list[Path]:
    return sorted(MARTS_DIR.glob("*.sql"))


def rebuild(con) -> list[str]:
    built = []
    for f in mart_files():
        con.execute(f.read_text(encoding="utf-8"))
        built.append(f.stem)
    for ref in PYTHON_MARTS:
        module, fn = ref.split(":")
        built += getattr(importlib.import_module(module), fn)(con)
    return built
