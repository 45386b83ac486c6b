"""Found in testing: the duty roster accepted accounts that cannot do the work they are put on duty for
(an auditor on duty got tasks it may not complete). Now refused when the shift is entered."""

from __future__ import annotations

import re

from datetime import timedelta

import pytest
from sqlalchemy import select

from rcops.store.models import Incident, Task, utcnow
from rcops.triage import roster
from rcops.triage.engine import process_pending
from rcops.triage.exceptions import InvalidAction

from .test_engine import STORY, WordScorer, add_mention
from .test_roster import seed_users, world  # noqa: F401


@pytest.mark.parametrize(("user", "role", "label"), [("aud", "auditor", "审计（只读）"), ("bank", "institution", "金融机构用户")])
def test_a_read_only_account_cannot_be_put_on_duty(world, user, role, label):  # noqa: F811
    now = utcnow()
    with world.begin() as s:
        seed_users(s, {user: role})
    with pytest.raises(InvalidAction, match=f"用户“{user}”的角色为{re.escape(label)}，不能完成处置任务，不能排入值班表"), \
            world.begin() as s:
        roster.add_shift(s, "admin", user, "duty_officer", now - timedelta(hours=1), now + timedelta(hours=8))
    with world.begin() as s:  # so the next task is not assigned to someone who may not complete it
        assert not roster.list_shifts(s)
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        process_pending(s, WordScorer())
    with world() as s:
        inc = s.scalars(select(Incident)).one()
        assert all(t.assignee != user for t in s.scalars(select(Task).where(Task.incident_id == inc.id)))
