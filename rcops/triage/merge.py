"""Operators correct the grouping: merge incidents, split mentions off into a new incident,
and comment on tasks. Everything is audited on every incident involved; nothing is deleted.

A merged incident is closed as ``dismissed`` with the reason "并入事件 #N" (its open
tasks cancelled, never deleted); its mentions move to the target, whose metrics are
recomputed and which is re-graded upward if the merged story is graver.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.classifier.tiering import rank_of
from rcops.plans.store_io import tier_defs
from rcops.store.access import require
from rcops.store.audit import record
from rcops.store.models import Incident, IncidentState, Mention, Task, TaskStatus, utcnow

from . import grouping
from .engine import ProcessResult, apply_plan, regrade
from .escalation import cancel_pending
from .exceptions import InvalidAction, TaskNotFound
from .lifecycle import OPEN_STATES, transition
from .service import MERGED_PREFIX, get_incident, merged_into


def refresh_metrics(session: Session, incident: Incident) -> None:
    """Recompute an incident's counts from its mentions."""
    session.flush()
    ms = list(session.scalars(select(Mention).where(Mention.incident_id == incident.id)))
    incident.mention_count = len(ms)
    incident.max_risk_score = max((m.risk_score or 0.0 for m in ms), default=0.0)
    incident.total_reach = sum(m.reach for m in ms)
    if ms:
        incident.last_mention_at = max(m.crawled_at for m in ms)


def merge_incidents(session: Session, target_id: int, source_ids: list[int], actor: str, reason: str) -> Incident:
    """Fold ``source_ids`` into ``target_id``: mentions move, sources close as dismissed (并入)."""
    require(session, actor, "incident.dismiss")
    if not reason.strip():
        raise InvalidAction("合并事件须填写理由")
    target = get_incident(session, target_id)
    if target.state not in OPEN_STATES:
        raise InvalidAction(f"目标事件 {target_id} 已结束处置，不能再并入其他事件")
    sources = []
    for sid in dict.fromkeys(source_ids):
        if sid == target_id:
            raise InvalidAction("不能把事件并入它自己")
        src = get_incident(session, sid)
        merged = merged_into(src)
        if merged:
            raise InvalidAction(f"事件 {sid} 已{merged}，不能再次合并")
        transition(src.state, IncidentState.dismissed.value)  # raises a clear error for disposing/closed ones
        sources.append(src)
    if not sources:
        raise InvalidAction("请指定要并入的事件")
    tiers = tier_defs(session)
    for src in sources:
        moved = list(session.scalars(select(Mention.id).where(Mention.incident_id == src.id)))
        session.execute(Mention.__table__.update().where(Mention.incident_id == src.id).values(incident_id=target.id))
        before = src.state
        src.state = IncidentState.dismissed.value
        src.dismissed_reason = f"{MERGED_PREFIX}{target.id}：{reason}"
        for task in src.tasks:
            if task.status == TaskStatus.open.value:
                task.status = TaskStatus.cancelled.value
                record(session, actor, "task", task.id, "cancelled", incident_id=src.id, reason=f"事件并入 #{target.id}")
        cancel_pending(session, src.id, actor, f"事件并入 #{target.id}")
        record(session, actor, "incident", src.id, "state:dismissed", from_state=before, to_state="dismissed",
               reason=src.dismissed_reason)
        record(session, actor, "incident", src.id, "merged_into", target_id=target.id, mention_ids=moved, reason=reason)
        record(session, actor, "incident", target.id, "merged", source_id=src.id, mention_ids=moved,
               source_tier=src.tier_code, reason=reason)
        refresh_metrics(session, src)
        if rank_of(src.tier_code, tiers) < rank_of(target.tier_code, tiers):
            old = target.tier_code
            target.tier_code = src.tier_code
            record(session, actor, "incident", target.id, "regraded", from_tier=old, to_tier=src.tier_code,
                   explanation={"summary": f"并入事件 #{src.id}（{src.tier_code} 级），从高定级"})
            apply_plan(session, target, src.tier_code, actor)
    refresh_metrics(session, target)
    regrade(session, target, tiers, utcnow(), ProcessResult())
    session.flush()
    return target


def split_incident(session: Session, incident_id: int, mention_ids: list[int], actor: str, reason: str) -> Incident:
    """Move ``mention_ids`` out of the incident into a new incident (detected, graded from its mentions)."""
    require(session, actor, "incident.confirm")
    if not reason.strip():
        raise InvalidAction("拆分事件须填写理由")
    source = get_incident(session, incident_id)
    if source.state not in OPEN_STATES:
        raise InvalidAction(f"事件 {incident_id} 已结束处置，不能再拆分")
    ms = list(session.scalars(select(Mention).where(Mention.id.in_(mention_ids)).order_by(Mention.crawled_at, Mention.id)))
    found = {m.id for m in ms if m.incident_id == source.id}
    missing = sorted(set(mention_ids) - found)
    if missing:
        raise InvalidAction(f"信息 {'、'.join(map(str, missing))} 不属于事件 {incident_id}")
    remaining = session.scalar(select(Mention.id).where(Mention.incident_id == source.id, Mention.id.not_in(found)))
    if remaining is None:
        raise InvalidAction("不能把全部信息拆走；至少保留一条在原事件中")
    tiers = tier_defs(session)
    codes = [m.tier_code for m in ms if m.tier_code] or [source.tier_code]
    tier = min(codes, key=lambda c: rank_of(c, tiers))
    first = ms[0]
    new = Incident(title=first.title[:500] or first.text[:60], state=IncidentState.detected.value, tier_code=tier,
                   suggested_tier_code=tier, tier_explanation=first.grade_explanation or {},
                   detected_at=first.crawled_at, last_mention_at=first.crawled_at,
                   signature=grouping.normalize(first.title, first.text))
    session.add(new)
    session.flush()
    for m in ms:
        m.incident_id = new.id
    record(session, actor, "incident", new.id, "detected", tier=tier, first_mention_id=first.id,
           explanation=new.tier_explanation, split_from=source.id)
    record(session, actor, "incident", new.id, "split_from", source_id=source.id, mention_ids=sorted(found), reason=reason)
    record(session, actor, "incident", source.id, "split", new_incident_id=new.id, mention_ids=sorted(found), reason=reason)
    refresh_metrics(session, new)
    refresh_metrics(session, source)
    apply_plan(session, new, tier, actor)
    session.flush()
    return new


def comment_task(session: Session, task_id: int, actor: str, text: str) -> Task:
    """Add a comment to a task (kept in its notes, audited); allowed in any state, to those who dispose
    (read-only roles — auditors, institution users — may not write into a task)."""
    require(session, actor, "task.comment")
    task = session.get(Task, task_id)
    if task is None:
        raise TaskNotFound(f"找不到编号为 {task_id} 的任务")
    if not text.strip():
        raise InvalidAction("批注内容不能为空")
    from zoneinfo import ZoneInfo

    stamp = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M")
    task.note = (task.note + "\n" if task.note else "") + f"[{stamp} {actor}] {text.strip()}"
    record(session, actor, "task", task.id, "commented", incident_id=task.incident_id, text=text.strip())
    session.flush()
    return task
