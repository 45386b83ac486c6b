"""Durable escalation (超时督办) and the notification queue.

A task past its deadline gets a level-1 escalation that fires at once (the step's
``notify`` roles plus the escalation roles) and a level-2 escalation that stays
*pending* in the store until ``second_level_minutes`` later. Timers are rows,
not threads: whichever scheduler process runs :func:`fire_due_escalations`
after the time fires them, exactly once (unique per task and level, status
flipped in the same transaction that queues the notifications).

Acknowledging, resolving or dismissing an incident cancels its pending
escalations and queued notifications (:func:`cancel_pending`); tasks and notes
are never deleted. :func:`dispatch_notifications` sends what is due, logs every
attempt, retries with exponential backoff, and respects quiet hours per tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.plans.schema import ROLES
from rcops.store.audit import record
from rcops.store.models import Incident, PlanStep, Task, TaskStatus, utcnow
from rcops.store.models_disposal import Escalation, Notification, NotificationAttempt

from .exceptions import TriageError
from .lifecycle import OPEN_STATES, STATE_LABELS
from .notify import Notifier, NotifyError, NotifySettings, build_notifiers, split_target

SYSTEM = "system"


def _fmt_local(dt: datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def open_breach(session: Session, task: Task, now: datetime, cfg: NotifySettings) -> Escalation | None:
    """Record the breach of ``task``: level 1 fires now, level 2 waits in the store."""
    if session.scalar(select(Escalation.id).where(Escalation.task_id == task.id, Escalation.level == 1)):
        return None
    step = session.get(PlanStep, task.plan_step_id) if task.plan_step_id else None
    roles = list(dict.fromkeys([*(step.notify if step else []), *cfg.escalate_roles]))
    first = Escalation(incident_id=task.incident_id, task_id=task.id, level=1, due_at=now, status="pending",
                       roles=roles, action=(step.on_breach if step else "") or "超时督办", cancel_reason="")
    second = Escalation(incident_id=task.incident_id, task_id=task.id, level=2,
                        due_at=now + timedelta(minutes=cfg.second_level_minutes), status="pending",
                        roles=list(cfg.second_level_roles), action="二级督办：任务仍未完成", cancel_reason="")
    session.add_all([first, second])
    session.flush()
    fire(session, first, now, cfg)
    return first


def fire(session: Session, esc: Escalation, now: datetime, cfg: NotifySettings) -> int:
    """Fire one pending escalation: mark it, audit it, queue one notification per distinct target."""
    incident = session.get(Incident, esc.incident_id)
    task = session.get(Task, esc.task_id)
    assert incident is not None and task is not None
    esc.status = "fired"
    esc.fired_at = now
    record(session, SYSTEM, "incident", incident.id, "escalated", task_id=task.id, level=esc.level,
           roles=esc.roles, required=esc.action)
    subject = f"【舆情督办·{esc.level}级】{incident.tier_code}级事件 #{incident.id} 任务超时"
    body = (
        f"事件：{incident.title}\n等级：{incident.tier_code}级　状态：{STATE_LABELS.get(incident.state, incident.state)}\n"
        f"超时任务：{task.title}（{ROLES.get(task.role, task.role)}）\n"
        f"时限：{_fmt_local(task.due_at, cfg.timezone)}（北京时间）\n"
        f"督办要求：{esc.action}"
    )
    try:
        targets = cfg.role_targets()
    except TriageError as exc:  # a broken targets file must not stop escalation: use the environment's targets
        record(session, SYSTEM, "incident", incident.id, "notify_config_error", error=str(exc))
        targets = cfg.targets
    queued = 0
    quiet = cfg.quiet_until(now, incident.tier_code)
    for role in esc.roles:
        for target in targets.get(role, []):
            key = f"esc:{esc.id}:{target}"
            if session.scalar(select(Notification.id).where(Notification.dedup_key == key)):
                continue  # the same address named under two roles gets one message
            try:
                channel, _ = split_target(target)
            except NotifyError as exc:
                record(session, SYSTEM, "incident", incident.id, "notify_target_invalid", role=role, error=str(exc))
                continue
            session.add(Notification(
                incident_id=incident.id, escalation_id=esc.id, tier_code=incident.tier_code, role=role,
                channel=channel, target=target, subject=subject, body=body, dedup_key=key, status="queued",
                attempts=0, next_attempt_at=quiet or now, last_error="",
            ))
            session.flush()
            queued += 1
    return queued


def fire_due_escalations(session: Session, cfg: NotifySettings, now: datetime | None = None) -> int:
    """Fire pending escalations whose time has come; cancel those whose task is done meanwhile."""
    now = now or utcnow()
    due = session.scalars(
        select(Escalation).where(Escalation.status == "pending", Escalation.due_at <= now).order_by(Escalation.id)
    ).all()
    fired = 0
    for esc in due:
        task = session.get(Task, esc.task_id)
        incident = session.get(Incident, esc.incident_id)
        if task is None or incident is None or task.status != TaskStatus.open.value or incident.state not in OPEN_STATES:
            _cancel(esc, now, SYSTEM, "任务已完成或事件已结束")
            continue
        fire(session, esc, now, cfg)
        fired += 1
    return fired


def _cancel(esc: Escalation, now: datetime, actor: str, reason: str) -> None:
    esc.status = "cancelled"
    esc.cancelled_at = now
    esc.cancelled_by = actor
    esc.cancel_reason = reason


def cancel_pending(session: Session, incident_id: int, actor: str, reason: str, task_id: int | None = None) -> dict[str, int]:
    """Cancel pending escalations and queued notifications of an incident (or of one of its tasks)."""
    now = utcnow()
    q = select(Escalation).where(Escalation.incident_id == incident_id, Escalation.status == "pending")
    if task_id is not None:
        q = q.where(Escalation.task_id == task_id)
    escs = session.scalars(q).all()
    for esc in escs:
        _cancel(esc, now, actor, reason)
    nq = select(Notification).where(Notification.incident_id == incident_id, Notification.status == "queued")
    if task_id is not None:
        nq = nq.join(Escalation, Notification.escalation_id == Escalation.id).where(Escalation.task_id == task_id)
    notes = session.scalars(nq).all()
    for n in notes:
        n.status = "cancelled"
        n.last_error = f"已取消：{reason}"
    if escs or notes:
        record(session, actor, "incident", incident_id, "escalations_cancelled", reason=reason,
               escalations=len(escs), notifications=len(notes), task_id=task_id)
    session.flush()
    return {"escalations": len(escs), "notifications": len(notes)}


@dataclass
class DispatchResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def dispatch_notifications(session: Session, cfg: NotifySettings, now: datetime | None = None,
                           notifiers: dict[str, Notifier] | None = None, limit: int = 100) -> DispatchResult:
    """Send queued notifications that are due; log each attempt; back off and retry on failure."""
    now = now or utcnow()
    notifiers = notifiers if notifiers is not None else build_notifiers(cfg)
    result = DispatchResult()
    queued = session.scalars(
        select(Notification).where(Notification.status == "queued", Notification.next_attempt_at <= now)
        .order_by(Notification.id).limit(limit)
    ).all()
    for n in queued:
        quiet = cfg.quiet_until(now, n.tier_code)
        if quiet is not None:
            n.next_attempt_at = quiet
            continue
        n.attempts += 1
        try:
            notifier = notifiers.get(n.channel)
            if notifier is None:
                raise NotifyError(f"未知的通知渠道 {n.channel!r}，可用：{'、'.join(notifiers)}")
            detail = notifier.send(split_target(n.target)[1], n.subject, n.body)
        except NotifyError as exc:
            session.add(NotificationAttempt(notification_id=n.id, at=now, ok=False, detail=str(exc)))
            n.last_error = str(exc)
            if n.attempts >= cfg.max_attempts:
                n.status = "failed"
                result.failed += 1
                record(session, SYSTEM, "notification", n.id, "failed", incident_id=n.incident_id,
                       target=n.target, attempts=n.attempts, error=str(exc))
            else:
                n.next_attempt_at = now + timedelta(seconds=cfg.backoff_seconds * 2 ** (n.attempts - 1))
                result.retrying += 1
            continue
        session.add(NotificationAttempt(notification_id=n.id, at=now, ok=True, detail=detail))
        n.status = "sent"
        n.sent_at = now
        n.last_error = ""
        result.sent += 1
    session.flush()
    return result


def incident_escalations(session: Session, incident_id: int) -> list[Escalation]:
    return list(session.scalars(select(Escalation).where(Escalation.incident_id == incident_id).order_by(Escalation.id)))


def incident_notifications(session: Session, incident_id: int) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.incident_id == incident_id).order_by(Notification.id)))
