"""Command line of the warehouse: `python -m warehouse {export,report} --help`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import warehouse
from warehouse import schema


def _command_modules() -> list[str]:
    """Modules that expose add_parser(subparsers): warehouse.export and warehouse.*_cli."""
    names = ["warehouse.export"]
    for mod in pkgutil.walk_packages(warehouse.__path__, "warehouse."):
        if mod.name.endswith("_cli") or mod.name.endswith(".cli"):
            names.append(mod.name)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in _command_modules():
        importlib.import_module(name).add_parser(sub)
    args = parser.parse_args(argv)
    schema.upgrade_before_command(args)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
