"""One SQLAlchemy model of everything the back office stores.

Grouped by aggregate: monitoring (Source, MonitoringScheme, CrawlRun, SourceAlert, Mention),
rules (Tier, ResponsePlan, PlanStep), disposal (Incident, Task, GradeLabel),
and the audit trail (AuditEvent). All times are stored in UTC and come back
as timezone-aware datetimes on every backend.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text as sql_text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on SQLite (which keeps no zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


# --------------------------------------------------------------------------- monitoring


class SourceKind(str, enum.Enum):
    rss = "rss"
    html = "html"


class Source(Base):
    """A site, feed or API we watch (信息源). Site-specific parts live in ``config``."""

    __tablename__ = "source"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(2000))
    #: selectors, encoding override, max pages … (see crawlers.sources)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=600)
    #: a 5-field cron expression read in Asia/Shanghai (see crawlers.schedule); when set it
    #: replaces ``interval_seconds`` as the source's schedule
    cron: Mapped[str | None] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: central / provincial / municipal / industry / self_media
    media_level: Mapped[str] = mapped_column(String(20), default="self_media")
    region: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    runs: Mapped[list[CrawlRun]] = relationship(back_populates="source", order_by="CrawlRun.id")


class MonitoringScheme(Base):
    """Administrator-defined word groups deciding which mentions are relevant (监测方案)."""

    __tablename__ = "monitoring_scheme"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    subject_words: Mapped[list[Any]] = mapped_column(default=list)
    region_words: Mapped[list[Any]] = mapped_column(default=list)
    event_words: Mapped[list[Any]] = mapped_column(default=list)
    exclusion_words: Mapped[list[Any]] = mapped_column(default=list)
    #: optional boolean expression (AND/OR/NOT, "短语", NEAR/n; see crawlers.expression),
    #: which must match as well as the word groups
    expression: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CrawlStatus(str, enum.Enum):
    running = "running"
    ok = "ok"
    failed = "failed"


class CrawlRun(Base):
    """One crawl of one source: when, what came of it, and why it failed if it did."""

    __tablename__ = "crawl_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default=CrawlStatus.running.value)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    items_stored: Mapped[int] = mapped_column(Integer, default=0)
    items_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    items_irrelevant: Mapped[int] = mapped_column(Integer, default=0)
    items_invalid: Mapped[int] = mapped_column(Integer, default=0)
    #: A clear, Chinese reason when the run failed or dropped items.
    error: Mapped[str | None] = mapped_column(Text)
    #: drop reasons and counters, e.g. {"缺少正文": 2}
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)

    source: Mapped[Source] = relationship(back_populates="runs")


class SourceAlert(Base):
    """A source-maintenance notice (信息源告警) for the operators, one per episode.

    ``kind="blocked"``: the source's crawls are refused (login wall, captcha, anti-bot
    answer). Opened by the first refused run, extended by each refused run after it (the
    back-off grows), closed by the next successful crawl. While ``retry_at`` lies ahead the
    scheduler skips the source. See ``crawlers.alerts``.
    """

    __tablename__ = "source_alert"
    __table_args__ = (Index("ix_source_alert_open", "source_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    kind: Mapped[str] = mapped_column(String(20), default="blocked")
    #: the last refused run's reason
    reason: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: refused runs in a row in this episode (the back-off doubles with each)
    blocks: Mapped[int] = mapped_column(Integer, default=1)
    #: no scheduled crawl before this time
    retry_at: Mapped[datetime]
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"))
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str] = mapped_column(Text, default="")

    source: Mapped[Source] = relationship()


class Mention(Base):
    """One crawled or hand-entered item (信息/帖文/报道), personal data already masked."""

    __tablename__ = "mention"
    __table_args__ = (
        UniqueConstraint("canonical_url", name="uq_mention_canonical_url"),
        Index("ix_mention_graded", "graded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"), index=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"))
    url: Mapped[str] = mapped_column(String(2000))
    canonical_url: Mapped[str] = mapped_column(String(2000))
    #: not unique: a word-for-word repost at another URL is stored too, in its story's chain
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[datetime | None]
    crawled_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: words of the monitoring scheme that matched, by group
    matched: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: interactions (reposts + comments + likes) when the source reports them
    reach: Mapped[int] = mapped_column(Integer, default=0)
    masked_count: Mapped[int] = mapped_column(Integer, default=0)
    #: "crawl" (a spider stored it) or "manual" (人工监测: typed in or imported from CSV/Excel)
    origin: Mapped[str] = mapped_column(String(20), default="crawl", server_default="crawl")
    #: where a hand-entered mention was seen when it is no configured source (e.g. "某微信群")
    source_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # near-duplicates and first source (首发); see crawlers.stories
    #: 64-bit SimHash of the text's character shingles, 16 hex digits (None: text too short)
    simhash: Mapped[str | None] = mapped_column(String(16))
    #: the chain of reposts this mention belongs to (the content hash of its first member)
    story_key: Mapped[str | None] = mapped_column(String(64), index=True)
    #: earliest published (else crawled) mention of its chain
    is_first_source: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: 1 for the first source, 2 for the first repost …
    spread_rank: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # grading (filled by the classifier after storage)
    risk_score: Mapped[float | None] = mapped_column(Float)
    tier_code: Mapped[str | None] = mapped_column(String(8))
    grade_explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    model_version: Mapped[str | None] = mapped_column(String(64))
    #: risk category (classifier.category.CATEGORIES, e.g. "暴力催收") and abusive-language flag
    category: Mapped[str | None] = mapped_column(String(40))
    abusive: Mapped[bool | None]
    graded_at: Mapped[datetime | None]
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)

    source: Mapped[Source | None] = relationship()
    incident: Mapped[Incident | None] = relationship(back_populates="mentions")


# --------------------------------------------------------------------------- rules


class Tier(Base):
    """A severity tier (舆情分级) with the administrator's measurable criteria."""

    __tablename__ = "tier"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    #: 1 is the gravest (Ⅰ 特别重大)
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(50))
    color: Mapped[str] = mapped_column(String(20))
    criteria: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="system")


