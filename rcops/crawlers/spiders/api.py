"""``JsonApiSpider`` (kind ``json``): a JSON API answering a list of items, one path
expression per field.

Config (``Source.config``)::

    items: data.list                 # path to the array of items ("" or "$": the answer is the array)
    fields:                          # path inside one item, per field
      title: title                   # title or text is required
      text: content
      url: share_url                 # or url_template
      published_at: publish_time     # any form of timeparse, epoch seconds/milliseconds too
      author: user.name
      reach: stats.forward_count
    url_template: "https://example.org/a/{id}"   # optional: the link, from item fields
    next: data.next_url              # optional: path to the next page's URL (max_pages)
    max_items: 50
    max_pages: 1

Paths are dot-separated keys with ``[n]`` or ``.n`` indexes (``data.items[0].title``);
a leading ``$.`` is allowed. An answer whose items path is missing fails the crawl;
with an error code or message instead of data (typical of anti-bot answers) it is
recognised as a refusal (``疑似被拦截：…``, see ``rcops.crawlers.antibot``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from ..antibot import BLOCKED_PREFIX
from ..items import MentionItem
from ..jsonpath import MISSING, compile_path, get_path
from ..middlewares import encoding_info
from ..textutil import clean_text, html_to_text
from ..timeparse import parse_published
from .base import SourceSpider

#: keys where APIs put their error code and message
_CODE_KEYS = ("code", "errcode", "error_code", "status", "ret")
_MESSAGE_KEYS = ("message", "msg", "errmsg", "error", "error_msg")


def _text(value: Any) -> str:
    if value is MISSING or value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\n".join(_text(v) for v in value)
    return str(value)


def _refusal(data: Any) -> str:
    """The API's own code and message, when the answer has them."""
    if not isinstance(data, dict):
        return ""
    parts = [f"{k}={data[k]}" for k in _CODE_KEYS if k in data] + [f"{data[k]}" for k in _MESSAGE_KEYS if data.get(k)]
    return "，".join(str(p) for p in parts)[:200]


class JsonApiSpider(SourceSpider):
    """A JSON API, everything site-specific (paths) from the source's config."""

    name = "json"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items_path = compile_path(self.cfg("items", "") or "")
        fields = self.cfg("fields") or {}
        self.fields = {name: compile_path(path) for name, path in fields.items() if path}
        if "title" not in self.fields and "text" not in self.fields:
            raise ValueError("json 信息源的 config.fields 至少需要 title 或 text")
        self.url_template: str | None = self.cfg("url_template") or None
        self.next_path = compile_path(self.cfg("next")) if self.cfg("next") else None
        self.seen = 0

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(
            self.source_url, callback=self.parse, errback=self.start_failed, dont_filter=True,
            meta=dict(self.request_meta), cb_kwargs={"page": 1},
        )

    def _url(self, entry: Any, response: Response) -> str:
        link = _text(get_path(entry, self.fields["url"])) if "url" in self.fields else ""
        if not link and self.url_template and isinstance(entry, dict):
            try:
                link = self.url_template.format(**entry)
            except (KeyError, IndexError, ValueError):
                link = ""
        return response.urljoin(link) if link else ""

    def parse(self, response: Response, page: int = 1, **kwargs: Any) -> Iterator[Any]:
        try:
            data = json.loads(response.text)
        except (ValueError, AttributeError) as exc:
            message = f"接口返回的不是 JSON：{response.url}（{exc}）"
            if page == 1:
                self.fail(message)
            else:
                self.note("接口分页返回的不是 JSON")
            return
        entries = get_path(data, self.items_path)
        if not isinstance(entries, list):
            refusal = _refusal(data)
            reason = f"接口返回中没有信息列表（路径 {self.cfg('items') or '$'}）" + (f"，返回：{refusal}" if refusal else "")
            if refusal:  # an error code instead of data: the API refuses us
                reason = BLOCKED_PREFIX + reason
            if page == 1:
                self.fail(f"{reason}：{response.url}")
            else:
                self.note(reason)
            return
        for entry in entries:
            if self.seen >= self.max_items:
                return
            self.seen += 1
            value = {name: get_path(entry, path) for name, path in self.fields.items()}
            published_raw = _text(value.get("published_at"))
            reach_raw = value.get("reach")
            try:
                reach = max(int(float(_text(reach_raw))), 0) if _text(reach_raw) else 0
            except ValueError:
                reach = 0
            yield MentionItem(
                url=self._url(entry, response),
                title=clean_text(html_to_text(_text(value.get("title"))), keep_newlines=False),
                text=clean_text(html_to_text(_text(value.get("text")))),
                author=clean_text(_text(value.get("author")), keep_newlines=False)[:200],
                published_at=parse_published(published_raw, self.crawl_started) if published_raw else None,
                reach=reach,
                source_key=self.source_key,
                extra={"encoding": encoding_info(response), "published_raw": published_raw[:100]},
            )
        if self.next_path is not None and page < self.max_pages and self.seen < self.max_items:
            next_url = _text(get_path(data, self.next_path))
            if next_url:
                yield scrapy.Request(
                    response.urljoin(next_url), callback=self.parse, errback=self.page_failed,
                    meta=dict(self.request_meta), cb_kwargs={"page": page + 1},
                )


__all__ = ["JsonApiSpider"]
