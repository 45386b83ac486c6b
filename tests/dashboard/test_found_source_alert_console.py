"""Found in testing, now fixed: the console did not show a blocked source's alert (crawling paused until when, what to do)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rcops.crawlers.alerts import note_run_outcome
from rcops.store.models import CrawlRun, Source, utcnow

from .test_console import start
from .test_console_actions import goto


def test_the_sources_page_shows_until_when_a_blocked_source_is_paused(console, session_factory):
    with session_factory.begin() as s:
        src = s.scalars(select(Source)).one()
        run = CrawlRun(source_id=src.id, started_at=utcnow() - timedelta(minutes=2),
                       finished_at=utcnow() - timedelta(minutes=1), status="failed", items_seen=0,
                       error="疑似被拦截：HTTP 403 拒绝访问（http://127.0.0.1/feed）")
        s.add(run)
        s.flush()
        assert note_run_outcome(s, run)["change"] == "opened"
    at = goto(start("张三"), "sources")
    shown = "\n".join([w.value for w in at.warning] + [e.value for e in at.error] + [m.value for m in at.markdown]
                      + [c.value for c in at.caption] + [i.value for i in at.info])
    assert "被拦截" in shown
    assert "定时抓取暂停至" in shown and "rcops crawl" in shown, shown
