"""The scheduler: alerts every N minutes, and the monthly report on the first working day.

The report for month M is due from the first working day of M+1 (weekends and the configured
holidays are off) at `hour`; a scheduler that was down then sends it when it comes back. The
job is claimed in the state file before it is built, so a restart or a second scheduler
never sends it twice; a failed build or send releases the claim and is tried on the next tick.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta

from alerts import config as config_mod
from alerts import deliver
from alerts.run import run_once
from alerts.state import State, default_path

log = logging.getLogger("alerts")
JOB = "monthly_report"
MIME = {"pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def first_working_day(year: int, month: int, holidays: set[date]) -> date:
    d = date(year, month, 1)
    while d.weekday() >= 5 or d in holidays:
        d += timedelta(days=1)
    return d


def report_due(now: datetime, cfg: dict) -> str | None:
    """The month whose report is due at `now` ('YYYY-MM'), or None before the first working day."""
    sch = cfg.get("schedule") or {}
    holidays = {date.fromisoformat(str(h)) for h in sch.get("holidays") or []}
    rep = sch.get("report") or {}
    fwd = first_working_day(now.year, now.month, holidays)
    if now.date() < fwd or (now.date() == fwd and now.hour < int(rep.get("hour", 8))):
        return None
    last = now.date().replace(day=1) - timedelta(days=1)
    return f"{last:%Y-%m}"


def send_report(cfg: dict, state: State, db_path=None, now: datetime | None = None) -> str:
    """Build and e-mail the due report once. Returns what happened (for the log)."""
    rep = (cfg.get("schedule") or {}).get("report") or {}
    to = rep.get("to") or []
    mail = next((c for c in cfg.get("channels") or [] if c["type"] == "email"), None)
    if not to or mail is None:
        return "report: no recipients or no email channel configured"
    month = report_due(now or datetime.now(), cfg)
    if month is None:
        return "report: not due yet"
    if not state.claim(JOB, month):
        return f"report {month}: already {state.job(JOB, month)['status']}"
    try:
        from warehouse import areas
        from warehouse.db import FULL
        from warehouse.report import generate

        area = rep.get("area") or areas.root_codes(FULL, path=db_path)[0]
        name = areas.names(db_path).get(area, area)
        files = []
        for fmt in rep.get("formats") or ["pdf", "docx"]:
            data = generate(FULL, area, month, fmt, path=db_path)
            files.append((f"治安形势分析_{area}_{month}.{fmt}", data, MIME[fmt]))
        y, m = month.split("-")
        deliver.send_mail(mail, f"{y}年{int(m)}月{name}治安形势分析", f"附件为{y}年{int(m)}月{name}治安形势分析。\n",
                          to=to, attachments=files, timeout=float((cfg.get("delivery") or {}).get("timeout_seconds", 30)))
    except Exception as e:  # noqa: BLE001 - recorded; the next tick tries again
        state.finish(JOB, month, "failed", f"{type(e).__name__}: {e}")
        state.release(JOB, month)
        return f"report {month}: FAILED {type(e).__name__}: {e}"
    state.finish(JOB, month, "sent", {"to": to, "files": [f[0] for f in files]})
    return f"report {month}: sent to {', '.join(to)}"


def tick(cfg: dict, db_path=None, state_path=None, now: datetime | None = None, run_alerts: bool = True) -> list[str]:
    lines = []
    if run_alerts:
        try:
            out = run_once(db_path=db_path, state_path=state_path, cfg=cfg)
            lines.append(f"alerts: {out.events} events, {out.sent} sent, {out.failed} failed, {out.skipped} already sent")
            lines += out.log
        except Exception as e:  # noqa: BLE001 - e.g. the warehouse is being rebuilt: next tick
            lines.append(f"alerts: FAILED {type(e).__name__}: {e}")
    state = State(state_path or default_path(db_path))
    try:
        lines.append(send_report(cfg, state, db_path, now))
    finally:
        state.close()
    return lines


def loop(db_path=None, config_path=None, state_path=None, once: bool = False) -> None:
    cfg = config_mod.load(config_path)
    every = 60 * float((cfg.get("schedule") or {}).get("alerts_every_minutes", 30))
    last_alerts = 0.0
    while True:
        due = time.monotonic() - last_alerts >= every
        for line in tick(cfg, db_path, state_path, run_alerts=due):
            print(f"{datetime.now():%Y-%m-%d %H:%M:%S} {line}", flush=True)
        if due:
            last_alerts = time.monotonic()
        if once:
            return
        time.sleep(60)
