"""The main job: many scheduled crawls of the replay site in ONE scheduler process (slow);
cron schedules and the back-off of blocked sources (fast, no crawl)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import func, select

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from rcops.classifier.model import train
from rcops.crawlers.alerts import note_run_outcome
from rcops.crawlers.sources import load_monitoring_config
from rcops.pipeline import scheduler as sched
from rcops.pipeline.cli import DEMO_SOURCES, initialise
from rcops.pipeline.replay import ReplaySite, load_replay_items
from rcops.store.db import make_engine, make_sessionmaker, session_scope
from rcops.store.models import CrawlRun, Incident, Mention, Source, SourceAlert, Task, utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")


class NoScorer:
    version = "none"

    def score(self, texts):  # pragma: no cover - no grading in these tests
        return [0.0 for _ in texts]


def demo_config(tmp_path: Path, port: int, interval: int) -> Path:
    doc = yaml.safe_load(DEMO_SOURCES.read_text(encoding="utf-8"))
    for src in doc["sources"]:
        src["url"] = src["url"].replace("127.0.0.1:8765", f"127.0.0.1:{port}")
        src["interval_seconds"] = interval
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.slow
def test_three_scheduled_crawls_per_source_in_one_scheduler_process(settings, tmp_path):
    site = ReplaySite(load_replay_items(settings.shared_data_dir), port=0, release_seconds=0.5, initial_items=10)
    site.start()
    scheduler = None
    try:
        initialise(settings, str(demo_config(tmp_path, site.port, interval=5)))
        engine = make_engine(settings.db_url)
        model = train(settings.model_copy(update={"shared_data_dir": tmp_path / "no-shared-data"}))
        scheduler = sched.build_scheduler(settings, engine, model)
        scheduler.start(paused=True)
        keys = sched.sync_jobs(scheduler, settings, engine)
        assert keys == ["crawl:replay-html", "crawl:replay-rss"]
        scheduler.resume()
        Session = make_sessionmaker(engine)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with Session() as s:
                done = dict(s.execute(
                    select(Source.key, func.count()).join(CrawlRun).where(CrawlRun.status != "running")
                    .group_by(Source.key)).all())
            if len(done) == 2 and min(done.values()) >= 3:
                break
            time.sleep(1)
        scheduler.shutdown(wait=True)
        scheduler = None
        with Session() as s:
            runs = s.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
            per_source = {}
            for r in runs:
                per_source.setdefault(r.source_id, []).append(r)
            assert len(per_source) == 2
            for source_runs in per_source.values():
                finished = [r for r in source_runs if r.status != "running"]
                assert len(finished) >= 3, [(r.status, r.error) for r in source_runs]
                assert all(r.status == "ok" for r in finished), [r.error for r in finished]
                assert all(r.trigger == "schedule" for r in finished)
            # later runs find new items as the site releases them, and never store one twice
            assert sum(r.items_stored for r in runs) == s.scalar(select(func.count()).select_from(Mention))
            assert sum(r.items_duplicate for r in runs) > 0
            urls = s.scalars(select(Mention.canonical_url)).all()
            assert len(urls) == len(set(urls)) > 10
            # what was crawled was graded and grouped
            assert s.scalar(select(func.count()).select_from(Mention).where(Mention.graded_at.is_(None))) == 0
            assert s.scalar(select(func.count()).select_from(Incident)) >= 1
            assert s.scalar(select(func.count()).select_from(Task)) >= 1
        engine.dispose()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        site.stop()


def next_weekday_0830(now: datetime) -> datetime:
    """The next Monday–Friday 08:30 in Shanghai after ``now``, counted by hand."""
    local = now.astimezone(SHANGHAI)
    day = local.replace(hour=8, minute=30, second=0, microsecond=0)
    if day <= local:
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_a_cron_source_gets_a_cron_job_firing_at_its_next_time_in_shanghai(settings, engine):
    with session_scope(engine) as s:
        load_monitoring_config(s, {"sources": [
            {"key": "feed", "kind": "rss", "url": "https://feed.example.cn/rss.xml", "interval_seconds": 900},
            {"key": "county", "kind": "rss", "url": "https://county.example.cn/rss.xml", "cron": "30 8 * * 1-5"},
        ]}, "tester")
    scheduler = sched.build_scheduler(settings, engine, NoScorer())
    scheduler.start(paused=True)
    try:
        before = datetime.now(timezone.utc)
        assert sched.sync_jobs(scheduler, settings, engine) == ["crawl:county", "crawl:feed"]
        cron_job, interval_job = scheduler.get_job("crawl:county"), scheduler.get_job("crawl:feed")
        assert isinstance(cron_job.trigger, CronTrigger) and str(cron_job.trigger.timezone) == "Asia/Shanghai"
        assert cron_job.next_run_time == next_weekday_0830(before)
        assert cron_job.next_run_time.utcoffset() == timedelta(hours=8)
        # an interval source still runs a moment after the start, then every 15 minutes
        assert isinstance(interval_job.trigger, IntervalTrigger) and interval_job.trigger.interval == timedelta(minutes=15)
        assert interval_job.next_run_time - before < timedelta(seconds=10)
        # without a first run now, the trigger decides (the jobs were paused: next_run_time None)
        sched.sync_jobs(scheduler, settings, engine, first_run_now=False)
        later = scheduler.get_job("crawl:feed").next_run_time
        assert later is not None and timedelta(minutes=14) < later - before <= timedelta(minutes=15, seconds=10)
    finally:
        scheduler.shutdown(wait=False)


def test_a_blocked_source_is_skipped_until_its_backoff_expires(settings, engine):
    with session_scope(engine) as s:
        load_monitoring_config(s, {"sources": [{"key": "walled", "kind": "rss", "url": "https://w.example.cn/rss.xml"}]},
                               "tester")
        source = s.scalar(select(Source))
        run = CrawlRun(source_id=source.id, status="failed", finished_at=utcnow(),
                       error="疑似被拦截：信息源返回 HTTP 403（拒绝访问，可能需要登录或触发了反爬）：https://w.example.cn/rss.xml")
        s.add(run)
        s.flush()
        change = note_run_outcome(s, run)
        assert change["change"] == "opened"
    sched.build_scheduler(settings, engine, NoScorer())  # the job functions' context
    skipped = sched.crawl_job("walled")  # no crawl: the back-off lies ahead
    assert skipped["status"] == "skipped" and skipped["retry_at"] == change["retry_at"]
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(CrawlRun)) == 1
        # the back-off is in the database: a restarted scheduler reads the same; once it expires …
        s.scalar(select(SourceAlert)).retry_at = utcnow() - timedelta(seconds=1)
    from rcops.crawlers.alerts import backoff_until

    with session_scope(engine) as s:
        assert backoff_until(s, "walled") is None  # … the next scheduled crawl runs
