"""What operators do to incidents and tasks, and what they read.

Every function takes the caller's session, checks the life cycle, changes the
state, and writes the audit event in the same transaction. The console, the
CLI and the scheduler all call these functions.

Optimistic locking: pass ``expected_version`` (the ``row_version`` the user
saw); if someone else changed the incident meanwhile, ConcurrentUpdate is
raised and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from rcops.classifier.taxonomy import CATEGORIES
from rcops.classifier.tiering import rank_of
from rcops.plans.store_io import tier_defs
from rcops.store.access import require
from rcops.store.audit import record
from rcops.store.models import (
    AuditEvent,
    CrawlRun,
    GradeLabel,
    Incident,
    IncidentState,
    Mention,
    Source,
    Task,
    TaskStatus,
    utcnow,
)
from rcops.store.models_disposal import TaskChecklistItem

from .engine import ProcessResult, apply_plan, regrade
from .escalation import cancel_pending
from .exceptions import ConcurrentUpdate, IncidentNotFound, InvalidAction, TaskNotFound
from .lifecycle import OPEN_STATES, TASK_STATUS_LABELS, transition


def get_incident(session: Session, incident_id: int, expected_version: int | None = None) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise IncidentNotFound(f"找不到编号为 {incident_id} 的舆情事件")
    if expected_version is not None and incident.row_version != expected_version:
        raise ConcurrentUpdate(
            f"事件 {incident_id} 已被他人修改（版本 {expected_version} → {incident.row_version}），请刷新后重试"
        )
    return incident


def _move(session: Session, incident: Incident, target: str, actor: str, **detail: Any) -> None:
    before = incident.state
    incident.state = transition(incident.state, target)
    record(session, actor, "incident", incident.id, f"state:{target}", from_state=before, to_state=target, **detail)


def confirm_tier(
    session: Session,
    incident_id: int,
    actor: str,
    tier_code: str | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Incident:
    """研判: confirm the suggested tier, or correct it to ``tier_code``; the label teaches the classifier."""
    require(session, actor, "incident.confirm")
    incident = get_incident(session, incident_id, expected_version)
    tiers = tier_defs(session)
    codes = {t.code for t in tiers}
    target = tier_code or incident.tier_code
    if target not in codes:
        raise InvalidAction(f"未知的等级 {target!r}，可选：{'、'.join(sorted(codes))}")
    corrected = target != incident.tier_code
    if corrected and not reason.strip():
        raise InvalidAction("修改等级时须填写理由")
    if incident.state == IncidentState.detected.value:
        _move(session, incident, IncidentState.confirmed.value, actor)
    elif incident.state not in OPEN_STATES:
        raise InvalidAction(f"事件已{incident.state}，不能再研判等级")
    old = incident.tier_code
    if corrected and rank_of(target, tiers) > rank_of(old, tiers):
        # lowering a tier needs an administrator's sign-off: until then the higher tier and its plan stand
        incident.pending_tier_code, incident.pending_tier_reason, incident.pending_tier_by = target, reason, actor
        record(session, actor, "incident", incident.id, "downgrade_requested", from_tier=old, to_tier=target,
               reason=reason)
        cancel_pending(session, incident.id, actor, "事件已研判确认")
        session.flush()
        return incident
    session.add(GradeLabel(incident_id=incident.id, suggested_tier_code=incident.suggested_tier_code,
                           tier_code=target, kind="correct" if corrected else "confirm", actor=actor, reason=reason))
    incident.tier_confirmed_by = actor
    if corrected:
        incident.tier_code = target
        record(session, actor, "incident", incident.id, "tier_corrected", from_tier=old, to_tier=target, reason=reason)
        if rank_of(target, tiers) < rank_of(old, tiers):
            apply_plan(session, incident, target, actor)
        else:
            record(session, actor, "incident", incident.id, "tier_lowered", note="降级：原预案下的任务保留，不删除")
    else:
        record(session, actor, "incident", incident.id, "tier_confirmed", tier=target)
    cancel_pending(session, incident.id, actor, "事件已研判确认")
    session.flush()
    return incident


def correct_category(
    session: Session,
    incident_id: int,
    actor: str,
    category: str,
    reason: str = "",
    expected_version: int | None = None,
) -> Incident:
    """Set the incident's risk category (类别研判); the label teaches the category model.

    Later mentions no longer change the category. When the tier criteria name the new
    category (``categories_any``), the incident is re-graded: its tier can only rise."""
    require(session, actor, "incident.confirm")
    incident = get_incident(session, incident_id, expected_version)
    if category not in CATEGORIES:
        raise InvalidAction(f"未知的风险类别 {category!r}，可选：{'、'.join(CATEGORIES)}")
    old = incident.category
    incident.category, incident.category_corrected_by = category, actor
    session.add(GradeLabel(incident_id=incident.id, suggested_tier_code=incident.suggested_tier_code,
                           tier_code=incident.tier_code, kind="category", category=category, actor=actor,
                           reason=reason))
    record(session, actor, "incident", incident.id, "category_corrected", from_category=old, to_category=category,
           reason=reason)
    session.flush()
    if incident.state in OPEN_STATES:
        regrade(session, incident, tier_defs(session), utcnow(), ProcessResult())
        session.flush()
    return incident


def decide_downgrade(session: Session, incident_id: int, actor: str, approve: bool, reason: str = "",
                     expected_version: int | None = None) -> Incident:
    """An administrator approves or rejects the lower tier an operator asked for (降级审批)."""
    require(session, actor, "plans.edit")  # administrators only (and never the system on its own)
    if actor == "system":
        raise InvalidAction("降级须由管理方人员审批，系统不能代为审批")
    incident = get_incident(session, incident_id, expected_version)
    target = incident.pending_tier_code
    if not target:
        raise InvalidAction(f"事件 {incident_id} 没有待审批的降级申请")
    if incident.pending_tier_by == actor:
        raise InvalidAction("降级申请人不能自己审批，请由另一位管理方人员审批")
    old = incident.tier_code
    asked = incident.pending_tier_reason or ""
    if approve:
        incident.tier_code = target
        incident.tier_confirmed_by = actor
        session.add(GradeLabel(incident_id=incident.id, suggested_tier_code=incident.suggested_tier_code,
                               tier_code=target, kind="correct", actor=incident.pending_tier_by or actor,
                               reason=asked))
        record(session, actor, "incident", incident.id, "tier_corrected", from_tier=old, to_tier=target,
               reason=f"{asked}（{incident.pending_tier_by} 申请，{actor} 审批同意{('：' + reason) if reason else ''}）")
        record(session, actor, "incident", incident.id, "tier_lowered", note="降级：原预案下的任务保留，不删除")
    else:
        record(session, actor, "incident", incident.id, "downgrade_rejected", from_tier=old, to_tier=target,
               reason=reason, requested_by=incident.pending_tier_by)
    incident.pending_tier_code = incident.pending_tier_reason = incident.pending_tier_by = None
    session.flush()
    return incident


def start_disposal(session: Session, incident_id: int, actor: str, expected_version: int | None = None) -> Incident:
    require(session, actor, "incident.dispose")
    incident = get_incident(session, incident_id, expected_version)
    _move(session, incident, IncidentState.disposing.value, actor)
    cancel_pending(session, incident.id, actor, "事件已进入处置")
    session.flush()
    return incident


def resolve(session: Session, incident_id: int, actor: str, note: str = "",
            expected_version: int | None = None) -> Incident:
    require(session, actor, "incident.resolve")
    incident = get_incident(session, incident_id, expected_version)
    _move(session, incident, IncidentState.resolved.value, actor, note=note)
    cancel_pending(session, incident.id, actor, "事件已处置完毕")
    session.flush()
    return incident


#: how merge_incidents begins the dismissal reason of an incident it folded into another
MERGED_PREFIX = "并入事件 #"


def merged_into(incident: Incident) -> str | None:
    """The text 并入事件 #N when the incident was merged into incident N (its mentions live there), else None."""
    reason = incident.dismissed_reason or ""
    if incident.state == IncidentState.dismissed.value and reason.startswith(MERGED_PREFIX):
        return reason.split("：")[0]
    return None


