"""Alerts and schedules: what reaches people who do not have the app open.

Rules are data (alerts/rules.yaml, or a YAML outside the package via --config / ALERT_CONFIG);
they are evaluated against the warehouse after every load and on a schedule, and each event is
delivered once per channel (intranet webhooks — generic JSON, 企业微信 and 钉钉 robots — and
e-mail over SMTP), with a link to the exact view. Delivery state lives outside the warehouse
(a small SQLite file), so a restart never sends twice, and a failing receiver is retried and
recorded, never crashing a load.

    python -m alerts run [--db PATH] [--config PATH]      evaluate and deliver once
    python -m alerts schedule [--db PATH] [--config PATH] the scheduler (alerts + monthly report)
    python -m alerts history                              the delivery log
"""

from __future__ import annotations


def after_load(db_path=None) -> None:
    """Evaluate and deliver after a load; never raises (a load must not fail for an alert)."""
    import logging

    try:
        from alerts.run import run_once

        run_once(db_path=db_path)
    except Exception:  # noqa: BLE001 - delivery problems are recorded, never fatal to a load
        logging.getLogger("alerts").exception("alerts after load failed")
