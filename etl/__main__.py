"""Command line of the ETL: `python -m etl {demo,load,sentiment} --help`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import etl
from warehouse import schema


def command_modules() -> list[str]:
    """Every etl module named `cli` or `*_cli` exposes add_parser(subparsers)."""
    return sorted(m.name for m in pkgutil.walk_packages(etl.__path__, "etl.")
                  if m.name.endswith(".cli") or m.name.endswith("_cli"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in command_modules():
        importlib.import_module(name).add_parser(sub)
    args = parser.parse_args(argv)
    schema.upgrade_before_command(args)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