def reopen(session: Session, incident_id: int, actor: str, reason: str, expected_version: int | None = None) -> Incident:
    require(session, actor, "incident.reopen")
    incident = get_incident(session, incident_id, expected_version)
    if not reason.strip():
        raise InvalidAction("重新打开事件须填写理由")
    merged = merged_into(incident)
    if merged:
        raise InvalidAction(f"事件 {incident.id} 已{merged}，其信息都在该事件中，不能重新打开；请在该事件上继续处置或拆分")
    target = IncidentState.detected.value if incident.state == IncidentState.dismissed.value else IncidentState.disposing.value
    _move(session, incident, target, actor, reason=reason)
    for task in incident.tasks:
        if task.status == TaskStatus.cancelled.value:
            task.status = TaskStatus.open.value
            record(session, actor, "task", task.id, "reopened", incident_id=incident.id)
    session.flush()
    return incident


def dismiss(session: Session, incident_id: int, actor: str, reason: str, expected_version: int | None = None) -> Incident:
    """排除: not a real incident. Open tasks are cancelled (never deleted); the label teaches the classifier."""
    require(session, actor, "incident.dismiss")
    incident = get_incident(session, incident_id, expected_version)
    if not reason.strip():
        raise InvalidAction("排除事件须填写理由")
    _move(session, incident, IncidentState.dismissed.value, actor, reason=reason)
    incident.dismissed_reason = reason
    session.add(GradeLabel(incident_id=incident.id, suggested_tier_code=incident.suggested_tier_code, tier_code=None,
                           kind="dismiss", actor=actor, reason=reason))
    for task in incident.tasks:
        if task.status == TaskStatus.open.value:
            task.status = TaskStatus.cancelled.value
            record(session, actor, "task", task.id, "cancelled", incident_id=incident.id, reason="事件已排除")
    cancel_pending(session, incident.id, actor, "事件已排除")
    session.flush()
    return incident


