"""Named datasets: everything a page shows, also available to scripts and other systems.

A warehouse module registers a function with `@dataset("name", "one-line description")`.
The function takes (scope, area=None, start=None, end=None, path=None) and returns polars;
`python -m warehouse export NAME` and the pages call the same function, so the same scope
rules apply. Modules in the warehouse package are discovered on first use.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

import warehouse
from warehouse.db import Scope


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    fn: Callable[..., pl.DataFrame]
    person_level: bool = False  # True: refused for aggregate-only scopes
    admin_only: bool = False  # True: only role admin (the audit log)


_REGISTRY: dict[str, Dataset] = {}


def dataset(name: str, description: str, person_level: bool = False, admin_only: bool = False):
    def register(fn):
        if name in _REGISTRY and _REGISTRY[name].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"dataset {name!r} registered twice")
        _REGISTRY[name] = Dataset(name, description, fn, person_level, admin_only)
        return fn
    return register


def _discover() -> None:
    for mod in pkgutil.iter_modules(warehouse.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"warehouse.{mod.name}")


def all_datasets() -> dict[str, Dataset]:
    _discover()
    return dict(sorted(_REGISTRY.items()))


def get(name: str, scope: Scope, area: str | None = None, start: date | None = None,
        end: date | None = None, path=None, **options) -> pl.DataFrame:
    """options: a dataset's own keyword arguments (e.g. level='activity' for variants and
    transitions); None values are left out."""
    ds = all_datasets().get(name)
    if ds is None:
        raise KeyError(f"no dataset {name!r}; `python -m warehouse export --list` names them")
    if ds.person_level:
        scope.require_person_level()
    if ds.admin_only:
        scope.require_admin()
    scope.check_area(area)
    options = {k: v for k, v in options.items() if v is not None}
    return ds.fn(scope, area=area, start=start, end=end, path=path, **options)
