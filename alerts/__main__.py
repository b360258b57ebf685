"""`python -m alerts {run,schedule,history}`: alerts and the scheduled monthly report."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m alerts", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("run", "evaluate the rules once and deliver what is new"),
                       ("schedule", "run the scheduler: alerts every N minutes, the monthly report on "
                                    "the first working day (start it next to the app)"),
                       ("history", "print the delivery log (预警记录)")):
        s = sub.add_parser(name, help=text, description=text)
        s.add_argument("--db", help="warehouse file (default $WAREHOUSE_DB or data/warehouse.duckdb)")
        s.add_argument("--config", help="alert YAML (rules, channels, schedule; default $ALERT_CONFIG, "
                                        "else the package's alerts/rules.yaml)")
        s.add_argument("--state", help="delivery state file (default $ALERT_STATE, else "
                                       "alerts_state.sqlite next to the warehouse)")
        if name == "schedule":
            s.add_argument("--once", action="store_true", help="one tick, then exit")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.command == "run":
        from alerts.run import run_once

        out = run_once(db_path=args.db, config_path=args.config, state_path=args.state)
        for line in out.log:
            print(line)
        print(f"{out.events} events, {out.sent} sent, {out.failed} failed, {out.skipped} already sent",
              file=sys.stderr)
        return 1 if out.failed else 0
    if args.command == "schedule":
        from alerts.schedule import loop

        loop(args.db, args.config, args.state, once=args.once)
        return 0
    from alerts.state import State, default_path

    st = State(args.state or default_path(args.db))
    for r in st.history():
        print(f"{r['last_at']}  {r['status']:<7} tries={r['tries']:<2} {r['channel']:<30} {r['title']}"
              + (f"  [{r['last_error']}]" if r["last_error"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