def task_checklist(session: Session, task_id: int) -> list[TaskChecklistItem]:
    """The checklist items of a task, in order (position 1, 2, …)."""
    return list(session.scalars(
        select(TaskChecklistItem).where(TaskChecklistItem.task_id == task_id).order_by(TaskChecklistItem.position)
    ))


def tick_checklist_item(session: Session, actor: str, task_id: int, index: int, done: bool = True,
                        expected_version: int | None = None) -> TaskChecklistItem:
    """Tick (or, with ``done=False``, untick) item ``index`` (1-based, as shown) of a task's checklist.

    ``expected_version`` is the incident's ``row_version`` the user saw; a tick is a change of the
    incident, so it bumps that version as completing a task does.
    """
    require(session, actor, "task.complete")
    task = session.get(Task, task_id)
    if task is None:
        raise TaskNotFound(f"找不到编号为 {task_id} 的任务")
    incident = get_incident(session, task.incident_id, expected_version)
    if task.status != TaskStatus.open.value:
        raise InvalidAction(f"任务“{task.title}”已结束（{TASK_STATUS_LABELS.get(task.status, task.status)}），不能再勾选检查事项")
    if incident.state not in OPEN_STATES:
        raise InvalidAction("事件已结束处置，不能再勾选检查事项")
    items = task_checklist(session, task.id)
    if not items:
        raise InvalidAction(f"任务“{task.title}”没有检查清单")
    if isinstance(index, bool) or not 1 <= index <= len(items):
        raise InvalidAction(f"任务“{task.title}”的检查事项序号应为 1 到 {len(items)}，实际为 {index}")
    item = items[index - 1]
    if item.done == done:
        return item  # already as asked: nothing changes, nothing is recorded
    now = utcnow()
    item.done = done
    item.done_by, item.done_at = (actor, now) if done else (None, None)
    record(session, actor, "task", task.id, "checklist_ticked" if done else "checklist_unticked",
           incident_id=task.incident_id, index=index, item=item.text)
    incident.updated_at = now
    session.flush()
    return item


