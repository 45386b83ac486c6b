"""The console driven through Streamlit's AppTest against a seeded database (each backend).

Actions are checked in the database, not only on screen.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from rcops.dashboard import common
from rcops.store.models import AuditEvent, GradeLabel, Incident, Task, utcnow
from rcops.store.models_accounts import UserSession
from rcops.triage import service

from .conftest import ACCOUNTS, TITLE_I, TITLE_II, TITLE_III, reset_console_caches

APP = str(Path(__file__).resolve().parents[2] / "rcops" / "dashboard" / "app.py")


def sign_in(at: AppTest, user: str, password: str | None = None) -> AppTest:
    at.text_input(key="login_username").input(user)
    at.text_input(key="login_password").input(password if password is not None else ACCOUNTS[user][1])
    at.button(key="login_submit").click().run()
    assert not at.exception, at.exception
    return at


def start(user: str = "张三") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    return sign_in(at, user)


def open_incident(incident_id: int, user: str = "张三") -> AppTest:
    at = start(user)
    at.session_state["incident_id"] = incident_id
    at.switch_page("views/incident.py").run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def text_blob(at: AppTest) -> str:
    return "\n".join(texts(at) + [e.value for e in at.error] + [s.value for s in at.success])


# --------------------------------------------------------------------------- 预警台


def test_alert_desk_lists_open_incidents_gravest_first_in_chinese(console):
    at = start()
    assert [t.value for t in at.title] == ["预警台"]
    shown = [m.value.strip("*").replace("\\", "") for m in at.markdown]
    order = [shown.index(t) for t in (TITLE_I, TITLE_II, TITLE_III)]
    assert order == sorted(order), shown
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert badges == [":red-badge[Ⅰ级 特别重大]", ":orange-badge[Ⅱ级 重大]", ":yellow-badge[Ⅲ级 较大]"]
    captions = "\n".join(c.value for c in at.caption)
    assert "待研判" in captions and "信息 1 条" in captions and "最高风险分 0.90" in captions
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Ⅰ级 特别重大"] == "1" and metrics["Ⅳ级 一般"] == "0" and metrics["在办事件"] == "3"
    assert int(metrics["超时任务"]) >= 1  # the Ⅲ incident was detected five hours ago
    assert "已超时" in text_blob(at)
    assert [b.key for b in at.button if b.key and b.key.startswith("view_")] == [
        f"view_{console.ids[t]}" for t in (TITLE_I, TITLE_II, TITLE_III)
    ]
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def test_view_button_opens_that_incident(console):
    at = start()
    at.button(key=f"view_{console.ids[TITLE_II]}").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["事件详情"]
    assert at.session_state["incident_id"] == console.ids[TITLE_II]
    assert at.selectbox(key="incident_picker").value == console.ids[TITLE_II]
    assert [s.value for s in at.subheader][0] == f":orange-badge[Ⅱ级 重大] {TITLE_II}"


# --------------------------------------------------------------------------- 事件详情


def test_incident_page_shows_mentions_as_plain_text_and_tasks_with_roles(console):
    at = open_incident(console.ids[TITLE_II])
    mentions = at.dataframe[0].value
    assert list(mentions["标题"]) == [TITLE_II] and list(mentions["来源"]) == ["县融媒体"]
    assert list(mentions["等级"]) == ["Ⅱ级 重大"]
    body = [t.value for t in at.text]
    assert any("<script>alert('x')</script>" in b for b in body)  # shown literally, never as HTML
    blob = text_blob(at)
    assert "状态：**待研判**" in blob and "定级依据：Ⅱ级 重大" in blob
    assert "责任角色：值班员" in blob and "责任角色：舆情分析员" in blob
    assert "剩余" in blob or "已超时" in blob
    assert [t.label for t in at.tabs][:2] == ["信息（1）", "任务（4/4 待办）"]  # the daily step comes once confirmed
    # detected: confirm, correct and dismiss; no disposal yet
    keys = {b.key for b in at.button}
    assert {"act_confirm", "act_correct", "act_dismiss"} <= keys and "act_start" not in keys


def test_page_defaults_to_the_top_incident(console):
    at = start()
    at.switch_page("views/incident.py").run()
    assert not at.exception
    assert at.selectbox(key="incident_picker").value == console.ids[TITLE_I]


def test_confirm_moves_the_incident_to_confirmed_in_the_database(console, session_factory):
    at = open_incident(console.ids[TITLE_II])
    at.button(key="act_confirm").click().run()
    assert not at.exception, at.exception
    assert any("已确认等级" in s.value for s in at.success)
    assert "状态：**已研判**" in text_blob(at)
    with session_factory() as s:
        inc = s.get(Incident, console.ids[TITLE_II])
        assert (inc.state, inc.tier_code, inc.tier_confirmed_by) == ("confirmed", "II", "张三")
        label = s.scalars(select(GradeLabel)).one()
        assert (label.kind, label.actor) == ("confirm", "张三")
    # confirmed: disposal can start now; the tier can still be corrected but not confirmed twice
    keys = {b.key for b in at.button}
    assert {"act_start", "act_correct", "act_dismiss"} <= keys and "act_confirm" not in keys


def test_correcting_the_tier_without_a_reason_is_refused_and_changes_nothing(console, session_factory):
    incident_id = console.ids[TITLE_II]
    at = open_incident(incident_id)
    with session_factory() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEvent))
    at.selectbox(key="act_correct_tier").set_value("I")
    at.button(key="act_correct").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["修改等级时须填写理由"]
    with session_factory() as s:
        inc = s.get(Incident, incident_id)
        assert (inc.state, inc.tier_code, inc.tier_confirmed_by) == ("detected", "II", None)
        assert s.scalars(select(GradeLabel)).all() == []
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == audit_before


def test_correcting_the_tier_with_a_reason_regrades_and_adds_the_graver_plan(console, session_factory):
    incident_id = console.ids[TITLE_II]
    at = open_incident(incident_id)
    at.selectbox(key="act_correct_tier").set_value("I")
    at.text_input(key="act_correct_reason").input("涉及征信数据，从严")
    at.button(key="act_correct").click().run()
    assert not at.exception, at.exception
    assert any("Ⅰ级 特别重大" in s.value for s in at.success)
    with session_factory() as s:
        inc = s.get(Incident, incident_id)
        assert (inc.state, inc.tier_code, inc.suggested_tier_code) == ("confirmed", "I", "II")
        assert any(t.title == "电话报告管理方分管负责人" for t in inc.tasks)
    assert at.text_input(key="act_correct_reason").value == ""


def test_completing_a_task_marks_it_done_in_the_database(console, session_factory):
    incident_id = console.ids[TITLE_II]
    with session_factory() as s:
        task_id = s.scalars(select(Task.id).where(Task.incident_id == incident_id).order_by(Task.position)).first()
    at = open_incident(incident_id)
    at.text_input(key=f"task_note_{task_id}").input("已电话报告")
    at.button(key=f"task_done_{task_id}").click().run()
    assert not at.exception, at.exception
    assert any("已完成" in s.value for s in at.success)
    with session_factory() as s:
        task = s.get(Task, task_id)
        assert (task.status, task.completed_by, task.note) == ("done", "张三", "已电话报告")
    keys = {b.key for b in at.button}
    assert f"task_done_{task_id}" not in keys


def test_a_screen_made_stale_by_another_user_is_refused(console, session_factory):
    incident_id = console.ids[TITLE_II]
    at = open_incident(incident_id)
    with session_factory.begin() as s:  # someone else confirms meanwhile
        service.confirm_tier(s, incident_id, "李四")
    at.text_input(key="act_dismiss_reason").input("误报")
    at.button(key="act_dismiss").click().run()
    assert not at.exception, at.exception
    assert any("已被他人修改" in e.value for e in at.error)
    with session_factory() as s:
        assert s.get(Incident, incident_id).state == "confirmed"
    assert "状态：**已研判**" in text_blob(at)  # the page now shows the fresh state


def test_dismiss_and_reopen_through_the_console(console, session_factory):
    incident_id = console.ids[TITLE_III]
    at = open_incident(incident_id)
    at.text_input(key="act_dismiss_reason").input("旧闻转载")
    at.button(key="act_dismiss").click().run()
    assert not at.exception, at.exception
    with session_factory() as s:
        inc = s.get(Incident, incident_id)
        assert inc.state == "dismissed" and {t.status for t in inc.tasks} == {"cancelled"}
    keys = {b.key for b in at.button}
    assert "act_reopen" in keys and "act_confirm" not in keys
    assert not any(k and k.startswith("task_done_") for k in keys)
    at.button(key="act_reopen").click().run()
    assert [e.value for e in at.error] == ["重新打开事件须填写理由"]
    at.text_input(key="act_reopen_reason").input("出现新的投诉")
    at.button(key="act_reopen").click().run()
    with session_factory() as s:
        assert s.get(Incident, incident_id).state == "detected"
    at.switch_page("views/incident.py").run()
    audit = at.dataframe[-1].value
    assert {"状态→已排除", "状态→待研判"} <= set(audit["动作"])
    assert "原状态：已排除；新状态：待研判；理由：出现新的投诉" in set(audit["详情"])
    assert any(d.startswith("等级：Ⅲ级 较大；首条信息：") and "依据：Ⅲ级 较大（规则组" in d for d in audit["详情"])


def test_disposal_runs_from_start_to_resolved(console, session_factory):
    incident_id = console.ids[TITLE_I]
    with session_factory.begin() as s:
        service.confirm_tier(s, incident_id, "张三")
    at = open_incident(incident_id)
    at.button(key="act_start").click().run()
    assert any("已开始处置" in s.value for s in at.success)
    keys = {b.key for b in at.button}
    assert "act_resolve" in keys and "act_start" not in keys and "act_dismiss" not in keys
    at.text_input(key="act_resolve_note").input("已发布声明，舆情平息")
    at.button(key="act_resolve").click().run()
    assert not at.exception, at.exception
    with session_factory() as s:
        assert s.get(Incident, incident_id).state == "resolved"
    assert "状态：**已处置**" in text_blob(at)
    assert "act_reopen" in {b.key for b in at.button}


def test_an_expired_sign_in_does_nothing_and_asks_to_sign_in_again(console, session_factory):
    at = open_incident(console.ids[TITLE_II])
    with session_factory.begin() as s:  # the session passes its idle timeout
        for row in s.scalars(select(UserSession)):
            row.expires_at = utcnow() - timedelta(seconds=1)
    at.button(key="act_confirm").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["登录"]
    assert any("登录已过期" in i.value for i in at.info)
    with session_factory() as s:
        assert s.get(Incident, console.ids[TITLE_II]).state == "detected"


# --------------------------------------------------------------------------- 运行状态


def test_status_page_shows_counts_and_the_last_crawl_per_source(console):
    at = start()
    at.switch_page("views/status.py").run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["运行状态"]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["信息源"], metrics["信息总数"], metrics["舆情事件"]) == ("1", "4", "3")
    runs = at.dataframe[-1].value
    assert list(runs["信息源"]) == ["县融媒体"] and list(runs["状态"]) == ["失败"]
    assert list(runs["错误"]) == ["连接超时：http://127.0.0.1/feed"]
    by_state = at.dataframe[0].value
    assert dict(zip(by_state["状态"], by_state["事件数"]))["待研判"] == 3


# --------------------------------------------------------------------------- no database


def test_missing_database_tells_the_operator_to_run_init(tmp_path, monkeypatch):
    db = tmp_path / "absent" / "rcops.db"
    monkeypatch.setenv("RCOPS_DATABASE_URL", f"sqlite:///{db.as_posix()}")
    reset_console_caches()
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        assert not at.exception, at.exception
        assert any("rcops init" in e.value for e in at.error)
        assert not db.exists()  # the console never creates or migrates the database
    finally:
        reset_console_caches()


def test_empty_schema_tells_the_operator_to_run_init(tmp_path, monkeypatch):
    db = tmp_path / "empty.db"
    db.touch()
    monkeypatch.setenv("RCOPS_DATABASE_URL", f"sqlite:///{db.as_posix()}")
    reset_console_caches()
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        assert not at.exception, at.exception
        assert any("rcops init" in e.value for e in at.error)
    finally:
        reset_console_caches()


# --------------------------------------------------------------------------- display helpers

NOW = datetime(2026, 12, 3, 13, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=35, seconds=20), "剩余 35 分钟"),
        (timedelta(hours=2, minutes=5), "剩余 2 小时 5 分钟"),
        (timedelta(days=3, hours=1), "剩余 3 天 1 小时"),
        (-timedelta(hours=2), "已超时 2 小时"),
        (-timedelta(seconds=20), "已超时 1 分钟"),
        (timedelta(seconds=50), "剩余不足 1 分钟"),
        (-timedelta(days=1, minutes=10), "已超时 1 天"),
    ],
)
def test_countdown_reads_as_operators_say_it(delta, text):
    assert common.countdown(NOW + delta, NOW) == text


def test_times_are_shown_in_shanghai_time(monkeypatch):
    monkeypatch.delenv("RCOPS_TIMEZONE", raising=False)
    common.get_settings.cache_clear()
    try:
        assert common.fmt_time(NOW) == "2026-12-03 21:05"
        assert common.fmt_time("2026-12-03T13:05:00+00:00") == "2026-12-03 21:05"
        assert common.fmt_time(None) == "—"
    finally:
        common.get_settings.cache_clear()


def test_untrusted_text_is_inert_in_markdown():
    assert common.md_escape("[点我](javascript:alert(1)) **粗** :red[x] $x$") == (
        r"\[点我\]\(javascript\:alert\(1\)\) \*\*粗\*\* \:red\[x\] \$x\$"
    )
