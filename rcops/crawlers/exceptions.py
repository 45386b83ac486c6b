"""Errors raised by the crawlers package.

CrawlerError (base)
 ├── SourceConfigError   a source or monitoring-scheme definition is invalid
 │                       (names the entry and the field, says what is wrong)
 ├── UnknownSourceError  no source with the given key exists
 ├── CrawlRunNotFound    no crawl run with the given id exists (worker)
 └── CrawlFailed         a crawl could not be done at all (start URL answered
                         non-2xx, timed out, refused the connection, was no feed…);
                         the message is what ends up in ``CrawlRun.error``

Messages are in Chinese, precise about what was wrong and how to fix it.
"""

from __future__ import annotations


class CrawlerError(Exception):
    """Base class of every crawler error."""


class SourceConfigError(CrawlerError, ValueError):
    """A source or scheme definition (YAML or dict) is invalid."""


class UnknownSourceError(CrawlerError, LookupError):
    """No source with this key is configured."""


class CrawlRunNotFound(CrawlerError, LookupError):
    """No crawl run with this id exists."""


class CrawlFailed(CrawlerError):
    """The crawl of a source failed as a whole; the message is the reason shown to operators."""


__all__ = [
    "CrawlerError",
    "SourceConfigError",
    "UnknownSourceError",
    "CrawlRunNotFound",
    "CrawlFailed",
]
