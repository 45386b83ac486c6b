"""The item pipeline chain (registered in ``rcops.crawlers.settings.ITEM_PIPELINES``):

``CleanTextPipeline`` (100) → ``MaskPersonalDataPipeline`` (200) →
``SchemeMatchPipeline`` (300) → ``DedupPipeline`` (400) → ``StorePipeline`` (500).

Every dropped item raises ``DropItem`` with a Chinese reason; the reason and
its category (invalid / irrelevant / duplicate) are counted in the crawl stats
(``rcops/reason/<reason>``, ``rcops/items_<category>``), which the worker writes
into the CrawlRun. ``StorePipeline`` stores each mention in its own short
transaction (one Core INSERT … RETURNING on a connection kept for the crawl, no ORM unit
of work), and the run's counters so far at most once a second (with a mention, or by a
timer when items stop coming), so a killed crawl leaves complete mentions and nearly
current counters behind.

Scrapy 2.19 (installed) calls ``process_item(item)``, ``open_spider()`` and
``close_spider()`` without a spider argument (a required ``spider`` parameter is deprecated);
components keep the crawler from ``from_crawler``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from sqlalchemy import Connection, Engine, bindparam, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from rcops.store.db import make_engine, make_sessionmaker
from rcops.store.models import CrawlRun, Mention

from .canonical import canonical_url, content_hash
from .health import STAT_GARBLED_PAGES, STAT_REPLACEMENT_CHARS
from .items import MentionItem
from .masking import mask_personal_data
from .runner import COUNTERS
from .schemes import enabled_schemes, match_all, match_scheme
from .stories import StoryIndex, insert_mention, mention_simhash
from .spiders.base import PROBLEM_PREFIX, REASON_PREFIX
from .textutil import clean_field, derive_title

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

STAT_PREFIX = "rcops/"
TITLE_MAX = 500
AUTHOR_MAX = 200


def run_counters(stats: dict[str, Any]) -> dict[str, Any]:
    """CrawlRun column values (counters + ``stats`` reason → count) from Scrapy crawl stats."""
    values: dict[str, Any] = {name: int(stats.get(STAT_PREFIX + name, 0) or 0) for name in COUNTERS}
    reasons = {
        key[len(REASON_PREFIX) :]: int(value)
        for key, value in stats.items()
        if key.startswith(REASON_PREFIX)
    }
    replacement = int(stats.get(STAT_PREFIX + "replacement_chars", 0) or 0)
    if replacement:
        reasons[STAT_REPLACEMENT_CHARS] = replacement
        reasons[STAT_GARBLED_PAGES] = int(stats.get(STAT_PREFIX + "garbled_pages", 0) or 0)
    reposts = int(stats.get(STAT_PREFIX + "reposts", 0) or 0)
    if reposts:
        reasons["入库的转载（近似重复）"] = reposts
    exact = int(stats.get(STAT_PREFIX + "reposts_exact", 0) or 0)
    if exact:
        reasons["入库的转载（全文相同）"] = exact
    values["stats"] = dict(sorted(reasons.items()))
    return values


def drop(crawler: Crawler, category: str, reason: str, log_level: str = "INFO") -> DropItem:
    """Count a dropped item under ``category`` and ``reason``; the caller raises the result."""
    stats = crawler.stats
    if stats is not None:
        stats.inc_value(f"{STAT_PREFIX}items_{category}")
        stats.inc_value(REASON_PREFIX + reason)
        if category == "invalid":
            stats.inc_value(PROBLEM_PREFIX + reason)
    return DropItem(reason, log_level=log_level)


@dataclass
class StoreContext:
    """Where a crawl stores: one engine per crawl, shared by the pipelines that need it, and
    the crawl's connections for the per-item work, kept open so that no item pays for a pool
    checkout and its reset: one for transactions (each item's is its own,
    ``with connection().begin()``) and one in autocommit mode for single reads. Pipelines run
    in the reactor thread, one item at a time, so they never share a connection concurrently."""

    engine: Engine
    sessions: sessionmaker[Session]
    run_id: int | None
    source_id: int | None
    _connections: dict[bool, Connection] = field(default_factory=dict)

    def connection(self, *, autocommit: bool = False) -> Connection:
        """The crawl's connection for transactions (a new one after the database dropped the
        last one); ``autocommit``: a second one for single reads, which need no transaction
        (no BEGIN and COMMIT round trips on PostgreSQL)."""
        conn = self._connections.get(autocommit)
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                conn.close()
            conn = self.engine.connect()
            if autocommit:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self._connections[autocommit] = conn
        return conn

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()
        self.engine.dispose()


def store_context(crawler: Crawler) -> StoreContext:
    """The crawl's StoreContext, created on first use from ``RCOPS_DATABASE_URL``."""
    ctx: StoreContext | None = getattr(crawler, "_rcops_store", None)
    if ctx is not None:
        return ctx
    url = crawler.settings.get("RCOPS_DATABASE_URL")
    if not url:
        raise NotConfigured("RCOPS_DATABASE_URL 未设置：无法连接数据库")
    engine = make_engine(url)
    run_id = crawler.settings.get("RCOPS_RUN_ID")
    source_id = crawler.settings.get("RCOPS_SOURCE_ID")
    ctx = StoreContext(
        engine=engine,
        sessions=make_sessionmaker(engine),
        run_id=int(run_id) if run_id is not None else None,
        source_id=int(source_id) if source_id is not None else None,
    )
    crawler._rcops_store = ctx  # type: ignore[attr-defined]
    crawler.signals.connect(ctx.close, signal=signals.engine_stopped, weak=False)
    return ctx


