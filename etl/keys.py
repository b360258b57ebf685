"""Keys the loader keeps instead of a key index (warehouse.schema.UNKEYED): checked after a
write, inside the load's private copy, so a repeat fails the whole load."""

from __future__ import annotations

import duckdb


def check_unique(con, table: str, keys: tuple[str, ...], where: str) -> None:
    """No two rows of `table` that match `where` share `keys`; raises naming the first repeat."""
    cols = ", ".join(keys)
    dup = con.sql(f"SELECT {cols} FROM {table} WHERE {where} GROUP BY ALL HAVING count(*) > 1 LIMIT 1").fetchall()
    if dup:
        raise duckdb.ConstraintException(f"{table}: key {dict(zip(keys, dup[0]))} would be stored twice")


def written(keys: tuple[str, ...], rows: str = "_rows") -> str:
    """`where` for the rows whose key the load just wrote (registered as `rows`)."""
    cols = ", ".join(keys)
    return f"({cols}) IN (SELECT {cols} FROM {rows})"
