"""Spiders, one per *kind* of source; a new site is a Source row, never a new class.

:data:`SPIDERS` is the one registry of source kinds (``Source.kind`` → spider class).
Every spider takes the source definition as spider arguments:
``source_key``, ``url`` and ``config`` (the Source's ``config`` dict).
"""

from __future__ import annotations

from .api import JsonApiSpider
from .base import SourceSpider
from .html import ListDetailSpider
from .rss import FeedSpider
from .sitemap import SitemapSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    FeedSpider.name: FeedSpider,
    ListDetailSpider.name: ListDetailSpider,
    JsonApiSpider.name: JsonApiSpider,
    SitemapSpider.name: SitemapSpider,
}

__all__ = ["SPIDERS", "SourceSpider", "FeedSpider", "ListDetailSpider", "JsonApiSpider", "SitemapSpider"]
