"""Analysis report: drafted from the incident's data, submitted, archived and sealed, corrected, exported."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from rcops.store.models import AuditEvent, Incident, Task, utcnow
from rcops.store.models_disposal import AnalysisReport, ReportAttachment
from rcops.triage import report as rp
from rcops.triage import service
from rcops.triage.engine import process_pending
from rcops.triage.exceptions import IllegalTransition, InvalidAction

from .test_engine import STORY, WordScorer, add_mention, db  # noqa: F401
from .test_roster import world  # noqa: F401  (fixture: accounts, default rules, one source)


def resolved_incident(db):  # noqa: F811
    with db.begin() as s:
        t0 = utcnow() - timedelta(hours=6)
        add_mention(s, 1, "村镇银行泄露客户信息", STORY, reach=100, when=t0)
        process_pending(s, WordScorer())
        add_mention(s, 2, "转发：村镇银行泄露客户信息", "转发 " + STORY, reach=50, when=t0 + timedelta(hours=2))
        add_mention(s, 3, "再转：村镇银行泄露客户信息", "再转 " + STORY, reach=20, when=t0 + timedelta(hours=2, minutes=5))
        process_pending(s, WordScorer())
        inc_id = s.scalars(select(Incident.id)).one()
    with db.begin() as s:
        service.confirm_tier(s, inc_id, "op1", tier_code="I", reason="涉及征信数据，从严")
        service.start_disposal(s, inc_id, "op1")
        tasks = s.scalars(select(Task).where(Task.incident_id == inc_id).order_by(Task.position)).all()
        service.complete_task(s, tasks[0].id, "op1", note="已电话报告分管负责人")
        service.resolve(s, inc_id, "op1", note="银行已致歉并完成整改")
    return inc_id


def test_report_drafted_submitted_archived_sealed_and_exported(db, tmp_path):  # noqa: F811
    inc_id = resolved_incident(db)
    with db.begin() as s:
        rep = rp.draft_report(s, inc_id, "op1")
        rid = rep.id
        text = rp.plain_text(rep)
        for needle in ("事件概要", "县融媒体", "首发来源", "II → I 级", "涉及征信数据，从严", "已电话报告分管负责人",
                       "银行已致歉并完成整改", "经验与改进", "按时"):
            assert needle in text, needle
        assert rep.attachments[0].name == "volume.png" and rep.attachments[0].data[:4] == b"\x89PNG"
        rp.edit_report(s, rid, "op1", rep.content_html.replace("（请处置人员填写", "研判及时。（"))
        rp.submit_report(s, rid, "op1")
        assert s.get(Incident, inc_id).state == "reported"
    with db.begin() as s:
        rep = rp.archive_report(s, rid, "admin")
        assert rep.status == "archived" and len(rep.sha256) == 64
        assert s.get(Incident, inc_id).state == "archived"
        with pytest.raises(rp.ReportError, match="只读"):
            rp.edit_report(s, rid, "op1", "<p>改</p>")
    with db() as s:
        assert rp.verify_report(s, rid).ok
        html = rp.export_report(s, rid, "html").decode()
        assert "data:image/png;base64," in html and "研判及时" in html
        pdf = rp.export_report(s, rid, "pdf")
        docx_bytes = rp.export_report(s, rid, "docx")
    assert pdf[:5] == b"%PDF-"
    from docx import Document

    doc = Document(io.BytesIO(docx_bytes))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "事件概要" in body and "研判及时" in body and doc.tables and doc.inline_shapes
    (tmp_path / "r.pdf").write_bytes(pdf)
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
        assert "舆情分析报告" in out and "事件概要" in out


def test_tampering_with_the_stored_copy_is_detected(db):  # noqa: F811
    inc_id = resolved_incident(db)
    with db.begin() as s:
        rid = rp.draft_report(s, inc_id, "op1").id
        rp.submit_report(s, rid, "op1")
        rp.archive_report(s, rid, "admin")
    with db.begin() as s:  # someone edits the database directly
        s.execute(update(AnalysisReport).where(AnalysisReport.id == rid)
                  .values(content_html=AnalysisReport.content_html + "<p>补一句</p>"))
    with db() as s:
        v = rp.verify_report(s, rid)
        assert not v.ok and "已被篡改" in v.message
    with db.begin() as s:
        s.execute(update(AnalysisReport).where(AnalysisReport.id == rid)
                  .values(content_html=s.get(AnalysisReport, rid).content_html.replace("<p>补一句</p>", "")))
        assert rp.verify_report(s, rid).ok
        s.execute(update(ReportAttachment).where(ReportAttachment.report_id == rid).values(data=b"\x89PNG fake"))
    with db() as s:
        assert not rp.verify_report(s, rid).ok


def test_a_correction_supersedes_the_archived_version(db):  # noqa: F811
    inc_id = resolved_incident(db)
    with db.begin() as s:
        rid = rp.draft_report(s, inc_id, "op1").id
        rp.submit_report(s, rid, "op1")
        rp.archive_report(s, rid, "admin")
        new = rp.correct_report(s, rid, "op1")
        rp.edit_report(s, new.id, "op1", new.content_html.replace("事件概要", "事件概要（更正）"))
        rp.submit_report(s, new.id, "op1")
        rp.archive_report(s, new.id, "admin")
    with db() as s:
        reps = rp.incident_reports(s, inc_id)
        assert [(r.version, r.status) for r in reps] == [(1, "superseded"), (2, "archived")]
        assert reps[1].supersedes_id == reps[0].id and all(rp.verify_report(s, r.id).ok for r in reps)
        assert s.get(Incident, inc_id).state == "archived"


def test_missing_or_broken_template_gives_a_clear_error(db, tmp_path, monkeypatch):  # noqa: F811
    inc_id = resolved_incident(db)
    broken = tmp_path / "broken.html.j2"
    broken.write_text("<h1>{{ title }</h1>{% for x in %}", encoding="utf-8")
    unknown = tmp_path / "unknown.html.j2"
    unknown.write_text("<h1>{{ no_such_field.deeper }}</h1>", encoding="utf-8")
    with db.begin() as s:
        with pytest.raises(rp.ReportError, match="找不到分析报告模板"):
            rp.draft_report(s, inc_id, "op1", template_path=tmp_path / "none.j2")
        with pytest.raises(rp.ReportError, match="语法错误"):
            rp.draft_report(s, inc_id, "op1", template_path=broken)
        with pytest.raises(rp.ReportError, match="不存在的数据项"):
            rp.draft_report(s, inc_id, "op1", template_path=unknown)
    with db.begin() as s:  # the administrator's template configured by RCOPS_REPORT_TEMPLATE
        monkeypatch.setenv("RCOPS_REPORT_TEMPLATE", str(tmp_path / "configured-but-missing.j2"))
        with pytest.raises(rp.ReportError, match="configured-but-missing"):
            rp.draft_report(s, inc_id, "op1")
        monkeypatch.delenv("RCOPS_REPORT_TEMPLATE")
    custom = tmp_path / "custom.html.j2"
    custom.write_text("<h1>自定义：{{ title }}</h1><p>{{ summary }}</p>", encoding="utf-8")
    with db.begin() as s:
        rep = rp.draft_report(s, inc_id, "op1", template_path=custom)
        assert rep.content_html.startswith("<h1>自定义：")


def test_report_needs_a_resolved_incident_and_archive_needs_submission(db):  # noqa: F811
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        process_pending(s, WordScorer())
        inc_id = s.scalars(select(Incident.id)).one()
        with pytest.raises(InvalidAction, match="处置完毕"):
            rp.draft_report(s, inc_id, "op1")
    inc_id = inc_id
    with db.begin() as s:
        service.confirm_tier(s, inc_id, "op1")
        service.start_disposal(s, inc_id, "op1")
        service.resolve(s, inc_id, "op1")
        rid = rp.draft_report(s, inc_id, "op1").id
        with pytest.raises(rp.ReportError, match="已提交"):
            rp.archive_report(s, rid, "admin")


def test_reopened_incident_keeps_consistent_state_and_history(db):  # noqa: F811
    inc_id = resolved_incident(db)
    with db.begin() as s:
        with pytest.raises(InvalidAction):
            service.reopen(s, inc_id, "op1", reason=" ")
        service.reopen(s, inc_id, "op1", reason="当事人再次发帖")
        inc = s.get(Incident, inc_id)
        assert inc.state == "disposing"
        done = [t for t in inc.tasks if t.status == "done"]
        assert done and done[0].note == "已电话报告分管负责人"  # closing and reopening keep tasks and notes
        service.resolve(s, inc_id, "op1", note="再次处置完毕")
    with db() as s:
        actions = [e.action for e in service.incident_audit(s, inc_id) if e.action.startswith("state:")]
        assert actions == ["state:confirmed", "state:disposing", "state:resolved", "state:disposing", "state:resolved"]
        with pytest.raises(IllegalTransition):
            service.dismiss(s, inc_id, "op1", reason="误报")


def test_sentiment_mix_is_shown_apart_from_the_category_mix(world):  # noqa: F811
    """Negative / neutral / positive counts and shares, from the mentions' risk scores, in a section of their own."""
    from rcops.store.models import Mention
    from rcops.triage.engine import create_daily_followups

    assert [x["label"] for x in rp.sentiment_mix([0.95, 0.6, 0.59, 0.3, 0.29, 0.0])] == ["负面", "中性", "正面"]
    assert [x["count"] for x in rp.sentiment_mix([0.95, 0.6, 0.59, 0.3, 0.29, 0.0])] == [2, 2, 2]
    assert rp.sentiment_mix([0.9, None])[-1] == {"label": "未评分", "count": 1, "share": "50.0%"}
    with world.begin() as s:
        t0 = utcnow() - timedelta(hours=3)
        for n in range(1, 4):
            add_mention(s, n, "村镇银行泄露客户信息", ("转发 " * n) + STORY, when=t0 + timedelta(minutes=n))
        process_pending(s, WordScorer())
        inc_id = s.scalars(select(Incident.id)).one()
        ms = s.scalars(select(Mention).where(Mention.incident_id == inc_id).order_by(Mention.id)).all()
        assert len(ms) == 3
        ms[1].risk_score, ms[2].risk_score = 0.45, 0.1  # e.g. a neutral repost and a positive clarification
        ms[0].category = ms[1].category = "信息泄露/隐私"
        service.confirm_tier(s, inc_id, "op1")
        service.start_disposal(s, inc_id, "op1")
        assert create_daily_followups(s) == 1
        check = s.scalars(select(Task).where(Task.incident_id == inc_id, Task.title == "核实情况并拟定回应口径")).one()
        service.tick_checklist_item(s, "op1", check.id, 1)
        service.resolve(s, inc_id, "op1")
        html = rp.draft_report(s, inc_id, "op1").content_html
    assert "其中每日续报 1 期" in html and "检查清单 1/4 项" in html  # measures: follow-ups and checklists
    section = html[html.index("五、情感倾向"):html.index("六、风险与类别构成")]
    rows = re.findall(r"<tr><td>(.+?)</td><td>(\d+)</td><td>(.+?)</td></tr>", section)
    assert rows == [("负面", "1", "33.3%"), ("中性", "1", "33.3%"), ("正面", "1", "33.3%")]
    assert "负面概率" in section and "信息泄露/隐私" not in section  # categories stay in their own table
    categories = html[html.index("六、风险与类别构成"):html.index("七、分级研判过程")]
    assert "<td>信息泄露/隐私</td><td>2</td>" in categories


