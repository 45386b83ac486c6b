"""Found in testing: the duty roster accepts accounts that cannot do the work they are put on duty for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rcops.store.access import PermissionDenied
from rcops.store.models import Incident, Task, utcnow
from rcops.triage import roster, service
from rcops.triage.engine import process_pending
from rcops.triage.exceptions import InvalidAction

from .test_engine import STORY, WordScorer, add_mention
from .test_roster import seed_users, world  # noqa: F401


@pytest.mark.xfail(strict=True, reason="值班表可把审计（只读）账户排为舆情分析员；新任务随后指派给无权完成任务的人，"
                                       "应在排班时拒绝")
def test_a_read_only_account_cannot_be_put_on_duty(world):  # noqa: F811
    now = utcnow()
    with world.begin() as s:
        seed_users(s, {"aud": "auditor"})
        # what happened: the shift is accepted ...
        try:
            roster.add_shift(s, "admin", "aud", "duty_officer", now - timedelta(hours=1), now + timedelta(hours=8))
        except InvalidAction:
            return  # expected: refused with a clear message
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        process_pending(s, WordScorer())
    with world.begin() as s:
        inc = s.scalars(select(Incident)).one()
        task = s.scalars(select(Task).where(Task.incident_id == inc.id, Task.role == "duty_officer")).first()
        assert task.assignee == "aud"  # ... and the task goes to the auditor,
        with pytest.raises(PermissionDenied):  # who may not complete it
            service.complete_task(s, task.id, "aud", note="已报告")
    raise AssertionError("审计账户被排入值班表，并被指派了它无权完成的任务")
