"""Operators merge and split incidents and comment on tasks; the audit trail keeps every step."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rcops.store.models import Incident, Mention, Task
from rcops.triage import service
from rcops.triage.engine import process_pending
from rcops.triage.exceptions import InvalidAction
from rcops.triage.merge import comment_task, merge_incidents, split_incident

from .test_engine import STORY, WordScorer, add_mention, db  # noqa: F401

OTHER = "有农户投诉说贷款逾期后被反复催收电话骚扰，影响生活，希望有关部门管一管。"


def two_incidents(db):  # noqa: F811
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        add_mention(s, 2, "农户投诉贷款逾期被催收", OTHER)
        process_pending(s, WordScorer())
        rows = s.scalars(select(Incident).order_by(Incident.id)).all()
        assert [i.tier_code for i in rows] == ["II", "III"]
        return rows[0].id, rows[1].id


def test_merge_moves_mentions_closes_the_source_and_keeps_the_trail(db):  # noqa: F811
    a, b = two_incidents(db)
    with db.begin() as s:
        with pytest.raises(InvalidAction, match="理由"):
            merge_incidents(s, b, [a], "op1", reason="")
        target = merge_incidents(s, b, [a], "op1", reason="同一家银行的同一事件")
        assert target.mention_count == 2 and target.tier_code == "II"  # graver tier wins
        assert any(t.title == "对外回应或约谈涉事机构" for t in target.tasks)
        src = s.get(Incident, a)
        assert src.state == "dismissed" and src.dismissed_reason.startswith(f"并入事件 #{b}")
        assert src.tasks and all(t.status == "cancelled" for t in src.tasks)  # kept, not deleted
    with db() as s:
        acts = [e.action for e in service.incident_audit(s, b)]
        assert "merged" in acts and "regraded" in acts
        assert "merged_into" in [e.action for e in service.incident_audit(s, a)]
    with db.begin() as s:  # merging it again says where it went, not "已排除 cannot become 已排除"
        with pytest.raises(InvalidAction, match=f"事件 {a} 已并入事件 #{b}，不能再次合并"):
            merge_incidents(s, b, [a], "op1", reason="再来一次")
    with db.begin() as s:  # reopening it would give an incident without mentions
        with pytest.raises(InvalidAction, match=f"事件 {a} 已并入事件 #{b}.*不能重新打开"):
            service.reopen(s, a, "op1", reason="看错了")
        assert s.get(Incident, a).state == "dismissed"


def test_split_moves_chosen_mentions_into_a_new_incident(db):  # noqa: F811
    a, b = two_incidents(db)
    with db.begin() as s:
        merge_incidents(s, b, [a], "op1", reason="看似相关")
    with db.begin() as s:
        leak = s.scalars(select(Mention).where(Mention.content_hash == "h1")).one()
        with pytest.raises(InvalidAction, match="至少保留一条"):
            split_incident(s, b, [m.id for m in s.scalars(select(Mention))], "op1", reason="全拆")
        new = split_incident(s, b, [leak.id], "op1", reason="其实是两件事")
        assert new.state == "detected" and new.tier_code == "II" and new.mention_count == 1 and new.tasks
        assert s.get(Incident, b).mention_count == 1
    with db() as s:
        assert [e.action for e in service.incident_audit(s, new.id)][:2] == ["detected", "split_from"]
        assert "split" in [e.action for e in service.incident_audit(s, b)]


def test_task_comments_are_kept_and_audited(db):  # noqa: F811
    a, _ = two_incidents(db)
    with db.begin() as s:
        task = s.scalars(select(Task).where(Task.incident_id == a).order_by(Task.position)).first()
        comment_task(s, task.id, "op1", "已联系涉事银行")
        service.assign_task(s, task.id, "lead", "张三")
        service.assign_task(s, task.id, "lead", "李四", note="张三休假")
        with pytest.raises(InvalidAction, match="不能为空"):
            comment_task(s, task.id, "op1", " ")
    with db() as s:
        task = s.get(Task, task.id)
        assert "已联系涉事银行" in task.note and task.assignee == "李四"
        acts = [(e.action, e.detail.get("to_assignee")) for e in service.incident_audit(s, a) if e.entity_type == "task"]
        assert acts == [("commented", None), ("assigned", "张三"), ("assigned", "李四")]
