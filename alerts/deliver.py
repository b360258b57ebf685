"""Channels: a generic JSON webhook, the 企业微信 and 钉钉 robot message shapes, e-mail over
SMTP. Each send raises on failure (HTTP status, a robot's errcode, an SMTP error); the runner
retries and records."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.parse
import urllib.request
from email.message import EmailMessage

# Markdown in the robots' messages: data (an area's name, a topic) must not become a link or
# an image there (issue #18). Their renderers do not all honour backslash escapes, so the
# characters that make one are swapped for their full-width forms, which read the same.
_MESSENGER_INERT = str.maketrans({"[": "［", "]": "］", "(": "（", ")": "）", "<": "＜", ">": "＞",
                                  "!": "！", "`": "｀", "*": "＊", "_": "＿", "#": "＃"})


def messenger_text(text: str) -> str:
    return str(text).translate(_MESSENGER_INERT)


def payload(channel: dict, event) -> dict:
    """The JSON body a channel expects."""
    title, text = messenger_text(event.title), messenger_text(event.text)
    if channel["type"] == "wecom":  # 企业微信群机器人: markdown message
        return {"msgtype": "markdown",
                "markdown": {"content": f"**{title}**\n{text}\n[查看详情]({event.link})"}}
    if channel["type"] == "dingtalk":  # 钉钉自定义机器人: markdown message
        return {"msgtype": "markdown",
                "markdown": {"title": title, "text": f"### {title}\n\n{text}\n\n[查看详情]({event.link})"}}
    return {"id": event.key, "rule": event.rule, "level": event.level, "area_code": event.area_code,
            "title": event.title, "text": event.text, "link": event.link}


def _dingtalk_url(channel: dict) -> str:
    """钉钉 'sign' security setting: timestamp and HMAC-SHA256 of 'timestamp\\nsecret'."""
    url, secret = channel["url"], channel.get("secret")
    if not secret:
        return url
    ts = str(int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def post_json(url: str, body: dict, timeout: float) -> None:
    req = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                 headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - configured intranet URL
        text = resp.read().decode("utf-8", "replace")
    try:
        answer = json.loads(text) if text.strip() else {}
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and answer.get("errcode", 0) != 0:  # the robots answer 200 + errcode
        raise RuntimeError(f"receiver refused: errcode {answer.get('errcode')} {answer.get('errmsg', '')}")


def send_mail(channel: dict, subject: str, body: str, to: list[str] | None = None,
              attachments: list[tuple[str, bytes, str]] = (), timeout: float = 10) -> None:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = channel.get("from", "alerts@localhost")
    msg["To"] = ", ".join(to or channel["to"])
    msg.set_content(body)
    for name, data, mime in attachments:
        main, sub = mime.split("/", 1)
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    with smtplib.SMTP(channel["host"], int(channel.get("port", 25)), timeout=timeout) as smtp:
        if channel.get("starttls"):
            smtp.starttls()
        if channel.get("user"):
            smtp.login(channel["user"], channel.get("password", ""))
        smtp.send_message(msg)


def send(channel: dict, event, timeout: float = 10) -> None:
    if channel["type"] == "email":
        send_mail(channel, event.title, f"{event.text}\n\n查看详情：{event.link}\n", timeout=timeout)
    elif channel["type"] == "dingtalk":
        post_json(_dingtalk_url(channel), payload(channel, event), timeout)
    else:
        post_json(channel["url"], payload(channel, event), timeout)
