from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rcops.store.db import check_schema, make_engine, table_names
from rcops.store.exceptions import SchemaOutdated
from rcops.store.models import CrawlRun, Mention, Source


def test_migrations_create_every_table(engine):
    names = set(table_names(engine))
    assert {"source", "crawl_run", "mention", "incident", "tier", "response_plan", "plan_step",
            "task", "audit_event", "monitoring_scheme", "alembic_version"} <= names
    check_schema(engine)


def test_empty_database_is_reported_as_outdated(settings, tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaOutdated, match="rcops init"):
        check_schema(eng)


def test_times_come_back_aware_utc(session_factory):
    with session_factory.begin() as s:
        src = Source(key="k", name="n", kind="rss", url="http://127.0.0.1/")
        s.add(src)
        s.flush()
        s.add(CrawlRun(source_id=src.id, started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)))
    with session_factory() as s:
        run = s.scalars(select(CrawlRun)).one()
        assert run.started_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        assert run.started_at.utcoffset().total_seconds() == 0


def test_naive_datetime_is_refused(session_factory):
    with pytest.raises(Exception, match="naive datetime"):
        with session_factory.begin() as s:
            src = Source(key="k", name="n", kind="rss", url="http://127.0.0.1/")
            s.add(src)
            s.flush()
            s.add(CrawlRun(source_id=src.id, started_at=datetime(2026, 1, 2)))


def test_same_canonical_url_cannot_be_stored_twice(session_factory):
    def mention(h):
        return Mention(url="http://a/1", canonical_url="http://a/1", content_hash=h, title="t", text="x")

    with session_factory.begin() as s:
        s.add(mention("h1"))
    with pytest.raises(IntegrityError):
        with session_factory.begin() as s:
            s.add(mention("h2"))
    with session_factory() as s:
        assert s.scalars(select(Mention)).one().content_hash == "h1"
