"""Disposal tables: durable escalations, queued notifications with their send log,
and analysis reports with their attachments.

Escalations and notifications live in the store so that a restart of the
scheduler process neither loses nor repeats them: an escalation is unique per
(task, level), a notification unique per de-duplication key, a daily follow-up
report (续报) unique per (incident, Asia/Shanghai calendar day).

Also here: the duty roster (值班表) that names who owns a role's new tasks, and
the checklist items of tasks (检查清单).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Base, utcnow


class Escalation(Base):
    """A breach of a task's deadline (超时督办) and whom it escalates to."""

    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("task_id", "level", name="uq_escalation_task_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    #: when it fires (UTC); pending until then
    due_at: Mapped[datetime]
    #: pending / fired / cancelled
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    roles: Mapped[list[Any]] = mapped_column(default=list)
    action: Mapped[str] = mapped_column(String(300), default="")
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(100))
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """One message to one target (an address or a robot URL), queued until sent."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("dedup_key", name="uq_notification_dedup"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalation.id"))
    tier_code: Mapped[str] = mapped_column(String(8), default="")
    role: Mapped[str] = mapped_column(String(50), default="")
    #: email / webhook / wecom / dingtalk / feishu
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(2000))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    dedup_key: Mapped[str] = mapped_column(String(300))
    #: queued / sent / failed / cancelled
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationAttempt(Base):
    """Every send, with its result (发送日志)."""

    __tablename__ = "notification_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, default="")


class AnalysisReport(Base):
    """One version of an incident's analysis report (舆情分析报告)."""

    __tablename__ = "analysis_report"
    __table_args__ = (UniqueConstraint("incident_id", "version", name="uq_report_incident_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: draft / submitted / archived / superseded
    status: Mapped[str] = mapped_column(String(20), default="draft")
    title: Mapped[str] = mapped_column(String(500))
    content_html: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(1000), default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("analysis_report.id"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None]
    archived_by: Mapped[str | None] = mapped_column(String(100))
    archived_at: Mapped[datetime | None]
    #: optimistic locking: raised by every change of the row; an edit or submission made on a
    #: screen that loaded an older one is refused (``expected_version``)
    row_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": row_version}

    attachments: Mapped[list[ReportAttachment]] = relationship(
        back_populates="report", order_by="ReportAttachment.name", cascade="all, delete-orphan"
    )


class ReportAttachment(Base):
    """A file of a report (the volume chart …); sealed with the report."""

    __tablename__ = "report_attachment"
    __table_args__ = (UniqueConstraint("report_id", "name", name="uq_report_attachment_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("analysis_report.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    report: Mapped[AnalysisReport] = relationship(back_populates="attachments")


class DutyShift(Base):
    """Who is on duty for a role from ``starts_at`` to ``ends_at`` (值班表; UTC, end exclusive).

    A task created for the role while the shift runs is assigned to ``username``;
    when shifts overlap (a handover), the one that started last wins.
    """

    __tablename__ = "duty_shift"
    __table_args__ = (Index("ix_duty_shift_role_time", "role", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    #: a plan role (rcops.plans.schema.ROLES), e.g. duty_officer
    role: Mapped[str] = mapped_column(String(50))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskChecklistItem(Base):
    """One item of a task's checklist, copied from its plan step, ticked by the task's owner."""

    __tablename__ = "task_checklist_item"
    __table_args__ = (UniqueConstraint("task_id", "position", name="uq_checklist_task_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    #: 1, 2, … in the order of the plan step's checklist
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(300))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_by: Mapped[str | None] = mapped_column(String(100))
    done_at: Mapped[datetime | None]


class DailyFollowUp(Base):
    """The follow-up report task (续报) of one incident for one Asia/Shanghai calendar day.

    The unique key makes the scheduler's periodic check idempotent across repeated
    runs, concurrent processes and restarts: at most one such task per incident and day.
    The row is claimed first (``task_id`` still empty) and the task created afterwards.
    """

    __tablename__ = "daily_followup"
    __table_args__ = (UniqueConstraint("incident_id", "day", name="uq_daily_followup_incident_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    #: the calendar day in Asia/Shanghai
    day: Mapped[date] = mapped_column(Date)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
