"""``FeedSpider`` (kind ``rss``): RSS 0.9x/1.0/2.0 and Atom feeds, parsed by feedparser."""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any

import feedparser
import scrapy
from scrapy.http import Response

from ..items import MentionItem
from ..middlewares import encoding_info
from ..textutil import clean_text, html_to_text
from ..timeparse import parse_published
from .base import SourceSpider


def _entry_text(entry: Any) -> str:
    """The richest body an entry has: full content, else summary/description."""
    contents = entry.get("content") or []
    values = [c.get("value", "") for c in contents if c.get("value")]
    if values:
        return "\n".join(values)
    return entry.get("summary", "") or entry.get("description", "") or ""


def _entry_published(entry: Any, now: datetime) -> datetime | None:
    for key in ("published", "updated", "created", "dc_date"):
        raw = entry.get(key)
        if raw:
            parsed = parse_published(raw, now)
            if parsed is not None:
                return parsed
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        struct = entry.get(key)
        if struct:
            try:
                return datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc)
            except (OverflowError, ValueError, OSError):
                continue
    return None


class FeedSpider(SourceSpider):
    """One feed URL per source. Config: ``encoding``, ``max_items`` (50), ``obey_robots``."""

    name = "rss"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(
            self.source_url, callback=self.parse, errback=self.start_failed, dont_filter=True, meta=dict(self.request_meta)
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[MentionItem]:
        if self.refused(response):
            return
        # feedparser reads the bytes; the charset our EncodingMiddleware decided is passed
        # as the HTTP header, which feedparser prefers over the XML prolog (RFC 3023).
        encoding = encoding_info(response).get("encoding") or getattr(response, "encoding", None)
        headers = {"content-location": response.url}
        if encoding:
            headers["content-type"] = f"application/xml; charset={encoding}"
        feed = feedparser.parse(response.body, response_headers=headers)
        if not feed.get("version") and not feed.entries:
            problem = feed.get("bozo_exception")
            detail = f"（{type(problem).__name__}：{problem}）" if problem else ""
            self.fail(f"不是有效的 RSS/Atom 订阅：{response.url}{detail}")
            return
        feed_title = clean_text(html_to_text(feed.feed.get("title", "")), keep_newlines=False)
        for entry in feed.entries[: self.max_items]:
            link = entry.get("link") or ""
            if not link and str(entry.get("id", "")).startswith(("http://", "https://")):
                link = entry["id"]
            yield MentionItem(
                url=response.urljoin(link) if link else "",
                title=clean_text(html_to_text(entry.get("title", "")), keep_newlines=False),
                text=clean_text(html_to_text(_entry_text(entry))),
                author=clean_text(entry.get("author", ""), keep_newlines=False),
                published_at=_entry_published(entry, self.crawl_started),
                source_key=self.source_key,
                extra={
                    "feed_title": feed_title,
                    "feed_version": feed.get("version", ""),
                    "guid": str(entry.get("id", "")),
                    "encoding": encoding_info(response),
                },
            )
