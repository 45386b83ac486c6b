"""Found in testing, now fixed: a correction of a tampered archived report inherits the forged text and gets a fresh, valid seal."""

from __future__ import annotations

import pytest
from datetime import timedelta

from sqlalchemy import select, update

from rcops.store.models import Incident, Task, utcnow
from rcops.store.models_disposal import AnalysisReport
from rcops.triage import report as rp
from rcops.triage import service
from rcops.triage.engine import process_pending

from .test_engine import STORY, WordScorer, add_mention, db  # noqa: F401


def archived_report(db):  # noqa: F811
    """One incident resolved, reported and archived; returns (report id, None)."""
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY, reach=100, when=utcnow() - timedelta(hours=3))
        process_pending(s, WordScorer())
        inc_id = s.scalars(select(Incident.id)).one()
    with db.begin() as s:
        service.confirm_tier(s, inc_id, "op1")
        service.start_disposal(s, inc_id, "op1")
        for t in s.scalars(select(Task).where(Task.incident_id == inc_id, Task.status == "open")):
            service.complete_task(s, t.id, "op1", note="完成", force=True)
        service.resolve(s, inc_id, "op1", note="已办结")
        rep = rp.draft_report(s, inc_id, "op1")
        rp.submit_report(s, rep.id, "op1")
        rp.archive_report(s, rep.id, "admin")
        return rep.id, None


def test_a_correction_does_not_launder_a_tampered_report(db):  # noqa: F811
    rid, _ = archived_report(db)
    with db.begin() as s:
        s.execute(update(AnalysisReport).where(AnalysisReport.id == rid)
                  .values(content_html=AnalysisReport.content_html + "<p>伪造结论：无需整改</p>"))
    with db() as s:
        assert not rp.verify_report(s, rid).ok
    with pytest.raises(rp.ReportError, match="与封存值不符.*不能以它为底稿"), db.begin() as s:
        rp.correct_report(s, rid, "op1")
    with db() as s:  # nothing was created from the forged copy
        assert len(s.scalars(select(AnalysisReport)).all()) == 1