class ResponsePlan(Base):
    """One version of the response plan (预案) of one tier. Versions are never edited."""

    __tablename__ = "response_plan"
    __table_args__ = (UniqueConstraint("tier_code", "version", name="uq_plan_tier_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tier_code: Mapped[str] = mapped_column(String(8), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="system")

    steps: Mapped[list[PlanStep]] = relationship(
        back_populates="plan", order_by="PlanStep.position", cascade="all, delete-orphan"
    )


class PlanStep(Base):
    __tablename__ = "plan_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("response_plan.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(50))
    #: minutes after detection of the incident
    deadline_minutes: Mapped[int] = mapped_column(Integer)
    #: "detection" (minutes after detection) or "previous" (minutes after the previous step's deadline)
    relative_to: Mapped[str] = mapped_column(String(20), default="detection", server_default="detection")
    notify: Mapped[list[Any]] = mapped_column(default=list)
    on_breach: Mapped[str] = mapped_column(String(300), default="")
    #: items the task's owner ticks off before completing it (copied to each task)
    checklist: Mapped[list[Any]] = mapped_column(default=list, server_default=sql_text("'[]'"))
    #: a daily step (续报): one task per Asia/Shanghai calendar day while the incident is open,
    #: created by the scheduler's periodic check instead of when the plan is applied
    daily: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    plan: Mapped[ResponsePlan] = relationship(back_populates="steps")


# --------------------------------------------------------------------------- disposal


class IncidentState(str, enum.Enum):
    detected = "detected"
    confirmed = "confirmed"
    disposing = "disposing"
    resolved = "resolved"
    reported = "reported"
    archived = "archived"
    dismissed = "dismissed"


class Incident(Base):
    """Mentions of one story grouped together (舆情事件)."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), default=IncidentState.detected.value, index=True)
    tier_code: Mapped[str] = mapped_column(String(8), index=True)
    #: what the system suggested, kept when an operator corrects the tier
    suggested_tier_code: Mapped[str] = mapped_column(String(8))
    tier_explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tier_confirmed_by: Mapped[str | None] = mapped_column(String(100))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("response_plan.id"))
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_mention_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    mention_count: Mapped[int] = mapped_column(Integer, default=0)
    max_risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    total_reach: Mapped[int] = mapped_column(Integer, default=0)
    #: normalized text of the first mention, used to group later mentions
    signature: Mapped[str] = mapped_column(Text, default="")
    dismissed_reason: Mapped[str | None] = mapped_column(Text)
    #: a lower tier asked for by an operator, waiting for an administrator's sign-off
    pending_tier_code: Mapped[str | None] = mapped_column(String(8))
    pending_tier_reason: Mapped[str | None] = mapped_column(Text)
    pending_tier_by: Mapped[str | None] = mapped_column(String(100))
    #: risk category (classifier.taxonomy.CATEGORIES): its mentions' most frequent one, kept
    #: up to date as mentions attach, unless an operator corrected it (``category_corrected_by``)
    category: Mapped[str | None] = mapped_column(String(40))
    category_corrected_by: Mapped[str | None] = mapped_column(String(100))
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}

    mentions: Mapped[list[Mention]] = relationship(back_populates="incident", order_by="Mention.id")
    tasks: Mapped[list[Task]] = relationship(back_populates="incident", order_by="Task.position")
    plan: Mapped[ResponsePlan | None] = relationship()


class TaskStatus(str, enum.Enum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class Task(Base):
    """One step of the applied response plan for one incident (任务), with its deadline (时限)."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    plan_step_id: Mapped[int | None] = mapped_column(ForeignKey("plan_step.id"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(50))
    assignee: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.open.value)
    overdue_flagged_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="tasks")


class GradeLabel(Base):
    """An operator's confirmation or correction of a tier: a label that teaches the classifier."""

    __tablename__ = "grade_label"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    suggested_tier_code: Mapped[str] = mapped_column(String(8))
    tier_code: Mapped[str | None] = mapped_column(String(8))
    #: "confirm", "correct" or "dismiss" (the tier); "category" (an operator's risk category)
    kind: Mapped[str] = mapped_column(String(20))
    #: for kind "category": the category the operator gave (classifier.taxonomy.CATEGORIES)
    category: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")


# --------------------------------------------------------------------------- audit


class AuditEvent(Base):
    """Who changed what, when (审计日志). Written in the same transaction as the change."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


# --------------------------------------------------------------------------- feature areas
# Each feature area keeps its own tables in a module of its own (``models_<area>.py``,
# importing ``Base`` and ``utcnow`` from here); importing it below registers its
# tables on ``Base.metadata`` so that migrations and every session see them.
# One line per area:
from rcops.store import models_accounts as _models_accounts  # noqa: E402,F401  (accounts)
from rcops.store import models_disposal as _models_disposal  # noqa: E402,F401  (disposal)
