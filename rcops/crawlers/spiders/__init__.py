"""Spiders, one per *kind* of source; a new site is a Source row, never a new class.

:data:`SPIDERS` is the one registry of source kinds (``Source.kind`` → spider class).
Every spider takes the source definition as spider arguments:
``source_key``, ``url`` and ``config`` (the Source's ``config`` dict).
"""

from __future__ import annotations

from .base import SourceSpider
from .html import ListDetailSpider
from .rss import FeedSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    FeedSpider.name: FeedSpider,
    ListDetailSpider.name: ListDetailSpider,
}

__all__ = ["SPIDERS", "SourceSpider", "FeedSpider", "ListDetailSpider"]