def complete_task(session: Session, task_id: int, actor: str, note: str = "", force: bool = False) -> Task:
    """Complete a task. A task with unticked checklist items is refused unless ``force`` with a ``note``
    saying why (recorded in the audit trail with the items skipped)."""
    require(session, actor, "task.complete")
    task = session.get(Task, task_id)
    if task is None:
        raise TaskNotFound(f"找不到编号为 {task_id} 的任务")
    if task.status != TaskStatus.open.value:
        raise InvalidAction(f"任务“{task.title}”状态为 {task.status}，不能再完成")
    incident = session.get(Incident, task.incident_id)
    assert incident is not None
    if incident.state not in OPEN_STATES:
        raise InvalidAction("事件已结束处置，不能再完成任务")
    unticked = [f"{i.position}. {i.text}" for i in task_checklist(session, task.id) if not i.done]
    if unticked and not force:
        raise InvalidAction(
            f"任务“{task.title}”还有 {len(unticked)} 项检查事项未勾选：{'；'.join(unticked)}。"
            f"请逐项勾选（rcops task tick {task.id} 序号）后再完成；确需跳过的，请强制完成并填写说明"
        )
    if unticked and not note.strip():
        raise InvalidAction(f"强制完成任务“{task.title}”须填写说明（为何跳过未勾选的 {len(unticked)} 项检查事项）")
    now = utcnow()
    task.status = TaskStatus.done.value
    task.completed_at = now
    task.completed_by = actor
    if note:
        task.note = (task.note + "\n" if task.note else "") + note
    extra: dict[str, Any] = {"forced": True, "unticked": unticked} if unticked else {}
    record(session, actor, "task", task.id, "completed", incident_id=task.incident_id, note=note,
           on_time=now <= task.due_at, **extra)
    cancel_pending(session, task.incident_id, actor, "任务已完成", task_id=task.id)
    # a task change is a change of the incident: bump its version so stale screens notice
    incident.updated_at = now
    session.flush()
    return task


def assign_task(session: Session, task_id: int, actor: str, assignee: str, note: str = "") -> Task:
    """Give a task to a named person (指派/改派); the previous owner is kept in the audit trail."""
    require(session, actor, "task.assign")
    task = session.get(Task, task_id)
    if task is None:
        raise TaskNotFound(f"找不到编号为 {task_id} 的任务")
    if not assignee.strip():
        raise InvalidAction("指派任务须填写负责人")
    if task.status != TaskStatus.open.value:
        raise InvalidAction(f"任务“{task.title}”已结束（{TASK_STATUS_LABELS.get(task.status, task.status)}），不能再指派")
    before = task.assignee
    task.assignee = assignee.strip()
    record(session, actor, "task", task.id, "assigned", incident_id=task.incident_id, from_assignee=before,
           to_assignee=task.assignee, note=note)
    incident = session.get(Incident, task.incident_id)
    assert incident is not None
    incident.updated_at = utcnow()
    session.flush()
    return task


# --------------------------------------------------------------------------- queries


def list_incidents(session: Session, states: list[str] | None = None, limit: int = 200) -> list[Incident]:
    """Incidents, gravest tier first, newest first within a tier."""
    tiers = {t.code: t.rank for t in tier_defs(session)}
    q = select(Incident).options(selectinload(Incident.tasks))
    if states:
        q = q.where(Incident.state.in_(states))
    rows = list(session.scalars(q.order_by(Incident.last_mention_at.desc()).limit(limit * 4)))
    rows.sort(key=lambda i: (tiers.get(i.tier_code, 99), -i.last_mention_at.timestamp()))
    return rows[:limit]


def incident_mentions(session: Session, incident_id: int) -> list[tuple[Mention, str]]:
    rows = session.execute(
        select(Mention, Source.name)
        .outerjoin(Source, Mention.source_id == Source.id)
        .where(Mention.incident_id == incident_id)
        .order_by(Mention.crawled_at, Mention.id)
    ).all()
    # a crawled mention is named by its source; a hand-entered one by the source typed in (人工录入 when none)
    return [(m, name or (f"{m.source_name}（人工录入）" if m.source_name else "人工录入")) for m, name in rows]


