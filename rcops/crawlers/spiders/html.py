"""``ListDetailSpider`` (kind ``html``): a list page of links, one detail page per item.

Config (``Source.config``)::

    list:   {link: <selector of detail links>, next: <selector of the next list page, optional>}
    detail: {title: <sel>, body: <sel>, published_at: <sel, optional>, author: <sel, optional>}
            # optional: without title and body selectors the article is extracted
            # automatically (rcops.crawlers.extract: trafilatura + our title/time layer);
            # selectors that are given still win for their field
    max_items: 50        # new detail pages per run (links already stored are skipped unfetched,
                         # so pinned or old items do not use up the budget)
    max_pages: 1         # list pages per run (following list.next): ends endless pagination
    encoding: gbk        # optional override
    obey_robots: true

Selectors starting with ``/`` or ``(`` are XPath, all others CSS. A selector may
select elements (their text, or for links their ``href``) or strings
(``a::attr(href)``, ``//h1/text()``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from parsel import Selector, SelectorList
from scrapy.http import Response

from ..items import MentionItem
from ..extract import extract_article
from ..textutil import clean_text
from ..middlewares import encoding_info
from ..timeparse import find_published
from .base import SourceSpider

_TEXT_NODES = ".//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"
#: names of the required detail elements, as operators read them in drop reasons
REQUIRED_DETAIL = (("title", "标题"), ("body", "正文"))


def is_xpath(selector: str) -> bool:
    return selector.lstrip().startswith(("/", "("))


def select(node: Response | Selector, selector: str) -> SelectorList[Selector]:
    """CSS or XPath, by the selector's first character."""
    return node.xpath(selector) if is_xpath(selector) else node.css(selector)


def _is_element(sel: Selector) -> bool:
    return not isinstance(sel.root, str)


def texts(node: Response | Selector, selector: str | None) -> list[str]:
    """Stripped, non-empty text pieces of everything ``selector`` selects."""
    if not selector:
        return []
    pieces: list[str] = []
    for sel in select(node, selector):
        values = sel.xpath(_TEXT_NODES).getall() if _is_element(sel) else [sel.get()]
        pieces.extend(v.strip() for v in values if v and v.strip())
    return pieces


def links(node: Response | Selector, selector: str) -> list[str]:
    """``href``s (or selected strings) of what ``selector`` selects, in page order."""
    found: list[str] = []
    for sel in select(node, selector):
        if _is_element(sel):
            href = sel.attrib.get("href") or sel.xpath(".//a/@href").get()
        else:
            href = sel.get()
        if href and href.strip():
            found.append(href.strip())
    return found


class ListDetailSpider(SourceSpider):
    """List page → detail pages, everything site-specific from the source's config."""

    name = "html"
    #: False for kinds that find detail pages otherwise (sitemaps)
    needs_list_selector = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.link_selector: str = self.cfg("list.link") or ""
        self.next_selector: str | None = self.cfg("list.next") or None
        self.detail_selectors: dict[str, str | None] = {
            name: self.cfg(f"detail.{name}") or None
            for name in ("title", "body", "published_at", "author")
        }
        if not self.link_selector and self.needs_list_selector:
            raise ValueError("html 信息源的 config 需要 list.link")
        #: no title/body selectors: extract the article automatically
        self.auto_extract = not (self.detail_selectors["title"] and self.detail_selectors["body"])
        self.scheduled: set[str] = set()

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(
            self.source_url,
            callback=self.parse,
            errback=self.start_failed,
            dont_filter=True,
            meta=dict(self.request_meta),
            cb_kwargs={"page": 1},
        )

    def parse(self, response: Response, page: int = 1, **kwargs: Any) -> Iterator[scrapy.Request]:
        if self.refused(response, start=page == 1):
            return
        found = links(response, self.link_selector)
        if not found:
            self.note(f"列表页未找到详情链接（选择器 {self.link_selector}）")
        for href in found:
            if len(self.scheduled) >= self.max_items:
                return
            url = response.urljoin(href)
            if not url.startswith(("http://", "https://")) or url in self.scheduled:
                continue
            if self.is_known(url):  # old or pinned: not fetched again, not counted in max_items
                continue
            self.scheduled.add(url)
            yield self.detail_request(url)
        if self.next_selector and page < self.max_pages and len(self.scheduled) < self.max_items:
            next_links = links(response, self.next_selector)
            if next_links:
                yield scrapy.Request(
                    response.urljoin(next_links[0]),
                    callback=self.parse,
                    errback=self.page_failed,
                    cb_kwargs={"page": page + 1},
                    meta=dict(self.request_meta),
                )

    def detail_request(self, url: str, **meta: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_detail, errback=self.page_failed, meta={**self.request_meta, **meta})

    def parse_detail(self, response: Response, **kwargs: Any) -> Iterator[MentionItem]:
        if self.refused(response, start=False):
            return
        title = clean_text(" ".join(texts(response, self.detail_selectors["title"])), keep_newlines=False)
        body = clean_text("\n".join(texts(response, self.detail_selectors["body"])))
        published_raw = " ".join(texts(response, self.detail_selectors["published_at"]))
        author = clean_text(" ".join(texts(response, self.detail_selectors["author"])), keep_newlines=False)
        published_at = find_published(published_raw.strip(), self.crawl_started) if published_raw else None
        extra: dict[str, Any] = {"encoding": encoding_info(response)}
        if self.auto_extract:
            article = extract_article(response.text, response.url, self.crawl_started)
            title = title or article.title
            body = body or article.text
            author = author or article.author
            if published_at is None and article.published_at is not None:
                published_at, published_raw = article.published_at, article.published_raw
            extra["extracted"] = "auto"
        hint = response.meta.get("rcops_hint") or {}  # what a sitemap said about the page
        title = title or hint.get("title") or ""
        if published_at is None and hint.get("published_at") is not None:
            published_at, published_raw = hint["published_at"], hint.get("published_raw", "")
        values = {"title": title, "body": body}
        missing = [label for key, label in REQUIRED_DETAIL if not values[key]]
        if missing:
            extra["missing"] = missing
        if published_raw:
            extra["published_raw"] = published_raw[:100]
        yield MentionItem(
            url=response.url,
            title=title,
            text=body,
            author=author[:200],
            published_at=published_at,
            source_key=self.source_key,
            extra=extra,
        )
