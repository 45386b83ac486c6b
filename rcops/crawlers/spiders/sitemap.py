"""``SitemapSpider`` (kind ``sitemap``): the pages a site lists in its sitemap (or sitemap
index), newest first by ``<lastmod>``, each parsed like a detail page of ``html``.

Config (``Source.config``)::

    url_pattern: "/(news|article)/"   # optional regular expression the page URLs must match
    detail: {title: h1, body: .content}   # optional: without, the article is extracted automatically
    max_items: 50                     # pages per run
    max_pages: 3                      # sitemaps read per run (an index and its children)

Google News sitemaps (``<news:title>``, ``<news:publication_date>``) give the title
and publish time when the page itself does not.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from typing import Any

import scrapy
from lxml import etree
from scrapy.http import Response

from ..timeparse import parse_published
from .html import ListDetailSpider

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(node: Any, name: str) -> str:
    for child in node.iter():
        if _local(child.tag) == name and child.text:
            return child.text.strip()
    return ""


class SitemapSpider(ListDetailSpider):
    name = "sitemap"
    needs_list_selector = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pattern = self.cfg("url_pattern")
        self.url_pattern = re.compile(pattern) if pattern else None
        #: sitemaps requested so far (the start URL is the first), at most max_pages
        self.sitemaps_requested = 1

    def parse(self, response: Response, page: int = 1, **kwargs: Any) -> Iterator[scrapy.Request]:
        if self.refused(response, start=page == 1):
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gzip.decompress(body)
            except OSError:
                self.note("站点地图 gzip 解压失败")
                return
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            root = None
        if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
            if page == 1:
                self.fail(f"不是有效的站点地图（sitemap）：{response.url}")
            else:
                self.note("子站点地图无效")
            return
        if _local(root.tag) == "sitemapindex":
            children = [(_child_text(s, "lastmod"), _child_text(s, "loc")) for s in root if _local(s.tag) == "sitemap"]
            for _lastmod, loc in sorted(children, reverse=True):
                if self.sitemaps_requested >= self.max_pages:
                    break
                if not loc:
                    continue
                self.sitemaps_requested += 1
                yield scrapy.Request(response.urljoin(loc), callback=self.parse, errback=self.page_failed,
                                     meta=dict(self.request_meta), cb_kwargs={"page": page + 1})
            return
        pages = []
        for node in root:
            if _local(node.tag) != "url":
                continue
            loc = _child_text(node, "loc")
            if not loc or (self.url_pattern is not None and not self.url_pattern.search(loc)):
                continue
            pages.append((_child_text(node, "lastmod") or _child_text(node, "publication_date"), loc, node))
        pages.sort(key=lambda p: p[0], reverse=True)  # ISO dates sort as text; undated last
        for _lastmod, loc, node in pages:
            if len(self.scheduled) >= self.max_items:
                return
            url = response.urljoin(loc)
            if not url.startswith(("http://", "https://")) or url in self.scheduled or self.is_known(url):
                continue
            self.scheduled.add(url)
            raw = _child_text(node, "publication_date")
            hint = {"title": _child_text(node, "title"), "published_raw": raw,
                    "published_at": parse_published(raw, self.crawl_started) if raw else None}
            yield self.detail_request(url, rcops_hint=hint)


__all__ = ["SitemapSpider"]
