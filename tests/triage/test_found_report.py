"""Found in testing, now fixed: the Word export dropped lists and divs; the seal did not cover the report's
incident and title; a tampered archived report was exported as if sealed."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from rcops.store.models import Incident, Task, utcnow
from rcops.store.models_disposal import AnalysisReport
from rcops.triage import report as rp
from rcops.triage import service
from rcops.triage.engine import process_pending

from .test_engine import STORY, WordScorer, add_mention, db  # noqa: F401

LESSONS = ("<h2>十、经验与改进</h2><ul><li>加强员工信息安全培训</li><li>建立征信查询双人复核</li></ul>"
           "<div>整改结论：已完成</div>")


def archived_report(db, edit=None):  # noqa: F811
    """Two incidents, the first resolved, reported (optionally edited) and archived; returns (report, other incident)."""
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY, reach=100, when=utcnow() - timedelta(hours=3))
        add_mention(s, 2, "农户投诉贷款逾期被催收", "有农户投诉说贷款逾期后被反复催收电话骚扰，影响生活。")
        process_pending(s, WordScorer())
        inc_id, other = s.scalars(select(Incident.id).order_by(Incident.id)).all()
    with db.begin() as s:
        service.confirm_tier(s, inc_id, "op1")
        service.start_disposal(s, inc_id, "op1")
        for t in s.scalars(select(Task).where(Task.incident_id == inc_id, Task.status == "open")):
            service.complete_task(s, t.id, "op1", note="完成", force=True)
        service.resolve(s, inc_id, "op1", note="已办结")
        rep = rp.draft_report(s, inc_id, "op1")
        if edit:
            rp.edit_report(s, rep.id, "op1", rep.content_html.replace("</body>", edit + "</body>"))
        rp.submit_report(s, rep.id, "op1")
        rp.archive_report(s, rep.id, "admin")
        return rep.id, other


def test_word_export_keeps_lists_and_divs(db):  # noqa: F811
    from docx import Document

    rid, _ = archived_report(db, edit=LESSONS)
    with db() as s:
        assert "建立征信查询双人复核" in rp.export_report(s, rid, "html").decode()
        doc = Document(io.BytesIO(rp.export_report(s, rid, "docx")))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "加强员工信息安全培训" in body and "建立征信查询双人复核" in body and "整改结论：已完成" in body


def test_moving_an_archived_report_to_another_incident_is_detected(db):  # noqa: F811
    rid, other = archived_report(db)
    with db.begin() as s:
        s.execute(update(AnalysisReport).where(AnalysisReport.id == rid)
                  .values(incident_id=other, title="篡改后的标题"))
    with db() as s:
        assert not rp.verify_report(s, rid).ok


def test_a_tampered_archived_report_is_not_exported_as_if_sealed(db):  # noqa: F811
    rid, _ = archived_report(db)
    with db.begin() as s:
        s.execute(update(AnalysisReport).where(AnalysisReport.id == rid)
                  .values(content_html=AnalysisReport.content_html + "<p>伪造结论</p>"))
    with db() as s:
        assert not rp.verify_report(s, rid).ok
        for fmt in ("html", "pdf", "docx"):
            with pytest.raises(rp.ReportError, match="与封存值不符.*拒绝导出"):
                rp.export_report(s, rid, fmt)
