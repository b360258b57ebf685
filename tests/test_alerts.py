"""Alerts end to end: a local SMTP server (aiosmtpd) and a local webhook receiver started here;
one message per event and channel, none repeated after a restart, a failing receiver retried
and recorded, the monthly report scheduled once."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
import threading
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from alerts import after_load, schedule
from alerts.config import load
from alerts.run import run_once
from alerts.state import State, history_frame

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.xdist_group("alerts")


class Receiver:
    """A webhook receiver on a free local port: records every POST; the first `fail` requests
    answer 500; a path ending in /refuse always answers 200 with a robot's errcode."""

    def __init__(self, fail: int = 0):
        self.got: list[tuple[str, dict]] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                refuse = self.path.split("?")[0].endswith("/refuse")
                if outer.fail > 0 and not refuse:
                    outer.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                answer = {"errcode": 0, "errmsg": "ok"}
                if refuse:
                    answer = {"errcode": 310000, "errmsg": "keywords not in content"}
                else:
                    outer.got.append((self.path, json.loads(body)))
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def smtp():
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    import socket

    with socket.socket() as s:  # a free port (the controller checks readiness by connecting)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    sink.port = port
    yield sink
    ctl.stop()


@pytest.fixture()
def receiver():
    r = Receiver()
    yield r
    r.close()


RULES = [
    {"id": "indicator_missed", "kind": "indicator_missed", "rag": ["red"], "levels": ["county"]},
    {"id": "grid_orange_red", "kind": "grid_risk", "levels": ["橙", "红"]},
    {"id": "opinion_spike", "kind": "opinion_spike", "levels": ["橙", "红"]},
    {"id": "overdue_open", "kind": "overdue_open", "threshold": 2},
]


def _config(tmp_path, channels, rules=RULES, **delivery) -> Path:
    cfg = {"base_url": "http://zzzx.intranet:8501", "rules": rules, "channels": channels,
           "delivery": {"attempts": 3, "backoff_seconds": 0, "timeout_seconds": 5, **delivery}}
    p = tmp_path / "alerts.yaml"
    p.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return p


def test_each_event_once_per_channel_and_none_again_after_a_restart(small_db, tmp_path, receiver, smtp):
    cfg_path = _config(tmp_path, [
        {"type": "webhook", "url": receiver.url + "/generic"},
        {"type": "wecom", "url": receiver.url + "/cgi-bin/webhook/send?key=K"},
        {"type": "dingtalk", "url": receiver.url + "/robot/send?access_token=T", "secret": "SECxyz"},
        {"type": "email", "host": "127.0.0.1", "port": smtp.port, "from": "zzzx@intranet", "to": ["leader@intranet"]},
    ])
    state = tmp_path / "state.sqlite"
    out = run_once(db_path=small_db, config_path=cfg_path, state_path=state)
    n = out.events
    rules = {line.split()[2].split(":")[0] for line in out.log}
    assert rules == {"indicator_missed", "grid_orange_red", "opinion_spike", "overdue_open"}  # every kind fired
    assert out.sent == 4 * n and out.failed == 0
    by_path = {}
    for path, body in receiver.got:
        by_path.setdefault(urlparse(path).path, []).append((path, body))
    generic = [b for _, b in by_path["/generic"]]
    assert len(generic) == n and len({b["id"] for b in generic}) == n  # one message per event
    spike = next(b for b in generic if b["rule"] == "opinion_spike")
    assert spike["link"] == "http://zzzx.intranet:8501/opinion?area=320813106" and spike["level"] == "红"
    grid = next(b for b in generic if b["rule"] == "grid_orange_red")
    assert grid["link"].startswith("http://zzzx.intranet:8501/grid?grid=") and len(grid["area_code"]) == 15
    wecom = [b for _, b in by_path["/cgi-bin/webhook/send"]]
    assert len(wecom) == n and all(b["msgtype"] == "markdown" and "[查看详情](http://zzzx.intranet" in
                                   b["markdown"]["content"] for b in wecom)
    ding = by_path["/robot/send"]
    assert len(ding) == n and all(b["msgtype"] == "markdown" and b["markdown"]["title"] for _, b in ding)
    q = parse_qs(urlparse(ding[0][0]).query)
    assert q["access_token"] == ["T"] and q["timestamp"] and q["sign"]  # 钉钉 signed
    assert len(smtp.messages) == n
    assert any(m["Subject"].startswith("【舆情预警·红】") for m in smtp.messages)

    # a restart: a new process with the same state file sends nothing again
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "alerts", "run", "--db", str(small_db), "--config", str(cfg_path),
                          "--state", str(state)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"{n} events, 0 sent, 0 failed, {4 * n} already sent" in res.stderr
    assert len(receiver.got) == 3 * n and len(smtp.messages) == n
    hist = history_frame(state_path=state)
    assert hist.height == 4 * n and set(hist["status"]) == {"sent"}


