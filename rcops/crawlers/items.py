"""Items produced by the spiders.

A spider only fills the first block of fields (what it read from the page);
the item pipelines fill the rest (masking count, matched words, canonical URL
and content hash) on their way to the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class MentionItem:
    url: str
    title: str
    text: str
    author: str = ""
    #: aware UTC datetime, or None when the source gives no (parsable) time
    published_at: datetime | None = None
    reach: int = 0
    source_key: str = ""
    #: spider-specific extras; ``extra["missing"]`` lists selected elements a detail page lacked
    extra: dict[str, Any] = field(default_factory=dict)

    # --- filled by the pipelines
    masked_count: int = 0
    matched: dict[str, Any] = field(default_factory=dict)
    canonical_url: str = ""
    content_hash: str = ""
    #: story key of an already stored mention with the same text at another URL (an exact repost)
    repost_of: str | None = None


__all__ = ["MentionItem"]