class _Pipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    @property
    def stats(self) -> StatsCollector:
        assert self.crawler.stats is not None
        return self.crawler.stats


class CleanTextPipeline(_Pipeline):
    """Tags and entities out, whitespace collapsed, control characters gone. No NFKC:
    it would turn Chinese full-width punctuation (，。：) into ASCII."""

    def process_item(self, item: MentionItem) -> MentionItem:
        self.stats.inc_value(STAT_PREFIX + "items_seen")
        missing = item.extra.get("missing")
        if missing:
            raise drop(self.crawler, "invalid", "详情页缺少所选元素：" + "/".join(missing))
        item.title = clean_field(item.title, keep_newlines=False)
        item.text = clean_field(item.text)
        item.author = clean_field(item.author, keep_newlines=False)[:AUTHOR_MAX]
        if not item.title and not item.text:
            raise drop(self.crawler, "invalid", "标题和正文均为空")
        if not item.url.startswith(("http://", "https://")):
            raise drop(self.crawler, "invalid", "缺少有效链接")
        if not item.title:
            item.title = derive_title(item.text)
        item.title = item.title[:TITLE_MAX]
        return item


class MaskPersonalDataPipeline(_Pipeline):
    """ID numbers, mobile numbers and bank cards masked in title, text and author."""

    def process_item(self, item: MentionItem) -> MentionItem:
        total = 0
        item.title, n = mask_personal_data(item.title)
        total += n
        item.text, n = mask_personal_data(item.text)
        total += n
        item.author, n = mask_personal_data(item.author)
        total += n
        item.masked_count += total
        if total:
            self.stats.inc_value(STAT_PREFIX + "masked", total)
        return item


class SchemeMatchPipeline(_Pipeline):
    """Keep an item when at least one enabled monitoring scheme matches it (see :func:`match_scheme`)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.schemes: list[dict[str, Any]] = []

    def open_spider(self) -> None:
        ctx = store_context(self.crawler)
        with ctx.sessions() as session:
            self.schemes, problems = enabled_schemes(session)
        for reason in problems:
            logger.error(reason)
            self.stats.set_value(PROBLEM_PREFIX + reason, 1)
        if not self.schemes:
            logger.warning("没有启用的监测方案：本次抓取的所有信息都将视为不相关")
            self.stats.set_value(PROBLEM_PREFIX + "没有启用的监测方案", 1)

    def process_item(self, item: MentionItem) -> MentionItem:
        if not self.schemes:
            raise drop(self.crawler, "irrelevant", "没有启用的监测方案", log_level="DEBUG")
        matched = match_all(self.schemes, item.title, item.text)
        if not matched:
            raise drop(self.crawler, "irrelevant", "不匹配任何监测方案", log_level="DEBUG")
        item.matched = matched
        return item


_SAME_URL = Mention.canonical_url == bindparam("url")
#: a stored mention with the same URL, else the earliest with the same text (built once)
_STORED_COPY = (
    select(Mention.canonical_url, Mention.story_key, Mention.content_hash)
    .where(or_(_SAME_URL, Mention.content_hash == bindparam("digest")))
    .order_by(case((_SAME_URL, 0), else_=1), Mention.id)
    .limit(1)
)


class DedupPipeline(_Pipeline):
    """Drop items whose canonical URL is already stored, or was seen in this run.

    The same text at another URL is no duplicate but a word-for-word repost: it goes on to
    be stored in the chain of the story it repeats (``item.repost_of`` names the chain),
    so every repost counts towards reach and spread order."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.seen_urls: set[str] = set()

    def process_item(self, item: MentionItem) -> MentionItem:
        item.canonical_url = canonical_url(item.url)
        item.content_hash = content_hash(item.title, item.text)
        if item.canonical_url in self.seen_urls:
            raise drop(self.crawler, "duplicate", "重复：本次抓取中已出现", log_level="DEBUG")
        self.seen_urls.add(item.canonical_url)
        conn = store_context(self.crawler).connection(autocommit=True)  # one read, no ORM session
        existing = conn.execute(_STORED_COPY, {"url": item.canonical_url, "digest": item.content_hash}).first()
        if existing is not None:
            if existing[0] == item.canonical_url:
                raise drop(self.crawler, "duplicate", "重复：链接已存在", log_level="DEBUG")
            item.repost_of = existing[1] or existing[2]
        return item


