"""From stored mentions to graded incidents with the tier's plan applied.

``process_pending`` is what the scheduler runs after every crawl: it scores
new mentions, grades them against the tiers in force, groups them into
incidents (a new mention of a known story attaches to its incident and
refreshes its metrics), re-grades incidents that grew and applies the
stronger plan's steps. Everything it changes is audited as ``system``.

A plan step becomes a task owned by its role and, when the duty roster has
someone on duty for that role at the task's creation time, by that user. Daily
steps (the follow-up report 续报 of tiers Ⅰ and Ⅱ) are not created with the plan
but by :func:`create_daily_followups`, which :func:`check_deadlines` runs on every
scheduler tick: one task per incident per Asia/Shanghai calendar day while the
incident is confirmed or being disposed of, unique in the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rcops.classifier.grading import annotate_scored, mention_fields
from rcops.classifier.taxonomy import dominant_category
from rcops.classifier.tiering import Grade, Signals, assign_tier, rank_of
from rcops.plans.schema import TierDef
from rcops.plans.store_io import current_plan, tier_defs
from rcops.store.audit import record
from rcops.store.models import (
    Incident,
    IncidentState,
    Mention,
    PlanStep,
    ResponsePlan,
    Source,
    Task,
    TaskStatus,
    utcnow,
)
from rcops.store.models_disposal import DailyFollowUp, TaskChecklistItem

from . import grouping
from .escalation import fire_due_escalations, open_breach
from .notify import NotifySettings
from .lifecycle import OPEN_STATES
from .roster import on_duty

SYSTEM = "system"
INCIDENT_TEXT_CHARS = 4000
TZ = ZoneInfo("Asia/Shanghai")
#: incident states in which daily follow-up reports (续报) are due
FOLLOWUP_STATES = frozenset({IncidentState.confirmed.value, IncidentState.disposing.value})


class Scorer(Protocol):
    """Anything that gives risk scores in [0, 1] (the classifier's RiskModel)."""

    version: str

    def score(self, texts: list[str]) -> list[float]:
        """Probability that each text is a negative / risky mention."""
        ...


@dataclass
class ProcessResult:
    graded: int = 0
    attached: int = 0
    incidents_created: int = 0
    incidents_regraded: int = 0
    tasks_created: int = 0


def grade_pending(session: Session, scorer: Scorer, tiers: list[TierDef], limit: int = 500) -> int:
    """Score and grade mentions not graded yet; returns how many."""
    mentions = list(
        session.scalars(select(Mention).where(Mention.graded_at.is_(None)).order_by(Mention.id).limit(limit))
    )
    if not mentions:
        return 0
    levels = _media_levels(session, {m.source_id for m in mentions})
    texts = [f"{m.title}。{m.text}" for m in mentions]
    scores = scorer.score(texts)
    notes = annotate_scored(scorer, texts, scores)  # category and abusive flag, when the model has them
    now = utcnow()
    for m, score, note in zip(mentions, scores, notes, strict=True):
        m.category, m.abusive = mention_fields(note)
        grade = assign_tier(
            Signals(
                risk_score=float(score),
                text=f"{m.title} {m.text}",
                reach=m.reach,
                media_levels=frozenset(levels.get(m.source_id, set())),
                category=m.category,
            ),
            tiers,
        )
        m.risk_score = float(score)
        m.tier_code = grade.tier_code
        m.grade_explanation = {**grade.explanation, **note}
        m.model_version = scorer.version
        m.graded_at = now
    return len(mentions)


def _media_levels(session: Session, source_ids: set[int | None]) -> dict[int | None, set[str]]:
    ids = [i for i in source_ids if i is not None]
    if not ids:
        return {}
    return {sid: {lvl} for sid, lvl in session.execute(select(Source.id, Source.media_level).where(Source.id.in_(ids)))}


def find_incident(session: Session, mention: Mention, window_hours: int, threshold: float) -> Incident | None:
    """The open incident telling the same story as ``mention``, if any."""
    since = (mention.published_at or mention.crawled_at) - timedelta(hours=window_hours)
    candidates = session.scalars(
        select(Incident).where(Incident.state.in_(OPEN_STATES), Incident.last_mention_at >= since)
    )
    sig = grouping.shingles(grouping.normalize(mention.title, mention.text))
    best, best_sim = None, threshold
    for inc in candidates:
        sim = grouping.similarity(sig, grouping.shingles(inc.signature))
        if sim >= best_sim:
            best, best_sim = inc, sim
    return best


def incident_signals(session: Session, incident: Incident, now: datetime) -> Signals:
    rows = session.execute(
        select(Mention.title, Mention.text, Mention.risk_score, Mention.reach, Mention.source_id, Mention.crawled_at)
        .where(Mention.incident_id == incident.id)
    ).all()
    source_ids = {r.source_id for r in rows}
    levels = set().union(*_media_levels(session, source_ids).values()) if source_ids else set()
    text = " ".join(f"{r.title} {r.text}" for r in rows)[:INCIDENT_TEXT_CHARS]
    return Signals(
        risk_score=max((r.risk_score or 0.0) for r in rows) if rows else 0.0,
        text=text,
        reach=sum(r.reach for r in rows),
        mentions=len(rows),
        sources=len(source_ids),
        media_levels=frozenset(levels),
        growth_per_hour=sum(1 for r in rows if r.crawled_at >= now - timedelta(hours=1)),
        category=incident.category,
    )


def refresh_category(session: Session, incident: Incident) -> None:
    """Set the incident's category from its mentions' (most frequent risky one), unless an
    operator corrected it."""
    if incident.category_corrected_by:
        return
    cats = session.scalars(select(Mention.category).where(Mention.incident_id == incident.id)).all()
    incident.category = dominant_category(list(cats))


def new_task(session: Session, incident: Incident, step: PlanStep, due_at: datetime, now: datetime,
             title: str | None = None) -> Task:
    """One task of ``step`` for ``incident``: owned by the step's role and, when someone is on duty
    for that role at ``now``, by that user; the step's checklist is copied to it."""
    position = session.scalar(select(func.coalesce(func.max(Task.position), 0)).where(Task.incident_id == incident.id))
    task = Task(
        incident_id=incident.id,
        plan_step_id=step.id,
        position=(position or 0) + 1,
        title=title or step.title,
        role=step.role,
        assignee=on_duty(session, step.role, now),
        due_at=due_at,
        status=TaskStatus.open.value,
        created_at=now,
    )
    session.add(task)
    session.flush()
    for i, item in enumerate(step.checklist or [], start=1):
        session.add(TaskChecklistItem(task_id=task.id, position=i, text=str(item), done=False))
    if task.assignee:
        record(session, SYSTEM, "task", task.id, "assigned", incident_id=incident.id, from_assignee=None,
               to_assignee=task.assignee, note="按值班表自动指派")
    return task


def apply_plan(session: Session, incident: Incident, tier_code: str, actor: str = SYSTEM,
               now: datetime | None = None) -> int:
    """Add the tasks of ``tier_code``'s current plan that the incident lacks; returns how many.
    Daily steps are left to :func:`create_daily_followups`."""
    plan = current_plan(session, tier_code)
    if plan is None:
        return 0
    now = now or utcnow()
    incident.plan_id = plan.id
    have = {t.title for t in session.scalars(select(Task).where(Task.incident_id == incident.id))}
    created = 0
    previous_due = incident.detected_at
    for step in plan.steps:
        if step.daily:
            continue
        base = previous_due if step.relative_to == "previous" else incident.detected_at
        due_at = previous_due = base + timedelta(minutes=step.deadline_minutes)
        if step.title in have:
            continue
        new_task(session, incident, step, due_at, now)
        created += 1
    session.flush()
    record(session, actor, "incident", incident.id, "plan_applied", tier=tier_code, plan_id=plan.id,
           plan_version=plan.version, tasks_added=created)
    return created


def regrade(session: Session, incident: Incident, tiers: list[TierDef], now: datetime, result: ProcessResult) -> None:
    """Re-grade a grown incident: upgrade (never downgrade) and add the stronger plan's steps."""
    grade: Grade = assign_tier(incident_signals(session, incident, now), tiers)
    if grade.tier_code is None or rank_of(grade.tier_code, tiers) >= rank_of(incident.tier_code, tiers):
        return
    old = incident.tier_code
    incident.tier_code = grade.tier_code
    incident.suggested_tier_code = grade.tier_code
    incident.tier_explanation = grade.explanation
    record(session, SYSTEM, "incident", incident.id, "regraded", from_tier=old, to_tier=grade.tier_code,
           explanation=grade.explanation)
    result.incidents_regraded += 1
    result.tasks_created += apply_plan(session, incident, grade.tier_code)


def attach_pending(session: Session, tiers: list[TierDef], window_hours: int, threshold: float,
                   result: ProcessResult, limit: int = 500) -> None:
    """Group graded mentions into incidents; open a new incident for a graded story not seen before."""
    mentions = list(
        session.scalars(
            select(Mention)
            .where(Mention.graded_at.is_not(None), Mention.incident_id.is_(None), Mention.tier_code.is_not(None))
            .order_by(Mention.id)
            .limit(limit)
        )
    )
    now = utcnow()
    touched: dict[int, Incident] = {}
    for m in mentions:
        incident = find_incident(session, m, window_hours, threshold)
        if incident is None:
            incident = Incident(
                title=m.title[:500] or m.text[:60],
                state=IncidentState.detected.value,
                tier_code=m.tier_code or "",
                suggested_tier_code=m.tier_code or "",
                tier_explanation=m.grade_explanation or {},
                detected_at=m.crawled_at,
                last_mention_at=m.crawled_at,
                signature=grouping.normalize(m.title, m.text),
                category=m.category,
            )
            session.add(incident)
            session.flush()
            record(session, SYSTEM, "incident", incident.id, "detected", tier=incident.tier_code,
                   first_mention_id=m.id, explanation=incident.tier_explanation)
            result.incidents_created += 1
            m.incident_id = incident.id
            session.flush()
            result.tasks_created += apply_plan(session, incident, incident.tier_code)
        else:
            m.incident_id = incident.id
            record(session, SYSTEM, "incident", incident.id, "mention_attached", mention_id=m.id)
            result.attached += 1
        incident.mention_count = (incident.mention_count or 0) + 1
        incident.max_risk_score = max(incident.max_risk_score or 0.0, m.risk_score or 0.0)
        incident.total_reach = (incident.total_reach or 0) + m.reach
        incident.last_mention_at = max(incident.last_mention_at, m.crawled_at)
        touched[incident.id] = incident
    session.flush()
    for incident in touched.values():
        if incident.mention_count > 1:
            refresh_category(session, incident)
            regrade(session, incident, tiers, now, result)


def process_pending(session: Session, scorer: Scorer, window_hours: int = 72, threshold: float = 0.5,
                    limit: int = 500) -> ProcessResult:
    """Grade new mentions and fold them into incidents (one call per scheduler tick)."""
    tiers = tier_defs(session)
    result = ProcessResult()
    result.graded = grade_pending(session, scorer, tiers, limit=limit)
    attach_pending(session, tiers, window_hours, threshold, result, limit=limit)
    return result


def local_day(at: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware datetime."""
    return at.astimezone(TZ).date()


def _daily_step(session: Session, incident: Incident) -> PlanStep | None:
    """The daily step of the plan the incident is handled under (its current tier's plan if the tier
    changed since), or None."""
    plan = session.get(ResponsePlan, incident.plan_id) if incident.plan_id else None
    if plan is None or plan.tier_code != incident.tier_code:
        plan = current_plan(session, incident.tier_code)
    if plan is None:
        return None
    return next((s for s in plan.steps if s.daily), None)


def claim_followup_day(session: Session, incident_id: int, day: date, now: datetime) -> int | None:
    """Claim ``day`` for the incident's follow-up report: the new ``daily_followup`` row's id, or None
    when the day is taken already (by an earlier run or, at the same moment, another scheduler process).
    ``INSERT … ON CONFLICT DO NOTHING``: losing the race is no error and leaves the transaction usable."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the store runs on SQLite or PostgreSQL
        raise NotImplementedError(dialect)
    stmt = (insert(DailyFollowUp).values(incident_id=incident_id, day=day, task_id=None, created_at=now)
            .on_conflict_do_nothing(index_elements=["incident_id", "day"]).returning(DailyFollowUp.id))
    return session.execute(stmt).scalar()


def create_daily_followups(session: Session, now: datetime | None = None) -> int:
    """Create today's follow-up report task (续报) of every confirmed or disposing incident whose plan
    has a daily step, once per incident and Asia/Shanghai calendar day; returns how many were created.

    Idempotent: a repeated run, a restart or a second scheduler process finds the day's row in
    ``daily_followup`` (unique per incident and day) and creates nothing more.
    """
    now = now or utcnow()
    day = local_day(now)
    done_today = select(DailyFollowUp.incident_id).where(DailyFollowUp.day == day)
    incidents = session.scalars(
        select(Incident).where(Incident.state.in_(FOLLOWUP_STATES), Incident.id.not_in(done_today))
        .order_by(Incident.id)
    ).all()
    created = 0
    for incident in incidents:
        step = _daily_step(session, incident)
        if step is None:
            continue
        claimed = claim_followup_day(session, incident.id, day, now)
        if claimed is None:
            continue
        task = new_task(session, incident, step, now + timedelta(minutes=step.deadline_minutes), now,
                        title=f"{step.title}（{day.month}月{day.day}日）")
        session.execute(update(DailyFollowUp).where(DailyFollowUp.id == claimed).values(task_id=task.id))
        record(session, SYSTEM, "incident", incident.id, "followup_created", task_id=task.id, day=day.isoformat(),
               due_at=task.due_at.isoformat(), assignee=task.assignee)
        incident.updated_at = now
        created += 1
    return created


def check_deadlines(session: Session, now: datetime | None = None, notify_settings: NotifySettings | None = None) -> int:
    """Create the day's follow-up report tasks (续报); flag open tasks past their deadline once each,
    record the escalation (督办) in the store and queue its notifications; fire pending escalations
    whose time has come. Returns the number of tasks newly flagged overdue."""
    now = now or utcnow()
    cfg = notify_settings or NotifySettings()
    create_daily_followups(session, now)
    overdue = session.scalars(
        select(Task)
        .join(Incident, Task.incident_id == Incident.id)
        .where(
            Task.status == TaskStatus.open.value,
            Task.due_at < now,
            Task.overdue_flagged_at.is_(None),
            Incident.state.in_(OPEN_STATES),
        )
    ).all()
    for task in overdue:
        task.overdue_flagged_at = now
        on_breach = ""
        if task.plan_step_id is not None:
            step = session.get(PlanStep, task.plan_step_id)
            on_breach = step.on_breach if step else ""
        record(session, SYSTEM, "task", task.id, "overdue", incident_id=task.incident_id, due_at=task.due_at.isoformat(),
               on_breach=on_breach)
        open_breach(session, task, now, cfg)
    fire_due_escalations(session, cfg, now)
    return len(overdue)