def incident_audit(session: Session, incident_id: int) -> list[AuditEvent]:
    task_ids = [str(t) for t in session.scalars(select(Task.id).where(Task.incident_id == incident_id))]
    q = select(AuditEvent).where(
        ((AuditEvent.entity_type == "incident") & (AuditEvent.entity_id == str(incident_id)))
        | ((AuditEvent.entity_type == "task") & (AuditEvent.entity_id.in_(task_ids)))
    )
    return list(session.scalars(q.order_by(AuditEvent.at, AuditEvent.id)))


@dataclass
class Status:
    sources: int
    mentions: int
    mentions_graded: int
    incidents_by_tier: dict[str, int]
    incidents_by_state: dict[str, int]
    tasks_by_status: dict[str, int]
    tasks_overdue: int
    last_runs: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "mentions": self.mentions,
            "mentions_graded": self.mentions_graded,
            "incidents": sum(self.incidents_by_state.values()),
            "incidents_by_tier": self.incidents_by_tier,
            "incidents_by_state": self.incidents_by_state,
            "tasks": sum(self.tasks_by_status.values()),
            "tasks_by_status": self.tasks_by_status,
            "tasks_overdue": self.tasks_overdue,
            "last_crawl_runs": self.last_runs,
        }


def status(session: Session) -> Status:
    """Counts for ``rcops status``: sources, mentions, incidents by tier and state, tasks, last run per source."""
    by_tier = dict(session.execute(select(Incident.tier_code, func.count()).group_by(Incident.tier_code)).all())
    by_state = dict(session.execute(select(Incident.state, func.count()).group_by(Incident.state)).all())
    by_task = dict(session.execute(select(Task.status, func.count()).group_by(Task.status)).all())
    overdue = session.scalar(
        select(func.count())
        .select_from(Task)
        .join(Incident, Task.incident_id == Incident.id)
        .where(Task.status == TaskStatus.open.value, Task.due_at < utcnow(), Incident.state.in_(OPEN_STATES))
    )
    # the last FINISHED run of each source is its result; a source with no finished run yet shows its running one
    finished = CrawlRun.status != "running"
    last_finished = select(func.max(CrawlRun.id)).where(finished).group_by(CrawlRun.source_id)
    never_finished = (
        select(func.max(CrawlRun.id))
        .group_by(CrawlRun.source_id)
        .having(func.sum(case((finished, 1), else_=0)) == 0)
    )
    last_ids = last_finished.union(never_finished)
    running = set(session.scalars(select(CrawlRun.source_id).where(CrawlRun.status == "running")))
    runs = session.execute(
        select(CrawlRun, Source.key, Source.name).join(Source, CrawlRun.source_id == Source.id)
        .where(CrawlRun.id.in_(last_ids)).order_by(Source.key)
    ).all()
    run_counts = dict(session.execute(select(CrawlRun.source_id, func.count()).group_by(CrawlRun.source_id)).all())
    last_runs = [
        {
            "source": key,
            "name": name,
            "run_id": r.id,
            "status": r.status,
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "items_seen": r.items_seen,
            "items_stored": r.items_stored,
            "items_duplicate": r.items_duplicate,
            "error": r.error,
            "runs_total": run_counts.get(r.source_id, 0),
            "crawling_now": r.source_id in running,
        }
        for r, key, name in runs
    ]
    return Status(
        sources=session.scalar(select(func.count()).select_from(Source)) or 0,
        mentions=session.scalar(select(func.count()).select_from(Mention)) or 0,
        mentions_graded=session.scalar(select(func.count()).select_from(Mention).where(Mention.graded_at.is_not(None))) or 0,
        incidents_by_tier={k: v for k, v in by_tier.items()},
        incidents_by_state={k: v for k, v in by_state.items()},
        tasks_by_status={k: v for k, v in by_task.items()},
        tasks_overdue=overdue or 0,
        last_runs=last_runs,
    )
