"""Found in testing, now fixed: the 信息源 page's table ignored cron schedules and showed sub-minute periods as 0
minutes; it shows the schedule in words now."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rcops.store.models import Source

from .test_console import start
from .test_console_actions import goto


def test_the_sources_table_shows_each_sources_real_schedule(console, session_factory):
    with session_factory.begin() as s:
        src = s.scalars(select(Source)).one()
        src.cron, src.interval_seconds = "30 8 * * 1-5", 600
        s.add(Source(key="fast", name="快源", kind="rss", url="http://127.0.0.1/fast", media_level="municipal",
                     interval_seconds=15))
    at = goto(start("admin"), "sources")
    table = at.dataframe[0].value
    rows = {r["信息源"]: r for r in table.to_dict("records")}
    assert any("30 8 * * 1-5" in str(v) for v in rows["县融媒体"].values()), rows["县融媒体"]
    assert rows["县融媒体"]["抓取周期"] == "cron 30 8 * * 1-5"
    assert rows["快源"]["抓取周期"] == "每 15 秒"
