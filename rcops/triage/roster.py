"""The duty roster (值班表): who is on duty for a plan role, and when.

Administrators add and remove shifts (action ``roster.manage``); every change is
audited. When a plan step becomes a task (:func:`rcops.triage.engine.apply_plan`,
the daily follow-up report), its owner is the step's role and, if someone is on
duty for that role at the task's creation time, that user (:func:`on_duty`).
Times are stored in UTC; a shift runs from ``starts_at`` up to, not including,
``ends_at``. Overlapping shifts are allowed (a handover): the one that started
last decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from rcops.plans.schema import ROLES
from rcops.store.access import ROLES as ACCOUNT_ROLES
from rcops.store.access import allowed, require, role_of
from rcops.store.audit import record
from rcops.store.models import utcnow
from rcops.store.models_accounts import User
from rcops.store.models_disposal import DutyShift

from .exceptions import InvalidAction

#: a shift longer than this is a typing error, not a duty
MAX_SHIFT = timedelta(days=31)


def add_shift(session: Session, actor: str, username: str, role: str, starts_at: datetime,
              ends_at: datetime) -> DutyShift:
    """Put ``username`` on duty for ``role`` from ``starts_at`` to ``ends_at`` (aware datetimes)."""
    require(session, actor, "roster.manage")
    username = (username or "").strip()
    if not username:
        raise InvalidAction("值班人员不能为空")
    if role not in ROLES:
        raise InvalidAction(f"未知角色 {role!r}，可用角色：{'、'.join(f'{k}（{v}）' for k, v in ROLES.items())}")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidAction("值班起止时间须带时区（命令行与控制台按北京时间解释）")
    if ends_at <= starts_at:
        raise InvalidAction("值班结束时间须晚于开始时间")
    if ends_at - starts_at > MAX_SHIFT:
        raise InvalidAction(f"一次值班不能超过 {MAX_SHIFT.days} 天，请分段登记")
    accounts_exist = session.scalar(select(exists().where(User.id.is_not(None))))
    if accounts_exist:
        user_role = role_of(session, username)
        if user_role is None:
            raise InvalidAction(f"用户“{username}”不存在或已停用，不能排入值班表")
        if not allowed(user_role, "task.complete"):  # tasks would be assigned to someone who cannot do them
            raise InvalidAction(f"用户“{username}”的角色为{ACCOUNT_ROLES.get(user_role, user_role)}，不能完成处置任务，"
                                "不能排入值班表")
    shift = DutyShift(username=username, role=role, starts_at=starts_at, ends_at=ends_at, created_by=actor)
    session.add(shift)
    session.flush()
    record(session, actor, "duty_shift", shift.id, "created", username=username, role=role,
           starts_at=shift.starts_at.isoformat(), ends_at=shift.ends_at.isoformat())
    return shift


def remove_shift(session: Session, actor: str, shift_id: int, reason: str = "") -> DutyShift:
    """Take a shift off the roster (tasks already assigned keep their assignee)."""
    require(session, actor, "roster.manage")
    shift = session.get(DutyShift, shift_id)
    if shift is None:
        raise InvalidAction(f"找不到编号为 {shift_id} 的值班记录")
    record(session, actor, "duty_shift", shift.id, "removed", username=shift.username, role=shift.role,
           starts_at=shift.starts_at.isoformat(), ends_at=shift.ends_at.isoformat(), reason=reason)
    session.delete(shift)
    session.flush()
    return shift


def on_duty(session: Session, role: str, at: datetime | None = None) -> str | None:
    """The user on duty for ``role`` at ``at`` (default: now), or None."""
    at = at or utcnow()
    return session.scalar(
        select(DutyShift.username)
        .where(DutyShift.role == role, DutyShift.starts_at <= at, DutyShift.ends_at > at)
        .order_by(DutyShift.starts_at.desc(), DutyShift.id.desc())
        .limit(1)
    )


def list_shifts(session: Session, since: datetime | None = None) -> list[DutyShift]:
    """Shifts that end after ``since`` (default: all), earliest first."""
    q = select(DutyShift)
    if since is not None:
        q = q.where(DutyShift.ends_at > since)
    return list(session.scalars(q.order_by(DutyShift.starts_at, DutyShift.role, DutyShift.id)))
