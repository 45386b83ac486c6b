"""Task checklists on the console's incident page (tick items, completion gated, forced completion with a note)
and the duty roster on the system page (administrators only)."""

from __future__ import annotations

import pytest
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from rcops.store.models import AuditEvent, Incident, Task
from rcops.store.models_disposal import DutyShift
from rcops.triage import service

from .conftest import TITLE_II
from .test_console import open_incident, start


@pytest.mark.sqlite_only  # the console end to end once; tick_checklist_item and complete_task have PostgreSQL tests
def test_ticking_checklist_items_gates_completing_the_task(console, session_factory):
    incident_id = console.ids[TITLE_II]
    with session_factory() as s:
        task_id = s.scalars(select(Task.id).where(Task.incident_id == incident_id,
                                                  Task.title == "核实情况并拟定回应口径")).one()
    at = open_incident(incident_id)
    at.checkbox(key=f"task_check_{task_id}_1").check().run()
    assert not at.exception, at.exception
    assert any("已勾选检查事项“核实信息来源与首发时间”" in m.value for m in at.success)
    with session_factory() as s:
        assert [(i.done, i.done_by) for i in service.task_checklist(s, task_id)][:2] == [(True, "张三"), (False, None)]
    at.button(key=f"task_done_{task_id}").click().run()
    assert any("3 项检查事项未勾选" in e.value for e in at.error)
    with session_factory() as s:
        assert s.get(Task, task_id).status == "open"
    with session_factory.begin() as s:  # someone else changes the incident meanwhile
        service.tick_checklist_item(s, "李四", task_id, 2)
    at.checkbox(key=f"task_check_{task_id}_3").check().run()
    assert any("已被他人修改" in e.value for e in at.error)
    assert not at.checkbox(key=f"task_check_{task_id}_3").value  # the box shows what is stored
    at.text_input(key=f"task_note_{task_id}").input("机构已书面说明，口径经电话确认")
    at.checkbox(key=f"task_force_{task_id}").check()
    at.button(key=f"task_done_{task_id}").click().run()
    assert not at.exception, at.exception
    with session_factory() as s:
        assert s.get(Task, task_id).status == "done"
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "completed")).one()
        assert ev.detail["forced"] is True and len(ev.detail["unticked"]) == 2
        assert s.get(Incident, incident_id).state == "detected"


@pytest.mark.sqlite_only  # the console end to end once; the roster functions have PostgreSQL tests
def test_administrator_keeps_the_duty_roster_on_the_system_page(console, session_factory):
    at = start("admin")
    at.switch_page("views/system.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="roster_user").set_value("李四")
    at.selectbox(key="roster_role").set_value("duty_officer")
    at.date_input(key="roster_start_day").set_value(date(2030, 1, 6))
    at.time_input(key="roster_start_time").set_value(time(8, 0))
    at.date_input(key="roster_end_day").set_value(date(2030, 1, 6))
    at.time_input(key="roster_end_time").set_value(time(20, 0))
    at.button(key="roster_submit").click().run()
    assert not at.exception, at.exception
    assert any("已排班：李四" in m.value for m in at.success), [e.value for e in at.error]
    assert list(at.table[-1].value["值班人员"]) == ["李四"]
    with session_factory() as s:
        shift = s.scalars(select(DutyShift)).one()
        assert (shift.username, shift.role, shift.created_by) == ("李四", "duty_officer", "admin")
        assert shift.starts_at == datetime(2030, 1, 6, 0, 0, tzinfo=timezone.utc)  # 08:00 Beijing
        assert shift.ends_at - shift.starts_at == timedelta(hours=12)
    at.date_input(key="roster_end_day").set_value(date(2030, 1, 5))  # ends before it starts
    at.button(key="roster_submit").click().run()
    assert any("结束时间须晚于开始时间" in e.value for e in at.error)
    at.selectbox(key="roster_remove_id").set_value(shift.id)
    at.button(key="roster_remove").click().run()
    with session_factory() as s:
        assert not s.scalars(select(DutyShift)).all()
    auditor = start("auditor")  # sees the system page (audit log) but not the roster
    auditor.switch_page("views/system.py").run()
    assert not auditor.exception, auditor.exception
    assert [t.label for t in auditor.tabs] == ["审计日志"]
    assert not any(b.key == "roster_submit" for b in auditor.button)
