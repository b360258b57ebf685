"""The alert configuration: the package's rules.yaml, with a deployment YAML on top."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse import yamlfile

DEFAULT = Path(__file__).with_name("rules.yaml")
KINDS = ("indicator_missed", "grid_risk", "opinion_spike", "overdue_open")
CHANNELS = ("webhook", "wecom", "dingtalk", "email")


def load(path: str | Path | None = None) -> dict:
    """Defaults, then the file at `path` or $ALERT_CONFIG: top-level keys replace, the
    delivery/schedule sections merge key by key. A bad rule or channel is a clear error."""
    cfg = yamlfile.read(DEFAULT)
    path = path or os.environ.get("ALERT_CONFIG")
    if path:
        extra = yamlfile.read(path) or {}
        for k, v in extra.items():
            if k in ("delivery", "schedule") and isinstance(v, dict):
                cfg[k] = {**cfg.get(k, {}), **v}
            else:
                cfg[k] = v
    if os.environ.get("ALERT_BASE_URL"):
        cfg["base_url"] = os.environ["ALERT_BASE_URL"]
    for r in cfg.get("rules") or []:
        if r.get("kind") not in KINDS:
            raise ValueError(f"{path or DEFAULT}: rule {r.get('id')!r} has kind {r.get('kind')!r}; "
                             f"one of {', '.join(KINDS)}")
    for c in cfg.get("channels") or []:
        if c.get("type") not in CHANNELS:
            raise ValueError(f"{path or DEFAULT}: channel type {c.get('type')!r}; one of {', '.join(CHANNELS)}")
        if c["type"] == "email" and not (c.get("host") and c.get("to")):
            raise ValueError(f"{path or DEFAULT}: an email channel needs host and to")
        if c["type"] != "email" and not c.get("url"):
            raise ValueError(f"{path or DEFAULT}: a {c['type']} channel needs url")
    return cfg


def channel_id(c: dict) -> str:
    """A stable name for a channel (its type and address), the key of its delivery state."""
    if c.get("name"):
        return str(c["name"])
    if c["type"] == "email":
        return f"email:{','.join(sorted(c['to']))}"
    return f"{c['type']}:{c['url'].split('?')[0]}"
