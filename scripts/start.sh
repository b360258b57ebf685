#!/usr/bin/env bash
# Command 1: install the app's packages and start it. On first start the app builds the
# demo warehouse (data/warehouse.duckdb) and then serves it on http://localhost:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec python3 -m streamlit run app.py --server.headless true "$@"
