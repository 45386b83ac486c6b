"""Found in testing: read-only roles (审计、金融机构用户) could write comments into a task's notes; now the
``task.comment`` action is for administrators and operators only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rcops.store.access import PermissionDenied
from rcops.store.models import Task
from rcops.triage.engine import process_pending
from rcops.triage.merge import comment_task

from .test_engine import STORY, WordScorer, add_mention, db  # noqa: F401
from .test_roster import seed_users


@pytest.mark.parametrize("user,role", [("aud", "auditor"), ("bank", "institution")])
def test_read_only_roles_cannot_comment_on_tasks(db, user, role):  # noqa: F811
    with db.begin() as s:
        seed_users(s, {user: role})
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        process_pending(s, WordScorer())
        task = s.scalars(select(Task)).first()
        with pytest.raises(PermissionDenied):
            comment_task(s, task.id, user, "我来改一下备注")
