"""Duty roster (值班表): administrators manage it; a new task's owner is whoever is on duty for its role."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from rcops.plans.schema import load_rules_file
from rcops.plans.store_io import install_rules
from rcops.store.access import PermissionDenied
from rcops.store.models import AuditEvent, Incident, Source, Task, utcnow
from rcops.store.models_accounts import User
from rcops.store.models_disposal import DutyShift
from rcops.triage import roster
from rcops.triage.engine import process_pending
from rcops.triage.exceptions import InvalidAction

from .test_engine import STORY, WordScorer, add_mention

BEIJING = timezone(timedelta(hours=8))
#: account name → role; every actor of these tests is a real account
USERS = {"admin": "admin", "op1": "operator", "王五": "operator", "赵六": "operator", "孙七": "operator",
         "bank": "institution"}


def seed_users(s, users: dict[str, str] = USERS) -> None:
    """Add the accounts that do not exist yet (the password does not matter here: nobody signs in)."""
    have = set(s.scalars(select(User.username)))
    s.add_all([User(username=name, role=role, password_hash="-") for name, role in users.items() if name not in have])
    s.flush()


@pytest.fixture
def world(session_factory):
    """Accounts, the default tiers and plans, one source."""
    with session_factory.begin() as s:
        seed_users(s)
        install_rules(s, load_rules_file(), "admin")
        s.add(Source(key="news", name="县融媒体", kind="rss", url="http://127.0.0.1/feed", media_level="municipal"))
    return session_factory


def test_new_tasks_go_to_the_user_on_duty_for_their_role(world):
    now = utcnow()
    with world.begin() as s:
        roster.add_shift(s, "admin", "王五", "duty_officer", now - timedelta(hours=1), now + timedelta(hours=7))
        roster.add_shift(s, "admin", "赵六", "analyst", now + timedelta(hours=2), now + timedelta(hours=10))  # later
        roster.add_shift(s, "admin", "孙七", "analyst", now - timedelta(days=1), now - timedelta(hours=12))  # over
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        process_pending(s, WordScorer())
    with world() as s:
        inc = s.scalars(select(Incident)).one()
        tasks = s.scalars(select(Task).where(Task.incident_id == inc.id).order_by(Task.position)).all()
        owners = {(t.role, t.assignee) for t in tasks}
        assert ("duty_officer", "王五") in owners
        assert {a for r, a in owners if r != "duty_officer"} == {None}  # nobody else on duty now: the role owns it
        assigned = s.scalars(select(AuditEvent).where(AuditEvent.action == "assigned")).all()
        assert [(e.actor, e.entity_id, e.detail["to_assignee"]) for e in assigned] == [
            ("system", str(tasks[0].id), "王五")]
        assert "值班表" in assigned[0].detail["note"]


def test_overlapping_shifts_the_later_start_wins_and_the_end_is_exclusive(world):
    t0 = datetime(2026, 12, 4, 8, 0, tzinfo=BEIJING)
    with world.begin() as s:
        roster.add_shift(s, "admin", "王五", "duty_officer", t0, t0 + timedelta(hours=12))
        roster.add_shift(s, "admin", "赵六", "duty_officer", t0 + timedelta(hours=11), t0 + timedelta(hours=24))
    with world() as s:
        assert roster.on_duty(s, "duty_officer", t0 - timedelta(minutes=1)) is None
        assert roster.on_duty(s, "duty_officer", t0) == "王五"
        assert roster.on_duty(s, "duty_officer", t0 + timedelta(hours=11, minutes=30)) == "赵六"  # handover
        assert roster.on_duty(s, "duty_officer", t0 + timedelta(hours=24)) is None
        assert roster.on_duty(s, "analyst", t0 + timedelta(hours=1)) is None
        shifts = roster.list_shifts(s, since=t0 + timedelta(hours=12))
        assert [sh.username for sh in shifts] == ["赵六"]
        assert shifts[0].starts_at == datetime(2026, 12, 4, 11, 0, tzinfo=timezone.utc)  # stored UTC


def test_only_administrators_manage_the_roster_and_bad_shifts_are_refused(world):
    t0 = datetime(2026, 12, 4, 8, 0, tzinfo=BEIJING)
    for actor in ("op1", "bank"):
        with pytest.raises(PermissionDenied, match="无权管理值班表"), world.begin() as s:
            roster.add_shift(s, actor, "王五", "duty_officer", t0, t0 + timedelta(hours=8))
    cases = [
        (("王五", "janitor", t0, t0 + timedelta(hours=8)), "未知角色 'janitor'"),
        (("王五", "duty_officer", t0, t0), "结束时间须晚于开始时间"),
        (("王五", "duty_officer", t0.replace(tzinfo=None), t0 + timedelta(hours=8)), "须带时区"),
        (("王五", "duty_officer", t0, t0 + timedelta(days=40)), "不能超过 31 天"),
        (("无名氏", "duty_officer", t0, t0 + timedelta(hours=8)), "用户“无名氏”不存在或已停用"),
        ((" ", "duty_officer", t0, t0 + timedelta(hours=8)), "值班人员不能为空"),
    ]
    for args, message in cases:
        with pytest.raises(InvalidAction, match=message), world.begin() as s:
            roster.add_shift(s, "admin", *args)
    with world.begin() as s:
        shift_id = roster.add_shift(s, "admin", "王五", "duty_officer", t0, t0 + timedelta(hours=8)).id
    with world.begin() as s:
        with pytest.raises(PermissionDenied):
            roster.remove_shift(s, "op1", shift_id)
    with world.begin() as s:
        roster.remove_shift(s, "admin", shift_id, reason="调班")
        with pytest.raises(InvalidAction, match="找不到编号"):
            roster.remove_shift(s, "admin", shift_id)
    with world() as s:
        assert not s.scalars(select(DutyShift)).all()
        trail = [(e.actor, e.action, e.detail.get("username")) for e in
                 s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "duty_shift").order_by(AuditEvent.id))]
        assert trail == [("admin", "created", "王五"), ("admin", "removed", "王五")]


@pytest.mark.sqlite_only
def test_roster_and_tick_commands(world, settings, monkeypatch):
    import json

    from typer.testing import CliRunner

    from rcops.pipeline.cli import app
    from rcops.store.settings import get_settings

    monkeypatch.setenv("RCOPS_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("RCOPS_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(app, ["roster", "add", "王五", "--role", "analyst", "--from", "2026-12-04 08:00",
                                "--to", "2026-12-04 20:00", "--actor", "admin"])
        assert r.exit_code == 0 and "已排班" in r.output, r.output
        r = runner.invoke(app, ["roster", "add", "王五", "--role", "analyst", "--from", "明天早上",
                                "--to", "2026-12-04 20:00", "--actor", "admin"])
        assert r.exit_code == 1 and "不是有效时间" in r.output
        r = runner.invoke(app, ["roster", "add", "王五", "--role", "analyst", "--from", "2026-12-04 08:00",
                                "--to", "2026-12-04 20:00", "--actor", "op1"])
        assert r.exit_code == 1 and "无权管理值班表" in r.output
        r = runner.invoke(app, ["roster", "--all", "--json"])
        rows = json.loads(r.output)
        assert [(x["username"], x["role"], x["starts_at"], x["ends_at"]) for x in rows] == [
            ("王五", "analyst", "2026-12-04 08:00:00", "2026-12-04 20:00:00")]
        with world.begin() as s:
            add_mention(s, 1, "村镇银行泄露客户信息", STORY)
            process_pending(s, WordScorer())
            task = s.scalars(select(Task).where(Task.title == "核实情况并拟定回应口径")).one()
            task_id, inc_id = task.id, task.incident_id
        r = runner.invoke(app, ["task", "tick", str(task_id), "2", "--actor", "op1", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["text"].startswith("截图留证") and json.loads(r.output)["ticked"] == 1
        shown = runner.invoke(app, ["incident", str(inc_id)]).output
        assert "[x] 2. 截图留证" in shown and "[ ] 1. 核实信息来源与首发时间" in shown
        r = runner.invoke(app, ["task", "tick", str(task_id), "9", "--actor", "op1"])
        assert r.exit_code == 1 and "序号应为 1 到 4" in r.output
        r = runner.invoke(app, ["incident", "complete", str(task_id), "--actor", "op1"])
        assert r.exit_code == 1 and "3 项检查事项未勾选" in r.output
        r = runner.invoke(app, ["incident", "complete", str(task_id), "--actor", "op1", "--force",
                                "--note", "涉事机构已书面说明，无需再截图"])
        assert r.exit_code == 0 and "已完成" in r.output, r.output
        d = json.loads(runner.invoke(app, ["incident", str(inc_id), "--json"]).output)
        t = next(t for t in d["tasks"] if t["id"] == task_id)
        assert t["status"] == "done" and [i["done"] for i in t["checklist"]] == [False, True, False, False]
    finally:
        get_settings.cache_clear()
