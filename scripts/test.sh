#!/usr/bin/env bash
# Command 2: install what the tests need (Debian's chromium and CJK fonts, as root with
# apt-get when missing; Python test packages) and run lint plus the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Serif CJK" || need+=(fonts-noto-cjk)
command -v pdffonts >/dev/null 2>&1 || need+=(poppler-utils)  # the report test lists embedded fonts
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need[*]} with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing ${need[*]}: run as root or install them with apt-get" >&2
    exit 1
  fi
fi
python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
python3 -m ruff check .
exec python3 -m pytest -q -n 2 --dist loadgroup "$@"