def test_a_failing_receiver_is_retried_and_recorded(small_db, tmp_path):
    rec = Receiver(fail=4)  # the first four requests fail with HTTP 500
    try:
        only_spikes = [r for r in RULES if r["kind"] == "opinion_spike"]
        cfg_path = _config(tmp_path, [{"type": "webhook", "url": rec.url + "/hook"},
                                      {"type": "wecom", "url": rec.url + "/refuse"}], rules=only_spikes)
        state = tmp_path / "state.sqlite"
        first = run_once(db_path=small_db, config_path=cfg_path, state_path=state, sleep=lambda s: None)
        assert first.events == 1 and first.sent == 0 and first.failed == 2
        st = State(state)
        rows = {r["channel"]: r for r in st.history()}
        hook = rows[f"webhook:{rec.url}/hook"]
        assert hook["status"] == "failed" and hook["tries"] == 3 and "500" in hook["last_error"]
        refused = rows[f"wecom:{rec.url}/refuse"]
        assert refused["status"] == "failed" and "errcode 310000" in refused["last_error"]
        # the next run (e.g. after the next load) tries again: one more 500, then delivered once
        second = run_once(db_path=small_db, config_path=cfg_path, state_path=state, sleep=lambda s: None)
        assert second.sent == 1 and second.failed == 1
        rows = {r["channel"]: r for r in st.history()}
        assert rows[f"webhook:{rec.url}/hook"]["status"] == "sent" and rows[f"webhook:{rec.url}/hook"]["tries"] == 5
        assert len(rec.got) == 1
        tries = [a for a in st.attempts() if a["channel"] == f"webhook:{rec.url}/hook"]
        assert [a["ok"] for a in tries] == [0, 0, 0, 0, 1]
        third = run_once(db_path=small_db, config_path=cfg_path, state_path=state, sleep=lambda s: None)
        assert third.sent == 0 and len(rec.got) == 1
        st.close()
    finally:
        rec.close()


def test_a_load_never_fails_because_of_alerts(small_db, tmp_path, monkeypatch):
    cfg_path = _config(tmp_path, [{"type": "webhook", "url": "http://127.0.0.1:9/nothing-listens"}],
                       rules=[r for r in RULES if r["kind"] == "opinion_spike"], attempts=1)
    monkeypatch.setenv("ALERT_CONFIG", str(cfg_path))
    monkeypatch.setenv("ALERT_STATE", str(tmp_path / "s.sqlite"))
    after_load(small_db)  # must not raise
    hist = history_frame(state_path=tmp_path / "s.sqlite")
    assert hist["status"].to_list() == ["failed"]
    monkeypatch.setenv("ALERT_CONFIG", str(tmp_path / "missing.yaml"))
    after_load(small_db)  # a broken configuration is logged, not raised


def test_rules_are_validated():
    bad = Path(__file__).parent / "_bad_rules.yaml"
    bad.write_text("rules:\n  - {id: x, kind: moon_phase}\n", encoding="utf-8")
    try:
        with pytest.raises(ValueError, match="moon_phase"):
            load(bad)
    finally:
        bad.unlink()
    assert [r["kind"] for r in load()["rules"]] == ["indicator_missed", "grid_risk", "opinion_spike", "overdue_open"]


def test_first_working_day_and_when_the_report_is_due():
    assert schedule.first_working_day(2026, 11, set()) == date(2026, 11, 2)  # the 1st is a Sunday
    golden_week = {date(2026, 10, d) for d in range(1, 8)}
    assert schedule.first_working_day(2026, 10, golden_week) == date(2026, 10, 8)
    cfg = {"schedule": {"report": {"hour": 8}}}
    assert schedule.report_due(datetime(2026, 11, 1, 12), cfg) is None
    assert schedule.report_due(datetime(2026, 11, 2, 7), cfg) is None
    assert schedule.report_due(datetime(2026, 11, 2, 8), cfg) == "2026-10"
    assert schedule.report_due(datetime(2026, 11, 20, 3), cfg) == "2026-10"  # down that day: sent later


def test_monthly_report_is_mailed_once_across_restarts(small_db, tmp_path, smtp):
    cfg = {"channels": [{"type": "email", "host": "127.0.0.1", "port": smtp.port, "from": "zzzx@intranet",
                         "to": ["duty@intranet"]}],
           "schedule": {"report": {"area": "320813103", "formats": ["docx"], "to": ["leader@intranet", "office@intranet"],
                                   "hour": 8}},
           "delivery": {"timeout_seconds": 30}}
    state = tmp_path / "state.sqlite"
    now = datetime(2026, 11, 2, 9, 0)
    lines = schedule.tick(cfg, small_db, state, now=now, run_alerts=False)
    assert lines == ["report 2026-10: sent to leader@intranet, office@intranet"]
    assert len(smtp.messages) == 1
    msg = smtp.messages[0]
    assert msg["To"] == "leader@intranet, office@intranet" and msg["Subject"] == "2026年10月岔河镇治安形势分析"
    names = [p.get_filename() for p in msg.walk() if p.get_filename()]
    assert names == ["治安形势分析_320813103_2026-10.docx"]
    # the scheduler restarts: nothing is sent again
    lines = schedule.tick(cfg, small_db, state, now=datetime(2026, 11, 2, 10, 0), run_alerts=False)
    assert lines == ["report 2026-10: already sent"] and len(smtp.messages) == 1


def test_data_page_shows_the_alert_history(small_db, tmp_path, monkeypatch):
    from alerts.evaluate import Event
    from tests.apptest import open_page

    st = State(tmp_path / "s.sqlite")
    ev = Event("opinion_spike:320813106:征地拆迁:2026-11-12:红", "opinion_spike", "红", "320813106",
               "【舆情预警·红】三河镇“征地拆迁”话题信息激增", "…", "http://zzzx.intranet:8501/opinion?area=320813106")
    st.record(ev, "webhook:http://10.0.0.5/hook", False, 3, "HTTPError: HTTP Error 500")
    st.close()
    monkeypatch.setenv("ALERT_STATE", str(tmp_path / "s.sqlite"))
    at = open_page("data")
    assert not at.exception, at.exception
    assert "预警记录（已推送的预警）" in [s.value for s in at.subheader]
    table = next(d.value for d in at.dataframe if "预警内容" in d.value.columns)
    row = table.iloc[0]
    assert row["预警内容"] == ev.title and row["状态"] == "发送失败（将重试）" and row["尝试次数"] == 3
