"""Found in testing, now fixed: messages about finished tasks showed the raw English status (done / cancelled)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rcops.store.models import Incident, Task
from rcops.triage import service
from rcops.triage.engine import process_pending
from rcops.triage.exceptions import InvalidAction

from .test_engine import STORY, WordScorer, add_mention, db  # noqa: F401


def test_finished_task_messages_are_in_chinese(db):  # noqa: F811
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        process_pending(s, WordScorer())
        inc_id = s.scalars(select(Incident.id)).one()
        service.confirm_tier(s, inc_id, "op1")
        task = s.scalars(select(Task).where(Task.incident_id == inc_id).order_by(Task.position)).first()
        service.complete_task(s, task.id, "op1", note="已报告", force=True)
        task_id = task.id
    messages = []
    for act in (lambda s: service.tick_checklist_item(s, "op1", task_id, 1),
                lambda s: service.assign_task(s, task_id, "op1", "op2")):
        with pytest.raises(InvalidAction) as exc:
            with db.begin() as s:
                act(s)
        messages.append(str(exc.value))
    assert not any(re.search(r"\b(done|cancelled|open)\b", m) for m in messages), messages
    assert all("已结束（已完成）" in m for m in messages), messages
