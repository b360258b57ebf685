#!/usr/bin/env bash
# Command 1: install the app's packages and start it. On first start the app builds the
# demo warehouse (data/warehouse.duckdb) and then serves it on http://localhost:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
# The monthly report's PDF and charts embed a CJK font from Debian's fonts-noto-cjk.
if ! fc-list 2>/dev/null | grep -qi "Noto Serif CJK"; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
  else
    echo "note: install fonts-noto-cjk (as root) for the PDF report's Chinese font" >&2
  fi
fi
# With an alert configuration (rules, channels, report recipients), the scheduler runs next to
# the app: alerts every N minutes and the monthly report on the first working day.
if [ -n "${ALERT_CONFIG:-}" ]; then
  mkdir -p data
  python3 -m alerts schedule --config "$ALERT_CONFIG" >>data/scheduler.log 2>&1 &
  echo "scheduler started (pid $!, log data/scheduler.log)"
fi
# With no account configured (python -m warehouse users add …) the app is a demo: everyone
# sees everything, so it listens on this computer only. Add an account (or the identity
# provider's claim map, README) to serve the network.
address=()
if ! python3 -c "import sys; from warehouse import accounts, oidc; sys.exit(0 if accounts.has_accounts() or oidc.configured() else 1)"; then
  echo "演示模式 / demo mode: no account configured, serving on localhost only (see README: accounts)" >&2
  address=(--server.address 127.0.0.1)
fi
# ui.serving = `streamlit run` after the heavy imports (README, "Operations")
exec python3 -m ui.serving run app.py --server.headless true "${address[@]}" "$@"
