"""The 报告, 统计, 账户 pages, the incident's comment / merge / split, and the administrators'
source and scheme editing, through AppTest on a seeded database (each backend).

Outcomes are checked in the database, and role checks both on screen and in the functions.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from rcops.operations import accounts, desk, monitoring
from rcops.store.access import PermissionDenied
from rcops.store.models import AuditEvent, Incident, Mention, MonitoringScheme, Source, Task, utcnow
from rcops.store.models_accounts import UserSession
from rcops.store.models_disposal import AnalysisReport
from rcops.triage import service

from .conftest import TITLE_I, TITLE_II, TITLE_III
from .test_console import open_incident, start, text_blob

EVIL = "<script>alert('x')</script><b>粗</b>"


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def keys(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key}


def html_bodies(at: AppTest) -> list[str]:
    return [e.proto.body for e in at.get("html")]


def audit_actions(session_factory, actor: str) -> list[str]:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.actor == actor).order_by(AuditEvent.id)))


def resolve(session_factory, incident_id: int) -> None:  # type: ignore[no-untyped-def]
    with session_factory.begin() as s:
        service.confirm_tier(s, incident_id, "张三")
        service.start_disposal(s, incident_id, "张三")
        service.resolve(s, incident_id, "张三", note="已发布声明")


# --------------------------------------------------------------------------- 报告


def test_report_drafted_edited_submitted_by_the_operator_archived_by_the_administrator_and_sealed(
        console, session_factory):
    incident_id = console.ids[TITLE_II]
    with session_factory.begin() as s:  # crawled text with markup in it
        s.get(Incident, incident_id).title = EVIL + TITLE_II
        s.scalars(select(Mention).where(Mention.incident_id == incident_id)).one().title = EVIL + TITLE_II
    resolve(session_factory, incident_id)

    at = goto(start("张三"), "reports")
    assert [t.value for t in at.title] == ["分析报告"]
    at.selectbox(key="rep_new_incident").set_value(incident_id)
    at.button(key="rep_draft").click().run()
    assert not at.exception, at.exception
    assert any("已为事件" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        rep = s.scalars(select(AnalysisReport)).one()
        rid = rep.id
        assert (rep.status, rep.created_by, rep.incident_id) == ("draft", "张三", incident_id)
    assert [t.label for t in at.tabs][:3] == ["草稿（1）", "已提交（0）", "已归档（0）"]
    assert at.dataframe[0].value["撰写人"].tolist() == ["张三"]
    # the report is shown as HTML, the crawled markup in it escaped (never live)
    body = "\n".join(html_bodies(at))
    assert "&lt;script&gt;" in body and "<script" not in body and "<b>粗" not in body
    assert "一、事件概要" in body
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["下载 PDF", "下载 Word", "下载 HTML"]
    assert f"rep_archive_{rid}" not in keys(at)  # operators never archive

    edited = at.text_area(key=f"rep_html_{rid}").value.replace("（请处置人员填写", "（值班组：研判及时。")
    at.text_area(key=f"rep_html_{rid}").input(edited)
    at.button(key=f"rep_save_{rid}").click().run()
    assert any("报告草稿已保存" in x.value for x in at.success), [e.value for e in at.error]
    at.button(key=f"rep_submit_{rid}").click().run()
    assert not at.exception, at.exception
    assert any("已提交管理方" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        rep = s.get(AnalysisReport, rid)
        assert (rep.status, rep.submitted_by) == ("submitted", "张三") and "值班组：研判及时" in rep.content_html
        assert s.get(Incident, incident_id).state == "reported"
    assert f"rep_archive_{rid}" not in keys(at) and f"rep_html_{rid}" not in {t.key for t in at.text_area}
    assert any("等待管理方归档" in i.value for i in at.info)
    assert {"edited", "report_submitted"} <= set(audit_actions(session_factory, "张三"))

    at = goto(start("admin"), "reports")
    assert at.selectbox(key="report_picker").value == rid
    at.button(key=f"rep_archive_{rid}").click().run()
    assert not at.exception, at.exception
    assert any("已归档封存" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        rep = s.get(AnalysisReport, rid)
        assert (rep.status, rep.archived_by) == ("archived", "admin") and len(rep.sha256) == 64
        seal = rep.sha256
        assert s.get(Incident, incident_id).state == "archived"
    assert [c.value for c in at.code] == [seal]
    assert any("防篡改校验通过" in x.value for x in at.success)
    assert [t.label for t in at.tabs][:3] == ["草稿（0）", "已提交（0）", "已归档（1）"]

    with session_factory.begin() as s:  # someone changes the stored copy behind the system's back
        s.get(AnalysisReport, rid).content_html += "<p>篡改</p>"
    at.run()
    assert any("防篡改校验未通过" in e.value and seal in e.value for e in at.error)
    assert any("已停止导出" in c.value for c in at.caption)  # no download passes the altered copy off as sealed


def test_institution_users_and_auditors_read_and_download_reports_but_cannot_write_or_archive(
        console, session_factory):
    from rcops.triage import report

    incident_id = console.ids[TITLE_III]
    resolve(session_factory, incident_id)
    with session_factory.begin() as s:
        draft = report.draft_report(s, incident_id, "张三").id
    for user in ("bank", "auditor"):
        at = goto(start(user), "reports")
        assert "rep_draft" not in keys(at) and f"rep_save_{draft}" not in keys(at)
        assert f"rep_html_{draft}" not in {t.key for t in at.text_area}
        assert len(at.get("download_button")) == 3
    with session_factory.begin() as s:
        report.submit_report(s, draft, "张三")
    at = goto(start("auditor"), "reports")
    assert f"rep_archive_{draft}" not in keys(at)
    for user in ("bank", "auditor", "张三"):  # and the function refuses them too
        with pytest.raises(PermissionDenied, match="无权归档分析报告"), session_factory.begin() as s:
            report.archive_report(s, draft, user)


# --------------------------------------------------------------------------- 事件详情: comment, merge, split


def test_comment_merge_and_split_from_the_incident_page(console, session_factory):
    target, other = console.ids[TITLE_I], console.ids[TITLE_III]
    with session_factory() as s:
        task_id = s.scalars(select(Task.id).where(Task.incident_id == target).order_by(Task.position)).first()
    at = open_incident(target)
    at.text_area(key=f"task_comment_{task_id}").input("已联系平台法务")
    at.button(key=f"task_comment_btn_{task_id}").click().run()
    assert not at.exception, at.exception
    assert any("已批注任务" in x.value for x in at.success), [e.value for e in at.error] + [x.value for x in at.success]
    assert any("张三] 已联系平台法务" in c.value.replace("\\", "") for c in at.caption)

    at.selectbox(key="act_merge_source").set_value(other)
    at.button(key="act_merge").click().run()
    assert [e.value for e in at.error] == ["合并事件须填写理由"]
    at.selectbox(key="act_merge_source").set_value(other)
    at.text_input(key="act_merge_reason").input("同一平台泄露事件")
    at.button(key="act_merge").click().run()
    assert not at.exception, at.exception
    assert any(f"事件 #{other} 已并入本事件" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        assert s.get(Incident, other).state == "dismissed"
        assert s.get(Incident, target).mention_count == 2
        moved = s.scalars(select(Mention.id).where(Mention.title == TITLE_III)).one()
    assert [t.label for t in at.tabs][0] == "信息（2）"

    at.multiselect(key="act_split_mentions").set_value([moved])
    at.text_input(key="act_split_reason").input("催收投诉与泄露无关")
    at.button(key="act_split").click().run()
    assert not at.exception, at.exception
    with session_factory() as s:
        new = s.scalars(select(Mention.incident_id).where(Mention.id == moved)).one()
        assert new not in (target, other) and s.get(Incident, new).state == "detected"
        assert s.get(Incident, target).mention_count == 1
    assert any(f"拆分为新事件 #{new}" in x.value for x in at.success)
    audit = at.dataframe[-1].value
    assert {"批注", "并入另一事件", "拆出新事件"} <= set(audit["动作"])
    assert {"commented", "merged", "split"} <= set(audit_actions(session_factory, "张三"))


def test_institution_user_has_no_merge_or_split(console):
    at = open_incident(console.ids[TITLE_II], user="bank")
    assert not keys(at) & {"act_merge", "act_split"}
    assert any("不能合并或拆分" in i.value for i in at.info)


# --------------------------------------------------------------------------- 统计


def test_statistics_are_counted_in_the_database(console, session_factory):
    with session_factory.begin() as s:  # a hand-entered mention, not graded, no source row
        s.add(Mention(source_id=None, source_name="群众来信", origin="manual", url="http://127.0.0.1/m",
                      canonical_url="http://127.0.0.1/m", content_hash="m1", title="来信", text="反映贷款问题",
                      crawled_at=utcnow() - timedelta(minutes=30), category="贷款不公/拒贷"))
    with session_factory() as s:
        since = utcnow() - timedelta(days=1)
        per_hour = desk.mentions_per_hour(s, since)
        assert sum(n for _, _, n in per_hour) == 5 and all(h.minute == 0 and h.tzinfo for h, _, _ in per_hour)
        assert sum(n for _, _, n in desk.mentions_per_hour(s, since, incident_states=["detected"])) == 3
        assert desk.mentions_by_source(s, since) == [("县融媒体", 4), ("群众来信", 1)]
        assert desk.mentions_by_tier(s, since)[None] == 2
        assert sum(desk.mentions_by_category(s, since).values()) == 5
    at = goto(start("bank"), "stats")
    assert [t.value for t in at.title] == ["统计"]
    assert {m.label: m.value for m in at.metric}["信息条数"] == "5"
    assert len(at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")) == 4


# --------------------------------------------------------------------------- 账户


def test_users_change_their_own_password_with_the_old_one(console, session_factory):
    with session_factory.begin() as s:  # 张三 is also signed in elsewhere
        other = accounts.sign_in(s, "张三", "zhangsan-pass").token
    at = goto(start("张三"), "account")

    def change(old: str, new: str, again: str | None = None) -> None:
        at.text_input(key="pw_old").input(old)
        at.text_input(key="pw_new").input(new)
        at.text_input(key="pw_again").input(again if again is not None else new)
        at.button(key="pw_submit").click().run()
        assert not at.exception, at.exception

    change("wrong-password", "zhangsan-new-1")
    assert [e.value for e in at.error] == ["原密码不正确，密码未修改（再错 4 次账户将被锁定 15 分钟）"]
    assert "password_change_failed" in audit_actions(session_factory, "张三")  # stored although refused
    change("zhangsan-pass", "zhangsan-new-1", "zhangsan-new-2")
    assert [e.value for e in at.error] == ["两次输入的新密码不一致，密码未修改。"]
    change("zhangsan-pass", "short")
    assert [e.value for e in at.error] == ["密码至少 8 个字符"]
    change("zhangsan-pass", "zhangsan-new-1")
    assert any("密码已修改" in x.value for x in at.success), [e.value for e in at.error]
    assert all(t.value == "" for t in at.text_input)
    with session_factory.begin() as s:
        assert accounts.sign_in(s, "张三", "zhangsan-new-1").ok
        assert not accounts.sign_in(s, "张三", "zhangsan-pass").ok
        ended = {r.token_hash: r.ended_at for r in s.scalars(select(UserSession))}
    assert ended[accounts._token_hash(other)] is not None  # the other sign-in ended, this one goes on
    assert "password_changed" in audit_actions(session_factory, "张三")
    at = goto(at, "alerts")
    assert [t.value for t in at.title] == ["预警台"]


# --------------------------------------------------------------------------- 信息源 and 监测方案


def test_administrator_edits_enables_and_adds_sources_others_only_read(console, session_factory):
    at = goto(start("admin"), "sources")
    at.button(key="src_toggle_county_news").click().run()
    assert any("已停用" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        assert s.scalars(select(Source.enabled).where(Source.key == "county_news")).one() is False
    text = at.text_area(key="src_yaml_county_news").value
    assert "key: county_news" in text
    at.text_area(key="src_yaml_county_news").input(text.replace("kind: rss", "kind: telegram"))
    at.button(key="src_save").click().run()
    assert at.error and "kind" in at.error[0].value and "未知的类型" in at.error[0].value
    at.text_area(key="src_yaml_county_news").input(text.replace("name: 县融媒体", "name: 县融媒体中心"))
    at.button(key="src_save").click().run()
    assert any("更新 county_news" in x.value for x in at.success), [e.value for e in at.error]
    new = at.text_area(key="src_new_yaml").value
    at.text_area(key="src_new_yaml").input(new.replace("https://example.org/feed.xml", "http://localhost:8000/x"))
    at.button(key="src_new").click().run()
    assert at.error and "指向本机" in at.error[0].value
    at.text_area(key="src_new_yaml").input(new)
    at.button(key="src_new").click().run()
    assert any("新增 city_daily" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        names = {r.key: (r.name, r.enabled) for r in s.scalars(select(Source))}
    assert names == {"county_news": ("县融媒体中心", False), "city_daily": ("市日报", True)}
    assert {"update", "create"} <= set(audit_actions(session_factory, "admin"))

    at = goto(start("张三"), "sources")
    assert not any(k.startswith(("src_toggle_", "src_save", "src_new")) for k in keys(at))
    with pytest.raises(PermissionDenied, match="无权新增、修改、启用或停用信息源"), session_factory.begin() as s:
        monitoring.set_source_enabled(s, "county_news", True, "张三")


def test_administrator_writes_a_scheme_with_a_checked_expression_and_a_preview(console, session_factory):
    at = goto(start("admin"), "schemes")
    at.text_input(key="sch_name").input("信息泄露监测")
    at.text_input(key="sch_subject_words").input("农户、信用户")
    at.text_area(key="sch_expression").input("(泄露 OR 诈骗 AND")
    at.button(key="sch_save").click().run()
    assert not at.exception, at.exception
    assert at.error and "第 " in at.error[0].value and "个字符处" in at.error[0].value
    assert at.code[-1].value.splitlines()[0] == "(泄露 OR 诈骗 AND" and at.code[-1].value.endswith("^")
    with session_factory() as s:
        assert s.scalars(select(MonitoringScheme)).all() == []
    at.text_area(key="sch_expression").input("泄露 AND (农户 OR 信用户)")
    at.button(key="sch_preview_btn").click().run()
    assert any("匹配 **2** 条" in m.value for m in at.markdown), [m.value for m in at.markdown]
    assert set(at.dataframe[-1].value["标题"]) == {TITLE_I, TITLE_II}
    at.button(key="sch_save").click().run()
    assert any("已保存" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        row = s.scalars(select(MonitoringScheme)).one()
        assert (row.name, row.subject_words, row.expression, row.enabled) == (
            "信息泄露监测", ["农户", "信用户"], "泄露 AND (农户 OR 信用户)", True)
    at.button(key="sch_toggle_信息泄露监测").click().run()
    with session_factory() as s:
        assert s.scalars(select(MonitoringScheme.enabled)).one() is False
    assert {"create", "update"} <= set(audit_actions(session_factory, "admin"))

    at = goto(start("auditor"), "schemes")
    assert "sch_save" not in keys(at) and not any(k.startswith("sch_toggle_") for k in keys(at))
    assert any("只读" in c.value for c in at.caption)
    with pytest.raises(PermissionDenied), session_factory.begin() as s:
        monitoring.save_scheme(s, {"name": "x", "subject_words": ["农户"]}, "auditor")

