"""Marts: pre-aggregated tables rebuilt after every build or load.

Each `marts/*.sql` file starts with a header comment stating its grain ("one row per …")
and creates or replaces exactly one table named like the file (mart_<name>). Files run in
name order, so a mart may read one with a smaller prefix number.
"""

from __future__ import annotations

from pathlib import Path

MARTS_DIR = Path(__file__).with_name("marts")


def mart_files() -> list[Path]:
    return sorted(MARTS_DIR.glob("*.sql"))


def rebuild(con) -> list[str]:
    built = []
    for f in mart_files():
        con.execute(f.read_text(encoding="utf-8"))
        built.append(f.stem)
    return built