class StorePipeline(_Pipeline):
    """One short transaction per item: the Mention, its place in a story chain
    (near-duplicates across sources and runs, first source; see :mod:`.stories`),
    and — at most every :data:`COUNTERS_EVERY_SECONDS` — the run's counters so far; a timer
    writes them too when items stop coming, so a killed crawl leaves them nearly current
    (the worker writes the final ones)."""

    COUNTERS_EVERY_SECONDS = 1.0

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.stories = StoryIndex()
        self.counters_written = 0.0
        self.counters_dirty = False
        self.timer: Any = None

    def open_spider(self) -> None:
        from twisted.internet import task

        self.timer = task.LoopingCall(self._tick)
        self.timer.start(self.COUNTERS_EVERY_SECONDS, now=False)

    def _tick(self) -> None:
        try:
            self.write_counters()
        except Exception:  # noqa: BLE001 - counters are retried on the next tick; the crawl goes on
            logger.warning("抓取计数暂未写入（稍后重试）", exc_info=True)

    def close_spider(self) -> None:
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.write_counters()

    def write_counters(self, conn: Connection | None = None) -> None:
        """The run's counters so far into its CrawlRun (in ``conn``'s transaction, or a new one)."""
        ctx = store_context(self.crawler)
        if ctx.run_id is None or not self.counters_dirty:
            return
        statement = update(CrawlRun).where(CrawlRun.id == ctx.run_id).values(**run_counters(self.stats.get_stats()))
        if conn is not None:
            conn.execute(statement)
        else:
            own = ctx.connection()
            with own.begin():
                own.execute(statement)
        self.counters_written = time.monotonic()
        self.counters_dirty = False

    def process_item(self, item: MentionItem) -> MentionItem:
        ctx = store_context(self.crawler)
        values: dict[str, Any] = {
            "source_id": ctx.source_id,
            "crawl_run_id": ctx.run_id,
            "url": item.url[:2000],
            "canonical_url": item.canonical_url[:2000],
            "content_hash": item.content_hash,
            "title": item.title,
            "text": item.text,
            "author": item.author,
            "published_at": item.published_at,
            "crawled_at": datetime.now(timezone.utc),
            "matched": item.matched,
            "reach": int(item.reach or 0),
            "masked_count": item.masked_count,
            "origin": "crawl",
            "source_name": "",
        }
        value = mention_simhash(item.title, item.text)  # CPU work before the transaction opens
        counted = False
        try:
            conn = ctx.connection()
            with conn.begin():
                mention_id = insert_mention(conn, values, self.stories, same_text=item.repost_of, value=value)
                self.stats.inc_value(STAT_PREFIX + "items_stored")
                counted = True
                if item.repost_of is not None:
                    self.stats.inc_value(STAT_PREFIX + "reposts_exact")
                elif values["spread_rank"] > 1:
                    self.stats.inc_value(STAT_PREFIX + "reposts")
                self.counters_dirty = True
                if time.monotonic() - self.counters_written >= self.COUNTERS_EVERY_SECONDS:
                    self.write_counters(conn)
        except IntegrityError:
            # another crawl stored the same URL between our check and our insert
            if counted:
                self.stats.inc_value(STAT_PREFIX + "items_stored", -1)
            self.counters_dirty = True  # what was written with the mention was rolled back with it
            raise drop(self.crawler, "duplicate", "重复：并发写入时已存在", log_level="DEBUG") from None
        if value is not None:  # committed: the next items may join its story
            self.stories.add(mention_id, value, values["story_key"])
        return item


__all__ = [
    "CleanTextPipeline",
    "MaskPersonalDataPipeline",
    "SchemeMatchPipeline",
    "DedupPipeline",
    "StorePipeline",
    "match_scheme",
    "run_counters",
    "COUNTERS",
]
