"""Found in testing, now fixed: the source typed into a manual import (来源) was lost on the incident page and in the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from rcops.crawlers.manual import import_mentions
from rcops.store.models import Incident
from rcops.triage import report as rp
from rcops.triage import service
from rcops.triage.engine import process_pending

from .test_engine import STORY, WordScorer, db  # noqa: F401


def test_the_typed_source_of_an_imported_mention_is_shown(db, tmp_path: Path):  # noqa: F811
    f = tmp_path / "m.csv"
    f.write_text(f"标题,正文,链接,来源,传播量\n村镇银行泄露客户信息,{STORY},https://bbs.example.org/t/1,某县论坛,100\n",
                 encoding="utf-8")
    with db.begin() as s:
        import_mentions(s, f, "op1")
        process_pending(s, WordScorer())
        inc_id = s.scalars(select(Incident.id)).one()
    with db() as s:
        names = [name for _, name in service.incident_mentions(s, inc_id)]
        ctx = rp.report_context(s, s.get(Incident, inc_id))
    assert names == ["某县论坛（人工录入）"], names  # the typed source, and that it was entered by hand
    assert ctx["first_source"]["name"] == "某县论坛（人工录入）", ctx["first_source"]
