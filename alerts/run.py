"""Evaluate the rules and deliver what is new: each event once per channel, failures retried
within the run (backoff) and again on later runs, every try recorded."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from alerts import config as config_mod
from alerts import deliver
from alerts.evaluate import Event, evaluate
from alerts.state import State, default_path

log = logging.getLogger("alerts")


@dataclass
class Outcome:
    events: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # already sent (or given up) before
    log: list[str] = field(default_factory=list)


def deliver_all(events: list[Event], cfg: dict, state: State, sleep=time.sleep) -> Outcome:
    d = cfg.get("delivery") or {}
    attempts, backoff = int(d.get("attempts", 3)), float(d.get("backoff_seconds", 2))
    timeout, max_runs = float(d.get("timeout_seconds", 10)), int(d.get("max_runs", 10))
    out = Outcome(events=len(events))
    for ch in cfg.get("channels") or []:
        cid = config_mod.channel_id(ch)
        for ev in events:
            st = state.status(ev.key, cid)
            if st and st[0] in ("sent", "gave_up"):
                out.skipped += 1
                continue
            error = None
            for i in range(attempts):
                try:
                    deliver.send(ch, ev, timeout=timeout)
                    state.attempt(ev, cid, True, None)
                    error = None
                    break
                except Exception as e:  # noqa: BLE001 - any failure of a receiver is recorded
                    error = f"{type(e).__name__}: {e}"[:500]
                    state.attempt(ev, cid, False, error)
                    if i + 1 < attempts:
                        sleep(backoff * 2 ** i)
            tries = i + 1
            runs = (st[1] if st else 0) + 1
            state.record(ev, cid, error is None, tries, error, gave_up=error is not None and runs >= max_runs)
            line = f"{'sent' if error is None else 'FAILED'} {cid} {ev.key} tries={tries}" + (f" error={error}" if error else "")
            out.log.append(line)
            log.info(line)
            if error is None:
                out.sent += 1
            else:
                out.failed += 1
    return out


def run_once(db_path=None, config_path=None, state_path=None, cfg: dict | None = None, sleep=time.sleep) -> Outcome:
    cfg = cfg or config_mod.load(config_path)
    if not cfg.get("channels"):  # nowhere to send: no need to evaluate
        return Outcome()
    events = evaluate(cfg, db_path)
    state = State(state_path or default_path(db_path))
    try:
        return deliver_all(events, cfg, state, sleep=sleep)
    finally:
        state.close()
