"""Notifiers: one small interface, one registry, five channels.

A notification target is written ``channel:address``, for example
``email:duty@example.cn``, ``wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``,
``dingtalk:https://oapi.dingtalk.com/robot/send?access_token=…``,
``feishu:https://open.feishu.cn/open-apis/bot/v2/hook/…`` or ``webhook:https://…``.
Targets are configured per role (:class:`NotifySettings`, environment variables
``RCOPS_NOTIFY_*`` or a YAML file).

To add a channel: write a class with ``channel`` and ``send`` and add it to
:data:`NOTIFIERS` (the one place they are registered).
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import yaml
from pydantic_settings import BaseSettings, SettingsConfigDict

from .exceptions import TriageError


class NotifyError(TriageError):
    """A send failed (the notification is retried with backoff)."""


class NotifySettings(BaseSettings):
    """Where and how notifications go. Environment: ``RCOPS_NOTIFY_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="RCOPS_NOTIFY_", env_file=".env", extra="ignore")

    #: role → targets (``channel:address``); JSON in the environment, e.g.
    #: RCOPS_NOTIFY_TARGETS='{"administrator": ["email:admin@example.cn"]}'
    targets: dict[str, list[str]] = {}
    #: optional YAML file with a ``targets:`` mapping of the same shape (merged over ``targets``)
    targets_file: str = ""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "rcops@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    #: quiet hours in Asia/Shanghai, "22:00-07:00"; empty: none
    quiet_hours: str = ""
    #: tiers that ignore quiet hours
    quiet_exempt_tiers: list[str] = ["I"]
    timezone: str = "Asia/Shanghai"
    #: a failed send is retried this many times in all, waiting backoff × 2^(n-1) seconds
    max_attempts: int = 5
    backoff_seconds: int = 60
    #: level 1 of a breach goes to the step's notify roles plus these roles
    escalate_roles: list[str] = ["operator_lead"]
    #: if the task is still open this many minutes after the breach, level 2 goes to these roles
    second_level_minutes: int = 60
    second_level_roles: list[str] = ["administrator"]
    http_timeout_seconds: float = 10.0

    def role_targets(self) -> dict[str, list[str]]:
        merged = {k: list(v) for k, v in self.targets.items()}
        if self.targets_file:
            path = Path(self.targets_file)
            try:
                doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise TriageError(f"无法读取通知对象文件 {path}：{exc}") from exc
            for role, targets in (doc.get("targets") or {}).items():
                merged[str(role)] = [str(t) for t in targets or []]
        return merged

    def quiet_until(self, now: datetime, tier_code: str) -> datetime | None:
        """End of the quiet period ``now`` falls in (UTC), or None if sending is allowed now."""
        if not self.quiet_hours or tier_code in self.quiet_exempt_tiers:
            return None
        try:
            start_s, end_s = self.quiet_hours.split("-")
            start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
        except ValueError as exc:
            raise TriageError(f"免打扰时段格式应为 HH:MM-HH:MM，实际为 {self.quiet_hours!r}") from exc
        tz = ZoneInfo(self.timezone)
        local = now.astimezone(tz)
        t = local.time()
        inside = (start <= t < end) if start < end else (t >= start or t < end)
        if not inside:
            return None
        end_day = local.date() if t < end else local.date() + timedelta(days=1)
        return datetime.combine(end_day, end, tzinfo=tz).astimezone(now.tzinfo)


class Notifier(Protocol):
    """A channel that delivers a message to one target address."""

    channel: str

    def send(self, address: str, subject: str, body: str) -> str:
        """Deliver the message; return a short description of the result; raise NotifyError on failure."""
        ...


def split_target(target: str) -> tuple[str, str]:
    channel, sep, address = target.partition(":")
    if not sep or not address:
        raise NotifyError(f"通知对象格式应为“渠道:地址”，实际为 {target!r}")
    return channel.strip().lower(), address.strip()


class EmailNotifier:
    channel = "email"

    def __init__(self, settings: NotifySettings):
        self.s = settings

    def send(self, address: str, subject: str, body: str) -> str:
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = subject, self.s.smtp_from, address
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.s.smtp_host, self.s.smtp_port, timeout=self.s.http_timeout_seconds) as smtp:
                if self.s.smtp_starttls:
                    smtp.starttls()
                if self.s.smtp_user:
                    smtp.login(self.s.smtp_user, self.s.smtp_password)
                refused = smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(f"邮件发送失败（{self.s.smtp_host}:{self.s.smtp_port}）：{exc}") from exc
        if refused:
            raise NotifyError(f"邮件被拒收：{refused}")
        return f"邮件已发送至 {address}"


class _JsonPost:
    """POST a JSON payload; the robots answer HTTP 200 with an error code in the body."""

    channel = "webhook"

    def __init__(self, settings: NotifySettings):
        self.s = settings

    def payload(self, subject: str, body: str) -> dict[str, Any]:
        return {"title": subject, "text": body, "source": "rcops"}

    def check(self, answer: dict[str, Any]) -> None:
        return None

    def send(self, address: str, subject: str, body: str) -> str:
        data = json.dumps(self.payload(subject, body), ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(address, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=self.s.http_timeout_seconds) as resp:
                raw = resp.read()
                code = resp.status
        except urllib.error.HTTPError as exc:
            raise NotifyError(f"{self.channel} 推送失败：HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise NotifyError(f"{self.channel} 推送失败：{exc}") from exc
        try:
            answer = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            answer = {}
        if isinstance(answer, dict):
            self.check(answer)
        return f"{self.channel} 推送成功（HTTP {code}）"


class WebhookNotifier(_JsonPost):
    channel = "webhook"


class WeComNotifier(_JsonPost):
    """企业微信群机器人: {"msgtype": "text", "text": {"content": …}}, answer errcode 0."""

    channel = "wecom"

    def payload(self, subject: str, body: str) -> dict[str, Any]:
        return {"msgtype": "text", "text": {"content": f"{subject}\n{body}"}}

    def check(self, answer: dict[str, Any]) -> None:
        if answer.get("errcode", 0) != 0:
            raise NotifyError(f"企业微信机器人拒绝：{answer.get('errcode')} {answer.get('errmsg', '')}")


class DingTalkNotifier(WeComNotifier):
    """钉钉群机器人: the same text format, answer errcode 0."""

    channel = "dingtalk"

    def check(self, answer: dict[str, Any]) -> None:
        if answer.get("errcode", 0) != 0:
            raise NotifyError(f"钉钉机器人拒绝：{answer.get('errcode')} {answer.get('errmsg', '')}")


class FeishuNotifier(_JsonPost):
    """飞书群机器人: {"msg_type": "text", "content": {"text": …}}, answer code 0."""

    channel = "feishu"

    def payload(self, subject: str, body: str) -> dict[str, Any]:
        return {"msg_type": "text", "content": {"text": f"{subject}\n{body}"}}

    def check(self, answer: dict[str, Any]) -> None:
        code = answer.get("code", answer.get("StatusCode", 0))
        if code != 0:
            raise NotifyError(f"飞书机器人拒绝：{code} {answer.get('msg', '')}")


#: The one registry of channels.
NOTIFIERS: dict[str, type] = {
    "email": EmailNotifier,
    "webhook": WebhookNotifier,
    "wecom": WeComNotifier,
    "dingtalk": DingTalkNotifier,
    "feishu": FeishuNotifier,
}


def build_notifiers(settings: NotifySettings) -> dict[str, Notifier]:
    return {name: cls(settings) for name, cls in NOTIFIERS.items()}
