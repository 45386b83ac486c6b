"""Source health from CrawlRun history and mentions: silent sources, garbled pages, failure streaks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from rcops.crawlers.health import garbled_share, source_health
from rcops.store.models import CrawlRun, Mention, Source

NOW = datetime(2026, 5, 1, 4, 0, tzinfo=timezone.utc)


def add_source(session: Any, key: str, **kw: Any) -> Source:
    source = Source(key=key, name=f"源 {key}", kind="rss", url=f"https://{key}.example.org/feed", **kw)
    session.add(source)
    session.flush()
    return source


def add_runs(session: Any, source: Source, runs: list[tuple[str, int] | tuple[str, int, dict[str, Any]]]) -> None:
    """Runs oldest first, one hour apart, ending an hour before NOW: (status, items_seen[, stats])."""
    for i, spec in enumerate(runs):
        status, seen = spec[0], spec[1]
        stats = spec[2] if len(spec) > 2 else {}
        started = NOW - timedelta(hours=len(runs) - i)
        session.add(
            CrawlRun(
                source_id=source.id, started_at=started, finished_at=started + timedelta(seconds=30),
                status=status, items_seen=seen, items_stored=seen // 2, pages_fetched=max(seen, 1),
                error="信息源返回 HTTP 503：https://x" if status == "failed" else None, stats=stats,
            )
        )
    session.flush()


def by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in rows}


def test_a_source_that_suddenly_returns_nothing_is_flagged_silent(session_factory) -> None:
    with session_factory.begin() as s:
        add_runs(s, add_source(s, "silent"), [("ok", 20), ("ok", 18), ("ok", 22), ("ok", 0), ("ok", 0)])
        add_runs(s, add_source(s, "one-empty"), [("ok", 20), ("ok", 18), ("ok", 0)])
        add_runs(s, add_source(s, "always-empty"), [("ok", 0), ("ok", 0), ("ok", 0)])
    with session_factory() as s:
        health = by_key(source_health(s, NOW))
    silent = health["silent"]
    assert silent["flags"] == ["静默"] and silent["state"] == "异常"
    assert silent["last_yield"] == 0
    assert silent["usual_yield"] == 19  # median of the ok runs before the last one: 20 18 22 0
    assert silent["yield_ratio"] == 0
    assert health["one-empty"]["flags"] == []  # one empty run is not yet silence
    assert health["always-empty"]["flags"] == []  # never yielded: nothing unusual


def test_last_success_last_error_and_consecutive_failures(session_factory) -> None:
    with session_factory.begin() as s:
        src = add_source(s, "flaky")
        add_runs(s, src, [("ok", 10), ("failed", 0), ("ok", 12), ("failed", 0), ("failed", 0), ("failed", 0)])
        add_source(s, "never", enabled=False)
    with session_factory() as s:
        health = by_key(source_health(s, NOW))
    flaky = health["flaky"]
    assert flaky["consecutive_failures"] == 3
    assert flaky["flags"] == ["连续失败"]
    assert flaky["last_status"] == "failed" and flaky["state"] == "异常"
    assert flaky["last_success_at"] == NOW - timedelta(hours=4) + timedelta(seconds=30)
    assert flaky["last_error_at"] == NOW - timedelta(hours=1) + timedelta(seconds=30)
    assert flaky["last_error"].startswith("信息源返回 HTTP 503")
    assert flaky["last_yield"] is None  # the last run failed: it yielded nothing to compare
    assert flaky["usual_yield"] == 11
    assert flaky["runs_total"] == 6
    never = health["never"]
    assert never["state"] == "已停用" and never["runs_total"] == 0 and never["last_run_at"] is None


def test_pages_that_suddenly_decode_badly_are_flagged(session_factory) -> None:
    with session_factory.begin() as s:
        add_runs(s, add_source(s, "garbled"), [("ok", 10), ("ok", 10, {"解码替换字符数": 900, "乱码页面数": 8})])
        add_runs(s, add_source(s, "few-bad-chars"), [("ok", 10), ("ok", 10, {"解码替换字符数": 30, "乱码页面数": 1})])
        # a run recorded before pages were counted: 900 replacement characters over 10 pages
        add_runs(s, add_source(s, "old-stats"), [("ok", 10, {"解码替换字符数": 900})])
    with session_factory() as s:
        health = by_key(source_health(s, NOW))
    assert health["garbled"]["flags"] == ["乱码"] and health["garbled"]["garbled_share"] == 0.8
    assert health["few-bad-chars"]["flags"] == []
    assert health["old-stats"]["flags"] == ["乱码"]


def test_freshness_of_the_newest_item(session_factory) -> None:
    with session_factory.begin() as s:
        src = add_source(s, "fresh")
        add_runs(s, src, [("ok", 2)])
        for i, published in enumerate([NOW - timedelta(hours=30), NOW - timedelta(hours=6), None]):
            s.add(Mention(source_id=src.id, url=f"https://fresh.example.org/{i}", canonical_url=f"https://fresh.example.org/{i}",
                          content_hash=f"h{i}", title="t", text="x", published_at=published, crawled_at=NOW - timedelta(hours=1)))
    with session_factory() as s:
        fresh = by_key(source_health(s, NOW))["fresh"]
    assert fresh["newest_item_at"] == NOW - timedelta(hours=6)
    assert fresh["freshness_hours"] == 6.0
    assert fresh["state"] == "正常"


def test_garbled_share_is_bounded() -> None:
    run = CrawlRun(pages_fetched=0, stats={"乱码页面数": 5})
    assert garbled_share(run) == 1.0
