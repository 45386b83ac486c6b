"""Downloader middlewares.

``EncodingMiddleware`` decides how a page is decoded, from the bytes, the
``<meta>``/XML prolog and the ``Content-Type`` header together, because Chinese
sites lie in every one of those places:

1. a per-source ``encoding`` override (``Source.config["encoding"]``) wins;
2. a byte-order mark wins next;
3. a body that is valid UTF-8 is UTF-8, whatever the page claims
   (pages re-saved as UTF-8 that still say ``gb2312``);
4. a declared GB2312/GBK/GB18030 charset (header or meta) is decoded as
   GB18030, its superset, when the bytes allow it;
5. otherwise charset-normalizer guesses; a GB-family guess becomes GB18030;
6. then any other declared charset the bytes decode with;
7. last resort GB18030 with replacement characters.

The number of U+FFFD replacement characters in the decoded text is counted
(``rcops/replacement_chars`` in the crawl stats), and pages with at least
``GARBLED_PAGE_MIN_CHARS`` of them as mis-decoded (``rcops/garbled_pages``):
the health signal behind the ``乱码`` flag (see ``rcops.crawlers.health``).
"""

from __future__ import annotations

import codecs
import logging
from typing import TYPE_CHECKING, Any

from charset_normalizer import from_bytes
from scrapy.http import Request, Response, TextResponse
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from .health import GARBLED_PAGE_MIN_CHARS

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "euc_cn", "hz", "x-gbk", "csgb2312", "gb_2312-80"}
UTF8_NAMES = {"utf-8", "utf8", "utf_8"}


def normalize_encoding(name: str | None) -> str | None:
    """A Python codec name for ``name``; every GB-family name becomes ``gb18030``."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in GB_FAMILY:
        return "gb18030"
    resolved = resolve_encoding(name)
    if not resolved:
        return None
    try:
        resolved = codecs.lookup(resolved).name
    except LookupError:
        return None
    if resolved in GB_FAMILY:
        return "gb18030"
    return resolved


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def decide_encoding(
    body: bytes,
    content_type: str | None = None,
    override: str | None = None,
) -> tuple[str, str]:
    """(codec name, why) for ``body``: see the module docstring for the order of evidence."""
    forced = normalize_encoding(override)
    if forced:
        return forced, "override"
    bom_encoding, _bom = read_bom(body)
    if bom_encoding:
        return normalize_encoding(bom_encoding) or "utf-8", "bom"
    if _decodes(body, "utf-8"):
        return "utf-8", "valid-utf8"
    header = normalize_encoding(http_content_type_encoding(content_type)) if content_type else None
    meta = normalize_encoding(html_body_declared_encoding(body))
    declared = [enc for enc in (header, meta) if enc]
    if "gb18030" in declared and _decodes(body, "gb18030"):
        return "gb18030", "declared-gb"
    best = from_bytes(body[:200_000]).best()
    detected = normalize_encoding(best.encoding) if best is not None else None
    if detected == "gb18030":
        return "gb18030", "detected-gb"
    for enc in declared:
        if enc not in UTF8_NAMES and _decodes(body, enc):
            return enc, "declared"
    if detected:
        return detected, "detected"
    return "gb18030", "fallback"


class EncodingMiddleware:
    """Re-decode HTML/XML/text responses by :func:`decide_encoding` (see module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingMiddleware:
        return cls(crawler)

    def _override(self) -> str | None:
        spider = self.crawler.spider
        return getattr(spider, "encoding_override", None) if spider is not None else None

    def process_response(self, request: Request, response: Response) -> Response:
        stats = self.crawler.stats
        # robots.txt requests of RobotsTxtMiddleware carry dont_obey_robotstxt
        is_robots = bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith("/robots.txt")
        if stats is not None and not is_robots and 200 <= response.status < 300:
            stats.inc_value("rcops/pages_fetched")
        if not isinstance(response, TextResponse) or not response.body or is_robots:
            return response
        content_type = response.headers.get(b"Content-Type")
        ctype = content_type.decode("latin-1") if content_type else None
        encoding, why = decide_encoding(response.body, ctype, self._override())
        new = response.replace(encoding=encoding)
        replacements = new.text.count("\ufffd")
        if stats is not None and replacements:
            stats.inc_value("rcops/replacement_chars", replacements)
            if replacements >= GARBLED_PAGE_MIN_CHARS:
                stats.inc_value("rcops/garbled_pages")
        if replacements:
            logger.warning("%s 以 %s 解码后含 %d 个替换字符（%s）", response.url, encoding, replacements, why)
        request.meta["rcops_encoding"] = {
            "encoding": encoding,
            "why": why,
            "replacement_chars": replacements,
        }
        return new


def encoding_info(response: Response) -> dict[str, Any]:
    """What :class:`EncodingMiddleware` decided for ``response`` (empty when it did not run)."""
    try:
        return dict(response.meta.get("rcops_encoding") or {})
    except AttributeError:  # a response not bound to a request
        return {}


__all__ = ["EncodingMiddleware", "decide_encoding", "normalize_encoding", "encoding_info"]
