"""What every source spider shares: the source definition as spider arguments,
configuration look-up, and turning download failures into clear Chinese reasons."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_error
from twisted.python.failure import Failure

from ..antibot import BLOCKED_PREFIX, page_block_reason, status_block_reason
from ..canonical import canonical_url

#: crawl-stats keys shared by spiders, pipelines and the worker
FATAL_ERROR_KEY = "rcops/fatal_error"
REASON_PREFIX = "rcops/reason/"
#: reasons worth an operator's attention; summarised in ``CrawlRun.error`` of an ok run
PROBLEM_PREFIX = "rcops/problem/"
#: links of detail pages already stored, skipped without fetching them (incremental crawling)
KNOWN_REASON = "已入库，未重复抓取"


def config_value(config: dict[str, Any], path: str, default: Any = None) -> Any:
    """``config["list"]["link"]`` for ``path="list.link"``; a flat ``"list.link"`` key works too."""
    if path in config:
        return config[path]
    node: Any = config
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def describe_failure(failure: Failure, url: str, timeout: float | None) -> str:
    """A clear, Chinese reason for a failed download of ``url``."""
    if failure.check(HttpError):
        status = failure.value.response.status
        return status_block_reason(status, url) or f"信息源返回 HTTP {status}：{url}"
    if failure.check(
        DownloadTimeoutError, twisted_error.TimeoutError, twisted_error.TCPTimedOutError
    ):
        return f"下载超时（{timeout:g} 秒）：{url}" if timeout else f"下载超时：{url}"
    if failure.check(DownloadConnectionRefusedError, twisted_error.ConnectionRefusedError):
        return f"连接被拒绝（信息源未在服务或地址有误）：{url}"
    if failure.check(CannotResolveHostError, twisted_error.DNSLookupError):
        return f"无法解析域名：{url}"
    if failure.check(IgnoreRequest):
        return f"请求被忽略（robots.txt 禁止抓取或被过滤）：{url}"
    exc = failure.value
    return f"下载失败（{type(exc).__name__}：{exc}）：{url}"


class SourceSpider(scrapy.Spider):
    """Base of the source spiders. Arguments: ``source_key``, ``url``, ``config``."""

    name = "source"

    def __init__(
        self,
        source_key: str = "",
        url: str = "",
        config: dict[str, Any] | None = None,
        known_urls: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        #: canonical URLs already stored for this source: their detail pages are not fetched again
        self.known_urls: frozenset[str] = frozenset(known_urls or ())
        if not url:
            raise ValueError("信息源缺少 url")
        self.source_key = source_key
        self.source_url = url
        self.config: dict[str, Any] = dict(config or {})
        #: read by EncodingMiddleware: a per-source encoding wins over everything
        self.encoding_override: str | None = self.config.get("encoding") or None
        self.max_items = int(self.cfg("max_items", 50))
        self.max_pages = int(self.cfg("max_pages", 1))
        #: meta for every request; ``obey_robots: false`` skips robots.txt for this source only
        self.request_meta: dict[str, Any] = {} if self.cfg("obey_robots", True) else {"dont_obey_robotstxt": True}
        self.crawl_started = datetime.now(timezone.utc)

    def is_known(self, url: str) -> bool:
        """Whether ``url`` is already stored for this source; counted, so the run shows it."""
        if canonical_url(url) not in self.known_urls:
            return False
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(REASON_PREFIX + KNOWN_REASON)
        return True

    def cfg(self, path: str, default: Any = None) -> Any:
        return config_value(self.config, path, default)

    # --- outcome bookkeeping (in the crawl stats, read by the worker)

    def _timeout_of(self, failure: Failure) -> float | None:
        request = getattr(failure, "request", None)
        timeout = request.meta.get("download_timeout") if request is not None else None
        if timeout is None and self.crawler is not None:
            timeout = self.crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        return timeout

    def fail(self, reason: str) -> None:
        """The crawl failed as a whole (start URL unusable); the worker records ``reason``."""
        self.logger.error(reason)
        if self.crawler.stats is not None and not self.crawler.stats.get_value(FATAL_ERROR_KEY):
            self.crawler.stats.set_value(FATAL_ERROR_KEY, reason)

    def note(self, reason: str, count: int = 1) -> None:
        """Count a non-fatal problem (a detail page that failed, a list page without links …)."""
        self.logger.warning(reason)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(REASON_PREFIX + reason, count)
            self.crawler.stats.inc_value(PROBLEM_PREFIX + reason, count)

    def refused(self, response: Any, start: bool = True) -> bool:
        """Whether ``response`` is a login wall, captcha or anti-bot screen (see ``antibot``).
        On the start page the crawl fails with the reason; on a later page it is counted."""
        redirects = response.meta.get("redirect_urls") or []
        is_html = b"<html" in response.body[:2048].lower() or b"text/html" in (
            response.headers.get(b"Content-Type") or b""
        ).lower()
        text = response.text if is_html and hasattr(response, "text") else ""
        reason = page_block_reason(response.url, text, redirects[0] if redirects else None)
        if reason is None:
            return False
        if start:
            self.fail(reason)
        else:
            self.note(BLOCKED_PREFIX + "页面是验证或登录页")
        return True

    def start_failed(self, failure: Failure) -> None:
        """Errback of the start request: the whole crawl fails with a clear reason."""
        self.fail(describe_failure(failure, failure.request.url, self._timeout_of(failure)))  # type: ignore[attr-defined]

    def page_failed(self, failure: Failure) -> None:
        """Errback of later requests: counted, the crawl goes on."""
        url = failure.request.url  # type: ignore[attr-defined]
        reason = describe_failure(failure, url, self._timeout_of(failure))
        # the reason without the URL, so equal failures are counted together
        self.note("页面下载失败：" + reason.rsplit("：", 1)[0])
