"""Cron schedules per source: validated with the bad field named, read as standard cron in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from rcops.crawlers.exceptions import SourceConfigError
from rcops.crawlers.schedule import cron_trigger, describe, source_trigger
from rcops.crawlers.sources import add_sources, validate_source
from rcops.store.db import session_scope
from rcops.store.models import Source

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Friday 2026-12-04, 09:00 in Shanghai
FRIDAY_9 = datetime(2026, 12, 4, 1, 0, tzinfo=timezone.utc)


def entry(**extra: object) -> dict[str, object]:
    return {"key": "county", "name": "县融媒体", "kind": "rss", "url": "https://news.example.cn/feed.xml", **extra}


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 25 * * *", "字段 cron：第 2 段“小时”的值 '25' 无效（可用 0–23"),
        ("61 8 * * *", "字段 cron：第 1 段“分钟”的值 '61' 无效（可用 0–59"),
        ("0 8 32 * *", "字段 cron：第 3 段“日”的值 '32' 无效（可用 1–31"),
        ("0 8 * 13 *", "字段 cron：第 4 段“月”的值 '13' 无效"),
        ("0 8 * * 8", "字段 cron：第 5 段“星期”的值 '8' 无效：8 超出范围"),
        ("0 8 * * 5-2", "字段 cron：第 5 段“星期”的值 '5-2' 无效：范围 5-2 的起点大于终点"),
        ("0 8 * * funday", "字段 cron：第 5 段“星期”的值 'funday' 无效"),
        ("0 8 * *", "字段 cron：须为 5 段（分钟 小时 日 月 星期"),
        ("*/0 * * * *", "字段 cron：第 1 段“分钟”的值 '*/0' 无效"),
        ("", "字段 cron：须为 5 段的 cron 表达式文字"),
        (30, "字段 cron：须为 5 段的 cron 表达式文字"),
    ],
)
def test_a_bad_cron_expression_names_the_source_and_the_field(cron: object, message: str) -> None:
    with pytest.raises(SourceConfigError) as info:
        validate_source(entry(cron=cron), 0)
    assert str(info.value).startswith("信息源第 1 项（key=county） ")
    assert message in str(info.value)


def test_cron_and_interval_together_are_refused() -> None:
    with pytest.raises(SourceConfigError, match="字段 cron：与 interval_seconds 只能二选一"):
        validate_source(entry(cron="0 8 * * *", interval_seconds=300), 0)


def test_sources_add_stores_the_cron_normalised_and_refuses_a_bad_one_whole(engine: Engine, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text('key: county\nname: 县融媒体\nkind: rss\nurl: https://news.example.cn/feed.xml\ncron: "30  8 * * 1-5"\n',
                    encoding="utf-8")
    with session_scope(engine) as session:
        add_sources(session, good, "system")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - {key: other, kind: rss, url: 'https://o.example.cn/f.xml'}\n"
                   "  - {key: county, kind: rss, url: 'https://news.example.cn/feed.xml', cron: '30 8 * * 1-9'}\n",
                   encoding="utf-8")
    with pytest.raises(SourceConfigError, match=r"信息源第 2 项（key=county） 字段 cron：第 5 段“星期”"):
        with session_scope(engine) as session:
            add_sources(session, bad, "system")
    with session_scope(engine) as session:
        rows = session.scalars(select(Source)).all()
        assert [(s.key, s.cron) for s in rows] == [("county", "30 8 * * 1-5")]


def test_weekdays_are_standard_cron_1_is_monday_read_in_shanghai() -> None:
    trigger = cron_trigger("30 8 * * 1-5", "Asia/Shanghai")
    # Friday 09:00 → the next weekday 08:30 is Monday (APScheduler's own 1 would be Tuesday)
    fire = trigger.get_next_fire_time(None, FRIDAY_9)
    assert fire == datetime(2026, 12, 7, 8, 30, tzinfo=SHANGHAI)
    assert fire.utcoffset().total_seconds() == 8 * 3600
    assert cron_trigger("0 10 * * 0", "Asia/Shanghai").get_next_fire_time(None, FRIDAY_9) == datetime(
        2026, 12, 6, 10, 0, tzinfo=SHANGHAI)  # 0 is Sunday …
    assert cron_trigger("0 10 * * 7", "Asia/Shanghai").get_next_fire_time(None, FRIDAY_9) == datetime(
        2026, 12, 6, 10, 0, tzinfo=SHANGHAI)  # … and so is 7
    assert cron_trigger("0 10 * * fri-sun", "Asia/Shanghai").get_next_fire_time(None, FRIDAY_9) == datetime(
        2026, 12, 4, 10, 0, tzinfo=SHANGHAI)


def test_day_of_month_and_weekday_both_given_fire_on_either() -> None:
    trigger = cron_trigger("0 9 1 * 1", "Asia/Shanghai")  # the 1st, and every Monday
    fires, now = [], FRIDAY_9
    for _ in range(5):
        now = trigger.get_next_fire_time(None, now)
        fires.append(now.date().isoformat())
        now = now.replace(minute=1)
    assert fires == ["2026-12-07", "2026-12-14", "2026-12-21", "2026-12-28", "2027-01-01"]


def test_macros_intervals_and_words() -> None:
    assert cron_trigger("@daily", "Asia/Shanghai").get_next_fire_time(None, FRIDAY_9) == datetime(
        2026, 12, 5, 0, 0, tzinfo=SHANGHAI)
    interval = source_trigger(None, 600, "Asia/Shanghai")
    assert interval.interval.total_seconds() == 600
    assert describe(None, 600) == "每 10 分钟" and describe(None, 7200) == "每 2 小时" and describe(None, 45) == "每 45 秒"
    assert describe("30 8 * * 1-5", 600) == "cron 30 8 * * 1-5"