def test_drafting_twice_is_refused_and_a_redraft_regenerates_the_same_draft(db):  # noqa: F811
    inc_id = resolved_incident(db)
    with db.begin() as s:
        first = rp.draft_report(s, inc_id, "op1")
        rid, version = first.id, first.version
        rp.edit_report(s, rid, "op1", first.content_html + "<p>处置人员补记</p>")
    with pytest.raises(rp.ReportError, match=f"已有分析报告草稿（报告 {rid}，第 {version} 版）.*--redraft"), \
            db.begin() as s:
        rp.draft_report(s, inc_id, "op1")  # a double click, or a second operator
    with db.begin() as s:
        again = rp.draft_report(s, inc_id, "op1", redraft=True)
        assert (again.id, again.version) == (rid, version)
        assert "处置人员补记" not in again.content_html and "事件概要" in again.content_html
        assert [a.name for a in again.attachments] == ["volume.png"]
        rp.submit_report(s, rid, "op1")
    with pytest.raises(rp.ReportError, match="已提交，等待管理方归档"), db.begin() as s:
        rp.draft_report(s, inc_id, "op1", redraft=True)
    with db() as s:
        assert len(s.scalars(select(AnalysisReport).where(AnalysisReport.incident_id == inc_id)).all()) == 1
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "analysis_report",
                                                             AuditEvent.entity_id == str(rid))).all()
        assert "redrafted" in actions
