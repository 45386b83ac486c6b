"""Sign-in, roles and the 信息检索 / 分级与预案 / 系统 pages, through AppTest on a seeded database."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from rcops.operations import search
from rcops.store.models import AuditEvent, Mention, ResponsePlan
from rcops.store.models_accounts import User

from .conftest import TITLE_II
from .test_console import APP, open_incident, sign_in, start



def test_wrong_password_then_lockout_are_told_in_chinese(console, session_factory):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert [t.value for t in at.title] == ["登录"]
    for n in range(1, 5):
        sign_in(at, "张三", "wrong-password")
        assert [e.value for e in at.error] == [f"用户名或密码错误（再错 {5 - n} 次账户将被锁定 15 分钟）"]
    sign_in(at, "张三", "wrong-password")
    assert "账户已锁定至" in at.error[0].value
    sign_in(at, "张三")  # the right password, but locked
    assert at.error[0].value.startswith("账户已锁定") and [t.value for t in at.title] == ["登录"]
    with session_factory() as s:
        assert s.scalars(select(User).where(User.username == "张三")).one().locked_until is not None


def test_sign_in_then_sign_out(console, session_factory):
    at = start("张三")
    assert [t.value for t in at.title] == ["预警台"]
    assert "演示" not in "".join(m.value for m in at.sidebar.markdown)
    assert any("张三" in m.value for m in at.sidebar.markdown)
    at.sidebar.button(key="sign_out").click().run()
    assert [t.value for t in at.title] == ["登录"] and any("已退出登录" in i.value for i in at.info)
    with session_factory() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user").order_by(AuditEvent.id))]
    assert actions[-2:] == ["login", "logout"]


def test_institution_user_reads_but_cannot_act_or_edit_plans(console, session_factory):
    at = open_incident(console.ids[TITLE_II], user="bank")
    keys = {b.key for b in at.button}
    assert not keys & {"act_confirm", "act_correct", "act_dismiss"}
    assert not any(k and k.startswith("task_done_") for k in keys)
    assert any("只能查看事件" in i.value for i in at.info)
    at.switch_page("views/rules.py").run()
    assert not at.exception, at.exception
    assert "rules_save" not in {b.key for b in at.button}
    assert any("只有管理方可以修改" in i.value for i in at.info)
    assert any("特别重大" in m.value for m in at.markdown)


def test_administrator_edits_rules_with_validation_and_a_new_version(console, session_factory):
    at = start("admin")
    at.switch_page("views/rules.py").run()
    assert not at.exception, at.exception
    text = at.text_area(key="rules_yaml").value
    assert "特别重大" in text
    at.text_area(key="rules_yaml").input(text.replace("deadline_minutes: 60", "deadline_minutes: -5", 1))
    at.button(key="rules_save").click().run()
    assert at.error and "分级与预案定义无效" in at.error[0].value
    with session_factory() as s:
        before = len(s.scalars(select(ResponsePlan)).all())
    at.text_area(key="rules_yaml").input(text.replace("deadline_minutes: 60", "deadline_minutes: 45", 1))
    at.button(key="rules_save").click().run()
    assert not at.exception, at.exception
    assert any("已保存为新版本" in s.value for s in at.success), [e.value for e in at.error]
    with session_factory() as s:
        plans = s.scalars(select(ResponsePlan)).all()
        assert len(plans) == before + 1
        assert [p.created_by for p in plans if p.version == 2] == ["admin"]


def test_search_filters_and_exports_neutralised_csv_and_excel(console, session_factory):
    with session_factory.begin() as s:
        m = s.scalars(select(Mention).where(Mention.title == TITLE_II)).one()
        m.title = "=HYPERLINK(\"http://evil\")" + m.title
    at = start("张三")
    at.switch_page("views/search.py").run()
    assert not at.exception, at.exception
    assert any("共 **4** 条" in m.value for m in at.markdown)
    at.text_input(key="q_words").input("泄露 银行")
    at.button(key="q_submit").click().run()
    assert any("共 **1** 条" in m.value for m in at.markdown)
    assert list(at.dataframe[0].value["等级"]) == ["Ⅱ级 重大"]
    at.text_input(key="q_words").input("")
    at.multiselect(key="q_tiers").set_value(["__none__"])
    at.button(key="q_submit").click().run()
    assert list(at.dataframe[0].value["标题"]) == ["县里举办信用村授牌仪式"]
    # the export functions the buttons call
    from zoneinfo import ZoneInfo

    with session_factory.begin() as s:
        data = search.export_mentions(s, search.MentionQuery(words="泄露 银行"), "张三", "csv", ZoneInfo("Asia/Shanghai"))
        book = search.export_mentions(s, search.MentionQuery(words="泄露 银行"), "张三", "xlsx",
                                      ZoneInfo("Asia/Shanghai"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["编号", "采集时间", "发布时间", "来源", "标题"]
    assert rows[1][4].startswith("'=HYPERLINK")
    ws = load_workbook(io.BytesIO(book)).active
    assert ws.cell(2, 5).value.startswith("'=HYPERLINK") and ws.cell(2, 5).data_type == "s"
    with session_factory() as s:
        assert [e.detail["format"] for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "exported"))] == [
            "csv", "xlsx"]


def test_institution_users_search_but_may_not_export(console, session_factory):
    at = start("bank")
    at.switch_page("views/search.py").run()
    assert not at.exception, at.exception
    assert any("共 **4** 条" in m.value for m in at.markdown)
    assert not at.get("download_button")
    import pytest
    from zoneinfo import ZoneInfo

    from rcops.store.access import PermissionDenied

    with pytest.raises(PermissionDenied), session_factory.begin() as s:
        search.export_mentions(s, search.MentionQuery(), "bank", "csv", ZoneInfo("Asia/Shanghai"))


def test_formula_cells_are_neutralised():
    assert [search.neutralise(v) for v in ["=1+1", "+86", "-x", "@SUM", "\tA", "正常", 5]] == [
        "'=1+1", "'+86", "'-x", "'@SUM", "'\tA", "正常", 5]


def test_system_page_creates_users_and_filters_the_audit_log(console, session_factory):
    at = start("admin")
    at.switch_page("views/system.py").run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs][:2] == ["用户与角色", "审计日志"]
    at.text_input(key="new_username").input("王五")
    at.text_input(key="new_password").input("wangwu-pass")
    at.selectbox(key="new_role").set_value("auditor")
    at.button(key="new_user_submit").click().run()
    assert not at.exception, at.exception
    assert any("已创建用户“王五”（审计（只读））" in s.value for s in at.success), [e.value for e in at.error]
    with session_factory() as s:
        assert s.scalars(select(User.role).where(User.username == "王五")).one() == "auditor"
    at.text_input(key="audit_actor").input("admin").run()
    audit = at.dataframe[-1].value
    assert set(audit["操作人"]) == {"admin"} and {"新建", "登录"} <= set(audit["动作"])


def test_auditor_sees_the_audit_log_only_and_operators_have_no_system_page(console):
    at = start("auditor")
    at.switch_page("views/system.py").run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs] == ["审计日志"]
    assert "new_user_submit" not in {b.key for b in at.button}
    at = start("张三")
    try:
        at.switch_page("views/system.py").run()
    except Exception:  # noqa: BLE001 - the page is not registered for operators
        return
    assert [t.value for t in at.title] != ["系统"]


def test_sources_page_shows_health_and_schemes_page_the_word_groups(console, session_factory):
    from rcops.store.models import MonitoringScheme

    with session_factory.begin() as s:
        s.add(MonitoringScheme(name="信用主体监测", subject_words=["农户", "信用村"], event_words=["逾期"]))
        s.add(MonitoringScheme(name="停用方案", subject_words=["不显示"], enabled=False))
    at = start("bank")
    at.switch_page("views/sources.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["信息源"]) == ["县融媒体"] and list(table["结果"]) == ["失败"]
    assert {m.label: m.value for m in at.metric}["信息源"] == "1"
    at.switch_page("views/schemes.py").run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["监测方案"]
    shown = [m.value for m in at.markdown]
    assert "**信用主体监测**" in shown and "主体词：农户、信用村" in shown and "事件词：逾期" in shown
    assert not any("不显示" in m for m in shown)


def test_a_downgrade_waits_for_an_administrator_who_approves_it_in_the_console(console, session_factory):
    from rcops.store.models import Incident

    from .conftest import TITLE_I

    incident_id = console.ids[TITLE_I]
    at = open_incident(incident_id, user="张三")
    at.selectbox(key="act_correct_tier").set_value("II")
    at.text_input(key="act_correct_reason").input("仅个别转载，影响有限")
    at.button(key="act_correct").click().run()
    assert not at.exception, at.exception
    assert any("待管理方审批" in w.value for w in at.warning)
    assert "act_downgrade_approve" not in {b.key for b in at.button}  # operators cannot decide
    with session_factory() as s:
        assert (s.get(Incident, incident_id).tier_code, s.get(Incident, incident_id).pending_tier_code) == ("I", "II")
    at = open_incident(incident_id, user="admin")
    at.button(key="act_downgrade_approve").click().run()
    assert not at.exception, at.exception
    assert any("已同意降级" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        inc = s.get(Incident, incident_id)
        assert (inc.tier_code, inc.pending_tier_code, inc.tier_confirmed_by) == ("II", None, "admin")


def test_operator_assigns_a_task_and_the_auditor_cannot(console, session_factory):
    from rcops.store.models import Task

    incident_id = console.ids[TITLE_II]
    with session_factory() as s:
        task_id = s.scalars(select(Task.id).where(Task.incident_id == incident_id).order_by(Task.position)).first()
    at = open_incident(incident_id, user="张三")
    at.selectbox(key=f"task_assignee_{task_id}").set_value("李四")
    at.button(key=f"task_assign_{task_id}").click().run()
    assert not at.exception, at.exception
    assert any("已指派给 李四" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        assert s.get(Task, task_id).assignee == "李四"
    at = open_incident(incident_id, user="auditor")
    assert f"task_assign_{task_id}" not in {b.key for b in at.button}
    assert not any(k and k.startswith("task_done_") for k in {b.key for b in at.button})
