"""The main job: many scheduled crawls of the replay site in ONE scheduler process."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from rcops.classifier.model import train
from rcops.pipeline import scheduler as sched
from rcops.pipeline.cli import DEMO_SOURCES, initialise
from rcops.pipeline.replay import ReplaySite, load_replay_items
from rcops.store.db import make_engine, make_sessionmaker
from rcops.store.models import CrawlRun, Incident, Mention, Source, Task

pytestmark = pytest.mark.slow


def demo_config(tmp_path: Path, port: int, interval: int) -> Path:
    doc = yaml.safe_load(DEMO_SOURCES.read_text(encoding="utf-8"))
    for src in doc["sources"]:
        src["url"] = src["url"].replace("127.0.0.1:8765", f"127.0.0.1:{port}")
        src["interval_seconds"] = interval
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


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
