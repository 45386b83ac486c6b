"""Source-maintenance notices (信息源告警): a blocked source backs off, and an operator is told.

A crawl refused by the site (login wall, captcha, anti-bot answer: a ``CrawlRun.error``
starting with :data:`.antibot.BLOCKED_PREFIX`) opens a :class:`SourceAlert` of kind
``blocked`` — once per blocking episode, not per run. Each further refused run extends
it: ``blocks`` + 1 and a longer back-off (:func:`.antibot.backoff_seconds`: 15 minutes
doubling to at most 6 hours). Until ``retry_at`` the scheduler skips the source
(:func:`backoff_until`); a crawl started by hand (``rcops crawl``) still runs, so an
operator who fixed the cause can try at once. The next successful crawl closes the alert.
Other failures (site down, timeout) neither open nor close one.

Why a notice of its own and not a disposal task: tasks belong to an incident (舆情事件)
and its response plan; a source problem is no public-opinion event, and a pseudo-incident
would distort incident counts, grading and reports. The alert lives in the store (it
survives restarts), is shown by ``rcops sources`` and the console (:func:`source_alerts`),
is audited, and queues one notification per target of :data:`ALERT_ROLES`
(:func:`queue_alert_notifications`, sent by the triage job's dispatcher).

The caller owns the session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.store.audit import record
from rcops.store.models import CrawlRun, CrawlStatus, Source, SourceAlert, utcnow
from rcops.store.models_disposal import Notification

from .antibot import backoff_seconds, is_blocked_reason

KIND_BLOCKED = "blocked"
KIND_LABELS = {KIND_BLOCKED: "疑似被拦截"}
SYSTEM = "system"
#: who is told when a source is blocked (roles of the notification targets, see triage.notify)
ALERT_ROLES = ("duty_officer",)
CLOSED_REASON_OK = "抓取恢复成功"


def open_alert(session: Session, source_id: int, kind: str = KIND_BLOCKED) -> SourceAlert | None:
    return session.scalar(
        select(SourceAlert)
        .where(SourceAlert.source_id == source_id, SourceAlert.kind == kind, SourceAlert.closed_at.is_(None))
        .order_by(SourceAlert.id.desc())
        .limit(1)
    )


def note_run_outcome(session: Session, run: CrawlRun, now: datetime | None = None) -> dict[str, Any] | None:
    """Open, extend or close the source's blocked alert after a finished run.

    Returns what changed — ``{"alert_id", "change": "opened" | "extended" | "closed", "retry_at"}``
    — or ``None`` when nothing did.
    """
    now = now or utcnow()
    if run.status == CrawlStatus.running.value:
        return None
    alert = open_alert(session, run.source_id)
    if run.status == CrawlStatus.ok.value:
        if alert is None:
            return None
        alert.closed_at = now
        alert.closed_reason = CLOSED_REASON_OK
        alert.updated_at = now
        alert.last_run_id = run.id
        record(session, SYSTEM, "source", run.source_id, "alert_closed", alert_id=alert.id, kind=alert.kind,
               blocks=alert.blocks, run_id=run.id, reason=CLOSED_REASON_OK)
        return {"alert_id": alert.id, "change": "closed", "retry_at": None}
    if not is_blocked_reason(run.error):
        return None
    source = session.get(Source, run.source_id)
    assert source is not None
    blocks = 1 if alert is None else alert.blocks + 1
    retry_at = now + timedelta(seconds=backoff_seconds(source.interval_seconds, blocks))
    if alert is None:
        alert = SourceAlert(source_id=source.id, kind=KIND_BLOCKED, reason=run.error or "", opened_at=now,
                            updated_at=now, blocks=blocks, retry_at=retry_at, last_run_id=run.id, closed_reason="")
        session.add(alert)
        session.flush()
        change = "opened"
    else:
        alert.blocks, alert.retry_at, alert.reason = blocks, retry_at, run.error or ""
        alert.updated_at, alert.last_run_id = now, run.id
        change = "extended"
    record(session, SYSTEM, "source", source.id, f"alert_{change}", alert_id=alert.id, kind=KIND_BLOCKED,
           blocks=blocks, retry_at=retry_at.isoformat(), run_id=run.id, reason=(run.error or "")[:300])
    return {"alert_id": alert.id, "change": change, "retry_at": retry_at}


def backoff_until(session: Session, source_key: str, now: datetime | None = None) -> datetime | None:
    """When the scheduler may crawl ``source_key`` again, if it is backing off now; else ``None``."""
    now = now or utcnow()
    retry_at = session.scalar(
        select(SourceAlert.retry_at)
        .join(Source, SourceAlert.source_id == Source.id)
        .where(Source.key == source_key, SourceAlert.closed_at.is_(None))
        .order_by(SourceAlert.retry_at.desc())
        .limit(1)
    )
    return retry_at if retry_at is not None and retry_at > now else None


def alert_row(alert: SourceAlert, source: Source, now: datetime) -> dict[str, Any]:
    """One alert as plain data (times aware UTC)."""
    waiting = alert.closed_at is None and alert.retry_at > now
    return {
        "id": alert.id,
        "source": source.key,
        "source_name": source.name,
        "kind": alert.kind,
        "label": KIND_LABELS.get(alert.kind, alert.kind),
        "reason": alert.reason,
        "opened_at": alert.opened_at,
        "updated_at": alert.updated_at,
        "blocks": alert.blocks,
        "retry_at": alert.retry_at,
        "backing_off": waiting,
        "open": alert.closed_at is None,
        "closed_at": alert.closed_at,
        "closed_reason": alert.closed_reason,
        "advice": "请检查该站点是否需要登录、出现验证码或限制了访问频率；处理后可用 "
                  f"`rcops crawl {source.key}` 立即重试，抓取成功后告警自动关闭。",
    }


def source_alerts(session: Session, now: datetime | None = None, include_closed: bool = False,
                  limit: int = 200) -> list[dict[str, Any]]:
    """The source alerts an operator acts on (open ones; newest first), for ``rcops sources`` and the console."""
    now = now or utcnow()
    query = select(SourceAlert, Source).join(Source, SourceAlert.source_id == Source.id)
    if not include_closed:
        query = query.where(SourceAlert.closed_at.is_(None))
    query = query.order_by(SourceAlert.opened_at.desc(), SourceAlert.id.desc()).limit(limit)
    return [alert_row(alert, source, now) for alert, source in session.execute(query).all()]


def queue_alert_notifications(session: Session, alert_id: int, targets: dict[str, list[str]],
                              timezone: str = "Asia/Shanghai", now: datetime | None = None) -> int:
    """Queue one notification per target of :data:`ALERT_ROLES` for a newly opened alert (once:
    the de-duplication key names the alert). ``targets``: role → ``channel:address``
    (``NotifySettings.role_targets()``). Returns how many were queued."""
    from zoneinfo import ZoneInfo

    now = now or utcnow()
    alert = session.get(SourceAlert, alert_id)
    if alert is None:
        return 0
    source = alert.source
    local = alert.retry_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    subject = f"【信息源告警】{source.name}（{source.key}）{KIND_LABELS.get(alert.kind, alert.kind)}"
    body = (
        f"信息源：{source.name}（{source.key}）\n地址：{source.url}\n原因：{alert.reason}\n"
        f"定时抓取暂停至：{local}（北京时间），之后自动重试；仍被拦截则间隔加倍（最长 6 小时）。\n"
        f"{alert_row(alert, source, now)['advice']}"
    )
    queued = 0
    for role in ALERT_ROLES:
        for target in targets.get(role, []):
            key = f"source-alert:{alert.id}:{target}"
            channel, sep, address = target.partition(":")
            if not sep or not address or session.scalar(select(Notification.id).where(Notification.dedup_key == key)):
                continue
            session.add(Notification(
                incident_id=None, tier_code="", role=role, channel=channel.strip().lower(), target=target,
                subject=subject, body=body, dedup_key=key, status="queued", attempts=0, next_attempt_at=now,
                last_error="",
            ))
            queued += 1
    session.flush()
    return queued


__all__ = [
    "ALERT_ROLES",
    "KIND_BLOCKED",
    "backoff_until",
    "note_run_outcome",
    "open_alert",
    "queue_alert_notifications",
    "source_alerts",
]
