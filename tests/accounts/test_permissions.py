"""Role × action over the real functions: each role is refused exactly what the matrix refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.operations import accounts, monitoring
from rcops.plans.schema import load_rules_file
from rcops.plans.store_io import install_rules
from rcops.store.access import MATRIX, PermissionDenied, allowed, require
from rcops.store.models import AuditEvent, Incident, Task, utcnow
from rcops.triage import merge, report, roster, service
from tests.dashboard.conftest import TITLE_II, populate

ROLES = ["admin", "operator", "institution", "auditor"]


def _resolved(s: Session, incident_id: int) -> int:
    return service.resolve(s, service.start_disposal(s, service.confirm_tier(s, incident_id, "admin").id,
                                                     "admin").id, "admin").id


def _submitted_report(s: Session, incident_id: int) -> int:
    return report.submit_report(s, report.draft_report(s, _resolved(s, incident_id), "admin").id, "admin").id


def _task(s: Session, incident_id: int) -> int:
    return s.scalars(select(Task.id).where(Task.incident_id == incident_id).order_by(Task.position)).first()


#: action → a call of the real function doing it, as ``actor``
CALLS: dict[str, Callable[[Session, int, str], Any]] = {
    "incident.confirm": lambda s, i, a: service.confirm_tier(s, i, a),
    "incident.dismiss": lambda s, i, a: service.dismiss(s, i, a, reason="误报"),
    "incident.dispose": lambda s, i, a: service.start_disposal(s, service.confirm_tier(s, i, "admin").id, a),
    "incident.resolve": lambda s, i, a: service.resolve(
        s, service.start_disposal(s, service.confirm_tier(s, i, "admin").id, "admin").id, a),
    "incident.reopen": lambda s, i, a: service.reopen(s, service.dismiss(s, i, "admin", reason="误报").id, a,
                                                      reason="有新进展"),
    "task.complete": lambda s, i, a: service.complete_task(s, _task(s, i), a),
    "task.assign": lambda s, i, a: service.assign_task(s, _task(s, i), a, "张三"),
    "task.comment": lambda s, i, a: merge.comment_task(s, _task(s, i), a, "已电话联系涉事网点"),
    "plans.edit": lambda s, i, a: install_rules(s, load_rules_file(), a),
    "users.manage": lambda s, i, a: accounts.create_user(s, "newcomer", "operator", "long-enough-pw", actor=a),
    "report.write": lambda s, i, a: report.draft_report(s, _resolved(s, i), a),
    "report.archive": lambda s, i, a: report.archive_report(s, _submitted_report(s, i), a),
    "roster.manage": lambda s, i, a: roster.add_shift(s, a, "李四", "duty_officer", utcnow(),
                                                      utcnow() + timedelta(hours=8)),
    "monitoring.edit": lambda s, i, a: monitoring.set_source_enabled(s, "county_news", False, a),
}


#: a user of each role among the seeded accounts (tests.dashboard.conftest.ACCOUNTS)
USER_OF = {"admin": "admin", "operator": "李四", "institution": "bank", "auditor": "auditor"}


@pytest.fixture
def world(session_factory):  # type: ignore[no-untyped-def]
    seeded = populate(session_factory)
    with session_factory() as s:
        assert {u.username: u.role for u in accounts.list_users(s) if u.username in USER_OF.values()} == {
            v: k for k, v in USER_OF.items()}
    return session_factory, seeded.ids[TITLE_II]


@pytest.mark.parametrize("action", sorted(CALLS))
@pytest.mark.parametrize("role", ROLES)
def test_role_action_matrix_over_the_real_functions(world, role: str, action: str) -> None:
    factory, incident_id = world
    user = USER_OF[role]
    with factory() as s:
        before = s.scalar(select(Incident.row_version).where(Incident.id == incident_id))
        audit_before = len(s.scalars(select(AuditEvent.id)).all())
    if allowed(role, action):
        with factory.begin() as s:
            CALLS[action](s, incident_id, user)
        with factory() as s:
            assert any(e.actor == user for e in s.scalars(select(AuditEvent)))
    else:
        with pytest.raises(PermissionDenied, match="无权"), factory.begin() as s:
            CALLS[action](s, incident_id, user)
        with factory() as s:  # nothing was written
            assert s.scalar(select(Incident.row_version).where(Incident.id == incident_id)) == before
            assert len(s.scalars(select(AuditEvent.id)).all()) == audit_before


def test_the_matrix_is_what_the_roles_mean() -> None:
    assert MATRIX["admin"] >= MATRIX["operator"] | MATRIX["auditor"] | MATRIX["institution"]
    assert not {a for a in MATRIX["auditor"] if a.endswith((".confirm", ".dismiss", ".edit", ".manage", ".complete"))}
    assert "plans.edit" not in MATRIX["operator"] and "plans.edit" not in MATRIX["institution"]
    # the operator writes and submits the analysis report; only the administrator archives it
    assert allowed("operator", "report.write") and not allowed("operator", "report.archive")
    assert allowed("admin", "report.archive") and not allowed("institution", "report.write")
    assert not allowed("institution", "mentions.export") and allowed("auditor", "audit.view")
    # read-only roles write nothing, not even a comment on a task
    assert [r for r in ROLES if allowed(r, "task.comment")] == ["admin", "operator"]
    # only the administrator keeps the duty roster
    assert [r for r in ROLES if allowed(r, "roster.manage")] == ["admin"]


def test_unknown_or_deactivated_names_and_system_judgements_are_refused(world) -> None:
    factory, incident_id = world
    with pytest.raises(PermissionDenied, match="不存在或已停用"), factory.begin() as s:
        service.confirm_tier(s, incident_id, "stranger")
    with pytest.raises(PermissionDenied, match="系统不能代为执行"), factory.begin() as s:
        service.confirm_tier(s, incident_id, "system")
    with factory.begin() as s:
        install_rules(s, load_rules_file(), "system")  # `rcops init` runs as the system
        accounts.set_active(s, "李四", False, actor="admin")
    with pytest.raises(PermissionDenied, match="不存在或已停用"), factory.begin() as s:
        require(s, "李四", "task.complete")


def test_without_any_account_only_the_system_acts_and_a_name_is_told_to_create_an_administrator(
        session_factory) -> None:
    with pytest.raises(PermissionDenied, match="还没有任何账户.*rcops users create 用户名 --role admin"), \
            session_factory.begin() as s:
        install_rules(s, load_rules_file(), "admin")
    with session_factory.begin() as s:  # `rcops init` and `rcops users create` run as the system
        install_rules(s, load_rules_file(), "system")
        accounts.create_user(s, "boss", "admin", "long-enough-pw")
    with session_factory.begin() as s:
        require(s, "boss", "plans.edit")
    with pytest.raises(PermissionDenied, match="不存在或已停用"), session_factory.begin() as s:
        require(s, "admin", "plans.edit")
