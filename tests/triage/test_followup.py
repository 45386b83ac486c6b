"""Task checklists (检查清单) and the daily follow-up report (续报) of tiers Ⅰ and Ⅱ."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rcops.store.db import make_engine, make_sessionmaker
from rcops.store.models import AuditEvent, Incident, Task
from rcops.store.models_disposal import DailyFollowUp
from rcops.triage import roster, service
from rcops.triage.engine import check_deadlines, claim_followup_day, create_daily_followups, process_pending
from rcops.triage.exceptions import ConcurrentUpdate, InvalidAction

from .test_engine import STORY, WordScorer, add_mention
from .test_roster import BEIJING, world  # noqa: F401  (fixture)

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=BEIJING)  # detection, 02:00 UTC


def incident(world, tier: str | None = None, n: int = 1, story: str = STORY) -> int:  # noqa: F811
    """A tier-II incident detected at T0 (confirmed, or corrected to ``tier``)."""
    with world.begin() as s:
        add_mention(s, n, "村镇银行泄露客户信息", story, when=T0 + timedelta(minutes=n))
        process_pending(s, WordScorer())
        inc_id = s.scalars(select(Incident.id).order_by(Incident.id.desc())).first()
        service.confirm_tier(s, inc_id, "op1", tier_code=tier, reason="核实后调整" if tier else "")
        return inc_id


def followups(s, inc_id: int) -> list[Task]:
    return list(s.scalars(select(Task).join(DailyFollowUp, DailyFollowUp.task_id == Task.id)
                          .where(DailyFollowUp.incident_id == inc_id).order_by(Task.id)))


# --------------------------------------------------------------------------- checklists


def test_checklist_is_copied_ticked_under_optimistic_locking_and_gates_completion(world):  # noqa: F811
    inc_id = incident(world)
    with world() as s:
        task = s.scalars(select(Task).where(Task.incident_id == inc_id, Task.title == "核实情况并拟定回应口径")).one()
        items = service.task_checklist(s, task.id)
        assert [i.text for i in items][:2] == ["核实信息来源与首发时间", "截图留证（原文、链接、转发评论数）"]
        assert len(items) == 4 and not any(i.done for i in items)
        first = s.scalars(select(Task).where(Task.incident_id == inc_id).order_by(Task.position)).first()
        assert service.task_checklist(s, first.id) == []  # the phone report has no checklist
        seen = s.get(Incident, inc_id).row_version
    with world.begin() as s:
        with pytest.raises(InvalidAction, match="4 项检查事项未勾选：1. 核实信息来源与首发时间"):
            service.complete_task(s, task.id, "op1")
        with pytest.raises(InvalidAction, match="没有检查清单"):
            service.tick_checklist_item(s, "op1", first.id, 1)
        with pytest.raises(InvalidAction, match="序号应为 1 到 4，实际为 5"):
            service.tick_checklist_item(s, "op1", task.id, 5)
        item = service.tick_checklist_item(s, "op1", task.id, 1, expected_version=seen)
        assert (item.done, item.done_by) == (True, "op1") and item.done_at is not None
    with pytest.raises(ConcurrentUpdate, match="已被他人修改"), world.begin() as s:
        service.tick_checklist_item(s, "王五", task.id, 2, expected_version=seen)  # a stale screen
    with world.begin() as s:
        assert [i.done for i in service.task_checklist(s, task.id)] == [True, False, False, False]  # nothing written
        version = s.get(Incident, inc_id).row_version
        assert version > seen
        for i in (2, 3, 4):
            service.tick_checklist_item(s, "王五", task.id, i)
        service.tick_checklist_item(s, "王五", task.id, 3, done=False)
        with pytest.raises(InvalidAction, match="1 项检查事项未勾选：3. 向涉事机构了解情况"):
            service.complete_task(s, task.id, "王五")
        service.tick_checklist_item(s, "王五", task.id, 3)
        service.complete_task(s, task.id, "王五", note="口径已审核")
        with pytest.raises(InvalidAction, match="已结束"):
            service.tick_checklist_item(s, "王五", task.id, 1, done=False)
    with world() as s:
        trail = [(e.action, e.detail.get("index")) for e in service.incident_audit(s, inc_id)
                 if e.entity_id == str(task.id)]
        assert trail == [("checklist_ticked", 1), ("checklist_ticked", 2), ("checklist_ticked", 3),
                         ("checklist_ticked", 4), ("checklist_unticked", 3), ("checklist_ticked", 3),
                         ("completed", None)]
        completed = s.scalars(select(AuditEvent).where(AuditEvent.action == "completed")).one()
        assert "forced" not in completed.detail


def test_forcing_completion_past_unticked_items_needs_a_note_and_is_audited(world):  # noqa: F811
    inc_id = incident(world)
    with world.begin() as s:
        task = s.scalars(select(Task).where(Task.incident_id == inc_id, Task.title == "对外回应或约谈涉事机构")).one()
        service.tick_checklist_item(s, "op1", task.id, 1)
        with pytest.raises(InvalidAction, match="须填写说明"):
            service.complete_task(s, task.id, "op1", force=True, note="  ")
        service.complete_task(s, task.id, "op1", force=True, note="约谈改为电话沟通，无书面记录")
    with world() as s:
        assert s.get(Task, task.id).status == "done"
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "completed")).one()
        assert ev.detail["forced"] is True and ev.detail["unticked"] == ["2. 约谈或回应情况记录存档"]


# --------------------------------------------------------------------------- daily follow-up reports


def test_one_followup_per_incident_per_beijing_day_however_often_the_check_runs(world, settings):  # noqa: F811
    inc_id = incident(world)
    day1_morning = T0 + timedelta(minutes=30)
    day1_last_minute = datetime(2026, 12, 3, 23, 59, tzinfo=BEIJING)  # 15:59 UTC
    day2_first_minute = datetime(2026, 12, 4, 0, 0, tzinfo=BEIJING)  # 16:00 UTC, still 3 December in UTC
    with world.begin() as s:
        roster.add_shift(s, "admin", "赵六", "analyst", day2_first_minute - timedelta(hours=1),
                         day2_first_minute + timedelta(hours=8))
    for now in (day1_morning, day1_morning, day1_last_minute):
        with world.begin() as s:
            check_deadlines(s, now=now.astimezone(timezone.utc))
    with world() as s:
        tasks = followups(s, inc_id)
        assert [t.title for t in tasks] == ["续报：报送当日处置进展（12月3日）"]
        assert tasks[0].role == "analyst" and tasks[0].assignee is None  # nobody on duty then
        assert tasks[0].due_at == day1_morning + timedelta(minutes=1080)  # 18 hours after it was created
        assert len(service.task_checklist(s, tasks[0].id)) == 3
        # the plan's own tasks never include the daily step
        assert not s.scalars(select(Task).where(Task.incident_id == inc_id, Task.title == "续报：报送当日处置进展")).all()
    # a restarted scheduler (a new engine and session) on the next Beijing day, run twice
    engine = make_engine(settings.db_url)
    try:
        for _ in range(2):
            with make_sessionmaker(engine).begin() as s:
                assert create_daily_followups(s, now=day2_first_minute.astimezone(timezone.utc)) in (0, 1)
    finally:
        engine.dispose()
    with world() as s:
        tasks = followups(s, inc_id)
        assert [t.title[-7:] for t in tasks] == ["（12月3日）", "（12月4日）"]
        assert tasks[1].assignee == "赵六"  # on duty for the role when the task was created
        days = [r.day.isoformat() for r in s.scalars(select(DailyFollowUp).order_by(DailyFollowUp.id))]
        assert days == ["2026-12-03", "2026-12-04"]
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "followup_created")).all()
        assert [(e.actor, e.detail["day"]) for e in events] == [("system", "2026-12-03"), ("system", "2026-12-04")]
    # the store itself refuses a second follow-up for a day
    with pytest.raises(IntegrityError), world.begin() as s:
        s.add(DailyFollowUp(incident_id=inc_id, day=day2_first_minute.date(), task_id=tasks[0].id))


def test_followups_stop_when_resolved_or_dismissed_and_only_tiers_with_a_daily_step_get_them(world):  # noqa: F811
    tier_i = incident(world, tier="I", n=1)
    other = "某农商银行客户经理被指套路贷，诱导农户签下高息合同，逾期后遭暴力催收，多名农户已向警方报案并立案。" * 2
    lowered = incident(world, n=2, story=other)
    with world.begin() as s:  # II lowered to III with an administrator's sign-off: the tier III plan has no daily step
        service.confirm_tier(s, lowered, "op1", tier_code="III", reason="经核实为个别纠纷")
        service.decide_downgrade(s, lowered, "admin", approve=True)
        assert s.get(Incident, lowered).tier_code == "III"
        service.start_disposal(s, tier_i, "op1")
    day = [datetime(2026, 12, d, 9, 0, tzinfo=BEIJING).astimezone(timezone.utc) for d in (3, 4, 5, 6)]
    with world.begin() as s:
        assert create_daily_followups(s, now=day[0]) == 1  # tier I only
        service.confirm_tier(s, tier_i, "op1", tier_code="I")  # re-confirmed the same day: still one
        assert create_daily_followups(s, now=day[0]) == 0
        assert create_daily_followups(s, now=day[1]) == 1
        service.resolve(s, tier_i, "op1", note="处置完毕")
        assert create_daily_followups(s, now=day[2]) == 0
        service.reopen(s, tier_i, "op1", reason="再次发酵")  # disposing again: follow-ups resume
        assert create_daily_followups(s, now=day[2]) == 1
        service.resolve(s, tier_i, "op1")
    with world() as s:
        assert [t.title[-7:] for t in followups(s, tier_i)] == ["（12月3日）", "（12月4日）", "（12月5日）"]
        assert followups(s, lowered) == []
    # a detected (not yet confirmed) tier-II incident and a dismissed one get none
    with world.begin() as s:
        add_mention(s, 3, "信用社员工泄露信息", "县信用联社一名员工涉嫌倒卖信用户身份证号码，致使农户遭遇诈骗。" * 2,
                    when=T0)
        process_pending(s, WordScorer())
        fresh = s.scalars(select(Incident.id).order_by(Incident.id.desc())).first()
        assert s.get(Incident, fresh).state == "detected"
        assert create_daily_followups(s, now=day[3]) == 0
        service.confirm_tier(s, fresh, "op1")
        service.dismiss(s, fresh, "op1", reason="旧闻")
        assert create_daily_followups(s, now=day[3]) == 0


def test_a_day_claimed_meanwhile_by_another_scheduler_process_is_skipped_without_error(world):  # noqa: F811
    inc_id = incident(world)
    now = datetime(2026, 12, 5, 9, 0, tzinfo=BEIJING).astimezone(timezone.utc)
    with world.begin() as other_process:
        assert claim_followup_day(other_process, inc_id, now.astimezone(BEIJING).date(), now) is not None
    with world.begin() as s:
        # this process read its candidates before the other committed: its claim finds the day taken
        assert claim_followup_day(s, inc_id, now.astimezone(BEIJING).date(), now) is None
        # no error was raised, so the transaction goes on (PostgreSQL would refuse every statement after one)
        assert create_daily_followups(s, now) == 0
        check_deadlines(s, now=now)
    with world() as s:
        rows = s.scalars(select(DailyFollowUp).where(DailyFollowUp.incident_id == inc_id)).all()
        assert [(r.day.isoformat(), r.task_id) for r in rows] == [("2026-12-05", None)]
