"""Recognising login walls, captchas and anti-bot answers (反爬/登录墙), so that a blocked
source fails with a reason an operator understands instead of "storing nothing" or looping.

Three shapes are recognised:

* an HTTP answer that refuses (401, 403, 429, 451) — :func:`status_block_reason`;
* a redirect to, or a short page of, a verification or login screen (``/captcha``,
  ``/verify``, ``安全验证``, ``请输入验证码``, ``请登录`` …) — :func:`page_block_reason`;
* an API answering an error code instead of data (see ``spiders/api.py``).

Every such reason starts with :data:`BLOCKED_PREFIX`; source health shows the source as
``被拦截``, :func:`backoff_seconds` says how long the scheduler waits before trying again,
and :mod:`.alerts` keeps the back-off and tells an operator.
Imports no Scrapy.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

BLOCKED_PREFIX = "疑似被拦截："
BLOCKING_STATUSES = {401: "需要登录", 403: "拒绝访问", 429: "访问过于频繁", 451: "因法律原因不可访问"}
_URL_MARKERS = re.compile(r"captcha|verif|/login|/signin|passport|security-check|antispider|waf", re.IGNORECASE)
_PAGE_MARKERS = re.compile(
    r"安全验证|人机验证|滑块验证|请输入验证码|请完成验证|访问验证|验证后继续|访问过于频繁|请求过于频繁|"
    r"请登录后|登录后查看|请先登录|扫码登录|captcha|are you a robot|access denied|verify you are human",
    re.IGNORECASE,
)
#: a verification or login screen is short (or says so in its <title>); a longer page
#: mentioning 验证码 is an article about it
SHORT_PAGE_CHARS = 600
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.S | re.I)
_TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S | re.I)
#: back-off of a blocked source: at least this long after the first refusal …
MIN_BACKOFF_SECONDS = 15 * 60
#: … doubled per refusal in a row, at most this long
MAX_BACKOFF_SECONDS = 6 * 3600


def status_block_reason(status: int, url: str) -> str | None:
    what = BLOCKING_STATUSES.get(status)
    if what is None:
        return None
    return f"{BLOCKED_PREFIX}信息源返回 HTTP {status}（{what}，可能需要登录或触发了反爬）：{url}"


def page_block_reason(url: str, text: str, requested_url: str | None = None) -> str | None:
    """A reason when the page at ``url`` (reached from ``requested_url``) is a verification
    or login screen: a redirect to such an address, or a short page that says so."""
    redirected = requested_url is not None and urlsplit(requested_url)[:3] != urlsplit(url)[:3]
    if redirected and _URL_MARKERS.search(urlsplit(url).path + "?" + urlsplit(url).query):
        return f"{BLOCKED_PREFIX}被重定向到验证或登录页面：{url}"
    title = _TITLE.search(text or "")
    found = _PAGE_MARKERS.search(title.group(1)) if title else None
    if found is None:
        visible = " ".join(_TAGS.sub(" ", text or "").split())
        found = _PAGE_MARKERS.search(visible) if len(visible) <= SHORT_PAGE_CHARS else None
    if found is not None:
        return f"{BLOCKED_PREFIX}页面是验证或登录页（“{found.group(0)}”）：{url}"
    return None


def is_blocked_reason(reason: str | None) -> bool:
    return bool(reason) and reason.startswith(BLOCKED_PREFIX)  # type: ignore[union-attr]


def backoff_seconds(interval_seconds: int, consecutive_blocks: int) -> int:
    """How long the scheduler waits before crawling a blocked source again: its interval, at
    least :data:`MIN_BACKOFF_SECONDS`, doubled for every refusal in a row after the first, at
    most :data:`MAX_BACKOFF_SECONDS` (interval 10 min: 15 min, 30 min, 1 h … 6 h).
    No refusal: no back-off (0)."""
    if consecutive_blocks <= 0:
        return 0
    base = max(int(interval_seconds), MIN_BACKOFF_SECONDS)
    return int(min(base * 2 ** min(consecutive_blocks - 1, 20), MAX_BACKOFF_SECONDS))


__all__ = [
    "BLOCKED_PREFIX",
    "status_block_reason",
    "page_block_reason",
    "is_blocked_reason",
    "backoff_seconds",
]
