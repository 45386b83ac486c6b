"""Found in testing, now fixed: a correction of a tampered archived report inherits the forged text and gets a fresh, valid seal."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from rcops.store.models_disposal import AnalysisReport
from rcops.triage import report as rp

from .test_engine import db  # noqa: F401
from .test_found_report import archived_report


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
