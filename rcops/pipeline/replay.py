"""Replay site: a local stand-in for a live Chinese news site, used by ``make demo``.

It serves real public Chinese texts (the FinNSP **eval** split of BBT-FinCUGE — the
classifier trains on train splits only, so the demo grades texts it has never seen —
plus a few money-related SMP2020 Weibo posts) and releases one new item every
``release_seconds``, so the crawlers always find something new.

Channels (decided here, relied on by ``defaults/demo_sources.yaml``):

* **even ids** go to the RSS feed ``/feed.xml``; their detail pages are ``/feed/<id>.html``;
* **odd ids** go to the HTML list page ``/news/``; their detail pages are ``/news/<id>.html``.

So the two demo sources never see the same URL. An id asked for under the other
channel's prefix is a 404, like an unreleased or unknown id.

Every 4th detail page *of each channel* (the 4th, 8th, … item of that channel, i.e.
ids 7, 15, 23, … on the list and 8, 16, 24, … on the feed) is served GBK-encoded with
``<meta charset="gbk">`` and a ``Content-Type: text/html`` header without a charset,
as old Chinese CMSes do.

HTML structure (selectors used by the demo sources)::

    list page   ul.news-list > li > a[href=/news/<id>.html]  +  span.date "YYYY-MM-DD HH:MM"
    detail page h1.title
                div.meta > span.time "YYYY-MM-DD HH:MM:SS"  span.author "来源：…"
                div.article > p (one per paragraph, plain text)

Times are stored in UTC and shown in Asia/Shanghai; the RSS ``pubDate`` is RFC 822 (GMT).

Run it alone with ``python -m rcops.pipeline.replay [--port N] [--release-seconds S]``.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import math
import re
import signal
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

#: Seed set shipped in the repo; the fallback when the shared data folder is absent.
SEED_FILE: Path = Path(__file__).resolve().parents[1] / "classifier" / "seed" / "seed_mentions.jsonl"

#: FinNSP eval split, relative to ``shared_data_dir``.
FINNSP_EVAL = Path("fincuge_finance_sentiment") / "finnsp_eval.json"
#: SMP2020 Weibo posts (labelled test split), relative to ``shared_data_dir``.
SMP2020_TEST = Path("smp2020_ewect_weibo") / "usual_test_labeled.json"

#: A Weibo post is mixed in only when it mentions one of these (money / loans / banks).
SOCIAL_KEYWORDS: tuple[str, ...] = (
    "贷款", "网贷", "借贷", "银行", "信用卡", "催收", "逾期", "征信", "理财",
    "花呗", "白条", "信用社", "存款", "利息",
)

SITE_NAME = "某县融媒体中心"
SECTION_NAME = "金融资讯"
FEED_SIZE = 30
LIST_SIZE = 20
MIN_TEXT_CHARS = 20
TITLE_MAX_CHARS = 30
#: A record title longer than this is a truncated post, not a headline: derive one instead.
RECORD_TITLE_MAX_CHARS = 40

try:
    from zoneinfo import ZoneInfo

    SHANGHAI: tzinfo = ZoneInfo("Asia/Shanghai")
except Exception:  # pragma: no cover - system without tz database
    SHANGHAI = timezone(timedelta(hours=8), "CST")


class ReplayDataError(RuntimeError):
    """No texts to replay (neither the shared data nor the seed set is available)."""


@dataclass(frozen=True)
class ReplayItem:
    """One text the replay site can publish."""

    title: str
    text: str
    #: Where the text comes from, e.g. ``"FinNSP eval #123"`` (index in the file).
    origin: str
    #: Shown as the source on the detail page: ``"新闻"`` or ``"社交媒体"``.
    channel: str = "新闻"
    #: Entities the text is about (FinNSP ``entity``); used to interleave.
    entities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Release:
    """An item published by the site under a sequential id."""

    id: int
    item: ReplayItem
    released_at: datetime  # UTC

    @property
    def channel(self) -> str:
        return "feed" if self.id % 2 == 0 else "news"

    @property
    def path(self) -> str:
        return f"/{self.channel}/{self.id}.html"

    @property
    def gbk(self) -> bool:
        """Every 4th detail page of each channel is GBK-encoded."""
        return ((self.id + 1) // 2) % 4 == 0


# --------------------------------------------------------------------------- texts

_QMARK_RUN = re.compile(r"\?{2,}")  # characters lost in the original GB2312 export
_IMG = re.compile(r"\{IMG:\d+\}")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_HASHTAG = re.compile(r"#[^#\n]{1,40}#")
_BRACKET_CODE = re.compile(r"\[[^\[\]]{1,8}\]")
_SHORT_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"(?://)?@[^\s:：@]{1,30}[:：]?")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_HEADLINE = re.compile(r"^【([^【】]{4,60})】")
_PARA_SPLIT = re.compile(r"\s*(?:\n|\u3000+|\s{2,})\s*")


def _clean_text(text: str) -> str:
    text = _CTRL.sub("", text)
    text = _IMG.sub("", text)
    text = _QMARK_RUN.sub("", text)
    text = re.sub(r"\s+\?$", "", text.rstrip())  # stray " ?" at the end of Weibo exports
    return text.strip().strip("\u3000").strip()


def _clean_title(title: str) -> str:
    title = _clean_text(title)
    title = _HASHTAG.sub("", title)
    title = _BRACKET_CODE.sub("", title)
    title = _SHORT_URL.sub("", title)
    title = _MENTION.sub("", title)
    title = re.sub(r"\s+", " ", title)
    return title.strip(" \u3000·:：，,、-—/")


def _shorten(s: str, limit: int = TITLE_MAX_CHARS) -> str:
    """``s`` cut to ``limit`` chars: at the last clause break when there is one, else with "…"."""
    if len(s) <= limit:
        return s
    head = s[:limit]
    cut = max(head.rfind(c) for c in "，,、：: ")
    if cut >= 10:
        return head[:cut].rstrip()
    return s[: limit - 1] + "…"


def _first_sentence(body: str) -> str:
    for part in _SENTENCE_END.split(body):
        part = part.strip(" \u3000·:：，,、-—/【】")
        if len(part) >= 4:
            return _shorten(part)
    return ""


def title_from_text(text: str) -> str:
    """A headline from a text: a leading 【…】 heading, else the first sentence (≤ 30 chars)."""
    cleaned = _clean_text(text)
    m = _HEADLINE.match(cleaned)
    if m:
        heading = _clean_title(m.group(1))
        if len(heading) > 6:  # a real headline, not a column name such as 【今日舆情】
            return _shorten(heading, RECORD_TITLE_MAX_CHARS)
        cleaned = cleaned[m.end():]
    title = _first_sentence(_clean_title(cleaned))
    if not title:  # a post made only of hashtags and @mentions: use the hashtag words
        loose = _MENTION.sub(" ", _BRACKET_CODE.sub("", _SHORT_URL.sub(" ", cleaned.replace("#", "。"))))
        title = _first_sentence(loose)
    return title or "无标题"


def _make_title(record_title: str, text: str) -> str:
    title = _clean_title(record_title or "")
    if title and len(title) <= RECORD_TITLE_MAX_CHARS:
        return title
    return title_from_text(text)


def interleave(items: Sequence[ReplayItem]) -> list[ReplayItem]:
    """Keep the order, but move items so neighbours are about different entities.

    Greedy: take the earliest waiting item that shares no entity with the previous
    one; when the largest entity group would otherwise pile up at the end, take
    from that group first. Items without entities never conflict.
    """
    pending = list(items)
    out: list[ReplayItem] = []

    def key(it: ReplayItem) -> frozenset[str]:
        return frozenset(it.entities)

    while pending:
        prev = key(out[-1]) if out else frozenset()
        candidates = [i for i, it in enumerate(pending) if not (key(it) & prev)]
        if not candidates:
            out.append(pending.pop(0))
            continue
        # Group sizes by each item's first entity; a group holding more than half of
        # what is left must be served now or it ends up as one block at the tail.
        counts: dict[str, int] = {}
        for it in pending:
            if it.entities:
                counts[it.entities[0]] = counts.get(it.entities[0], 0) + 1
        pick = candidates[0]
        if counts:
            big, size = max(counts.items(), key=lambda kv: kv[1])
            if size * 2 > len(pending) - 1:
                for i in candidates:
                    if pending[i].entities and pending[i].entities[0] == big:
                        pick = i
                        break
        out.append(pending.pop(pick))
    return out


def _load_finnsp(path: Path) -> list[ReplayItem]:
    records = json.loads(path.read_text(encoding="utf-8"))
    items: list[ReplayItem] = []
    for idx, rec in enumerate(records):
        if not isinstance(rec, list) or len(rec) < 6 or rec[4] not in ("0", "1"):
            continue  # malformed row or stray CSV header
        text = _clean_text(str(rec[2]))
        if len(text) < MIN_TEXT_CHARS:
            continue
        entities = tuple(e.strip() for e in str(rec[3]).split(";") if e.strip())
        items.append(
            ReplayItem(
                title=_make_title(str(rec[1]), text),
                text=text,
                origin=f"FinNSP eval #{idx}",
                entities=entities,
            )
        )
    return items


def _load_social(path: Path) -> list[ReplayItem]:
    posts = json.loads(path.read_text(encoding="utf-8"))
    seen: set[str] = set()
    items: list[ReplayItem] = []
    for post in posts:
        text = _clean_text(str(post.get("content", "")))
        if len(text) < MIN_TEXT_CHARS or text in seen:
            continue
        if not any(k in text for k in SOCIAL_KEYWORDS):
            continue
        seen.add(text)
        items.append(
            ReplayItem(
                title=title_from_text(text),
                text=text,
                origin=f"SMP2020 usual_test #{post.get('id')}",
                channel="社交媒体",
            )
        )
    return items


def _load_seed(path: Path) -> list[ReplayItem]:
    items: list[ReplayItem] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        rec = json.loads(line)
        text = _clean_text(str(rec.get("text", "")))
        if len(text) < MIN_TEXT_CHARS:
            continue
        items.append(
            ReplayItem(
                title=_make_title(str(rec.get("title", "")), text),
                text=text,
                origin=f"种子样本 #{n}",
                channel="社交媒体" if "社交" in str(rec.get("category", "")) else "新闻",
            )
        )
    return items


def _spread(main: list[ReplayItem], extra: list[ReplayItem]) -> list[ReplayItem]:
    """Insert ``extra`` evenly between the items of ``main``."""
    if not extra or not main:
        return main + extra
    step = len(main) / len(extra)
    out: list[ReplayItem] = []
    j = 0
    for i, it in enumerate(main):
        out.append(it)
        while j < len(extra) and (j + 1) * step <= i + 1:
            out.append(extra[j])
            j += 1
    out.extend(extra[j:])
    return out


def load_replay_items(shared_data_dir: Path, *, include_social: bool = True) -> list[ReplayItem]:
    """The texts to replay, in publishing order.

    FinNSP eval (interleaved by entity), with the money-related SMP2020 Weibo posts
    spread in as "社交媒体" items when ``include_social``. Without the shared data the
    seed set :data:`SEED_FILE` is used. Raises :class:`ReplayDataError` when neither exists.
    """
    shared = Path(shared_data_dir)
    finnsp = shared / FINNSP_EVAL
    if finnsp.is_file():
        items = interleave(_load_finnsp(finnsp))
        social = shared / SMP2020_TEST
        if include_social and social.is_file():
            items = _spread(items, _load_social(social))
        if items:
            return items
    if SEED_FILE.is_file():
        items = _load_seed(SEED_FILE)
        if items:
            log.warning("共享数据 %s 不可用，回放站改用种子样本 %s", finnsp, SEED_FILE)
            return items
    raise ReplayDataError(
        f"回放站没有可用的文本：共享数据文件 {finnsp} 不存在（请检查设置 RCOPS_SHARED_DATA_DIR），"
        f"仓库内的种子样本 {SEED_FILE} 也不存在或为空。"
    )


# --------------------------------------------------------------------------- pages

def _local(dt: datetime) -> datetime:
    return dt.astimezone(SHANGHAI)


def _esc(s: str) -> str:
    return html.escape(s, quote=True)


def split_paragraphs(text: str, max_chars: int = 240) -> list[str]:
    """Paragraphs of a text; overlong ones are cut after sentence ends."""
    paras: list[str] = []
    for block in _PARA_SPLIT.split(text):
        block = block.strip()
        if not block:
            continue
        if len(block) <= max_chars:
            paras.append(block)
            continue
        cur = ""
        for sentence in re.findall(r"[^。！？!?]*[。！？!?]+|[^。！？!?]+$", block):
            if cur and len(cur) + len(sentence) > max_chars:
                paras.append(cur)
                cur = ""
            cur += sentence
        if cur:
            paras.append(cur)
    return paras or [text]


_PAGE_HEAD = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="{charset}">
<title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:"Microsoft YaHei",SimSun,sans-serif;margin:0;background:#f4f4f4;color:#222}}
.header{{background:#b71c1c;color:#fff;padding:14px 24px;font-size:22px}}
.nav{{background:#8e1515;margin:0;padding:6px 24px;list-style:none}}
.nav li{{display:inline;margin-right:18px}}.nav a{{color:#fff;text-decoration:none}}
.main{{max-width:960px;margin:16px auto;background:#fff;padding:16px 28px}}
.news-list li{{line-height:2.1;border-bottom:1px dashed #ddd;list-style:square}}
.news-list .date{{float:right;color:#888}}
.meta{{color:#888;margin:8px 0 18px}}.article p{{text-indent:2em;line-height:1.9}}
.footer{{text-align:center;color:#888;font-size:12px;padding:18px}}
</style>
</head>
<body>
<div class="header">{site} · {section}</div>
<ul class="nav"><li><a href="/news/">首页</a></li><li><a href="/news/">金融资讯</a></li>\
<li><a href="/feed.xml">RSS订阅</a></li><li><a href="/status.json">站点状态</a></li></ul>
"""

_PAGE_FOOT = """<div class="footer">主办：{site} · 本站为演示回放站，内容来自公开研究数据集 · 备案号：演示-0000</div>
</body>
</html>
"""


def render_list_page(releases: Iterable[Release]) -> str:
    rows = []
    for r in releases:
        when = _local(r.released_at).strftime("%Y-%m-%d %H:%M")
        rows.append(
            f'<li><a href="{r.path}">{_esc(r.item.title)}</a><span class="date">{when}</span></li>'
        )
    body = "\n".join(rows) if rows else "<li>暂无信息</li>"
    return (
        _PAGE_HEAD.format(charset="utf-8", title=f"{SECTION_NAME} - {SITE_NAME}", site=SITE_NAME,
                          section=SECTION_NAME)
        + f'<div class="main">\n<h2 class="column">{SECTION_NAME}</h2>\n'
        + f'<ul class="news-list">\n{body}\n</ul>\n</div>\n'
        + _PAGE_FOOT.format(site=SITE_NAME)
    )


def render_detail_page(release: Release, charset: str = "utf-8") -> str:
    item = release.item
    when = _local(release.released_at).strftime("%Y-%m-%d %H:%M:%S")
    author = f"来源：{item.channel}（{item.origin}）"
    paras = "\n".join(f"<p>{_esc(p)}</p>" for p in split_paragraphs(item.text))
    return (
        _PAGE_HEAD.format(charset=charset, title=f"{_esc(item.title)} - {SITE_NAME}", site=SITE_NAME,
                          section=SECTION_NAME)
        + '<div class="main">\n'
        + f'<div class="crumb">当前位置：<a href="/news/">首页</a> &gt; {SECTION_NAME}</div>\n'
        + f'<h1 class="title">{_esc(item.title)}</h1>\n'
        + f'<div class="meta"><span class="time">{when}</span> <span class="author">{_esc(author)}</span></div>\n'
        + f'<div class="article">\n{paras}\n</div>\n'
        + '<div class="editor">责任编辑：回放站</div>\n</div>\n'
        + _PAGE_FOOT.format(site=SITE_NAME)
    )


def render_feed(releases: Iterable[Release], base_url: str, now: datetime) -> bytes:
    rss = ET.Element("rss", version="2.0")
    ch = ET.SubElement(rss, "channel")
    ET.SubElement(ch, "title").text = f"{SITE_NAME} · {SECTION_NAME}"
    ET.SubElement(ch, "link").text = f"{base_url}/news/"
    ET.SubElement(ch, "description").text = f"{SITE_NAME}{SECTION_NAME}频道最新稿件"
    ET.SubElement(ch, "language").text = "zh-cn"
    ET.SubElement(ch, "lastBuildDate").text = format_datetime(now, usegmt=True)
    for r in releases:
        el = ET.SubElement(ch, "item")
        ET.SubElement(el, "title").text = r.item.title
        ET.SubElement(el, "link").text = f"{base_url}{r.path}"
        ET.SubElement(el, "description").text = r.item.text
        ET.SubElement(el, "pubDate").text = format_datetime(r.released_at, usegmt=True)
        ET.SubElement(el, "guid", isPermaLink="true").text = f"{base_url}{r.path}"
    body: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


# --------------------------------------------------------------------------- server

_DETAIL = re.compile(r"^/(feed|news)/(\d+)\.html$")


class _Handler(BaseHTTPRequestHandler):
    server_version = "ReplaySite/1.0"
    site: ReplaySite  # set on the subclass made per site

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        try:
            status, ctype, body = self.site.respond(urlsplit(self.path).path)
        except Exception:  # pragma: no cover - keep serving
            log.exception("回放站处理请求 %s 出错", self.path)
            status, ctype, body = 500, "text/plain; charset=utf-8", "服务器内部错误".encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s - %s", self.address_string(), format % args)


class ReplaySite:
    """A local HTTP site that releases ``items`` over time (see the module doc)."""

    def __init__(
        self,
        items: Sequence[ReplayItem],
        host: str = "127.0.0.1",
        port: int = 8765,
        release_seconds: float = 3.0,
        initial_items: int = 12,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not items:
            raise ReplayDataError("回放站至少需要一条文本。")
        if release_seconds <= 0:
            raise ValueError("release_seconds 必须大于 0")
        self.items: list[ReplayItem] = list(items)
        self.host = host
        self.port = port
        self.release_seconds = float(release_seconds)
        self.initial_items = max(0, int(initial_items))
        self._clock = clock
        self._lock = threading.Lock()
        self._released: list[Release] = []
        self._start_clock: float | None = None
        self._start_wall: datetime | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> ReplaySite:
        if self._server is not None:
            return self
        handler = type("ReplayHandler", (_Handler,), {"site": self})
        server = ThreadingHTTPServer((self.host, self.port), handler)
        server.daemon_threads = True
        self._server = server
        self.port = int(server.server_address[1])
        with self._lock:
            self._start_clock = self._clock()
            self._start_wall = datetime.now(UTC)
            self._released = []
            self._catch_up()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="replay-site", daemon=True
        )
        self._thread.start()
        log.info("回放站已启动：%s（%d 条文本）", self.base_url, len(self.items))
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ReplaySite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- releases
    def _due_count(self) -> int:
        assert self._start_clock is not None
        elapsed = max(0.0, self._clock() - self._start_clock)
        return self.initial_items + math.floor(elapsed / self.release_seconds + 1e-9)

    def _catch_up(self) -> None:
        """Publish every item that is due (call with the lock held)."""
        assert self._start_wall is not None
        due = self._due_count()
        while len(self._released) < due:
            n = len(self._released)  # 0-based release number
            new_id = n + 1
            if n < self.initial_items:
                # initial items: spread back in time so the pages look lived-in
                offset = -(self.initial_items - n) * self.release_seconds
            else:
                offset = (n - self.initial_items + 1) * self.release_seconds
            self._released.append(
                Release(
                    id=new_id,
                    item=self.items[n % len(self.items)],
                    released_at=self._start_wall + timedelta(seconds=offset),
                )
            )

    def released(self) -> list[Release]:
        """All items released so far (oldest first)."""
        with self._lock:
            if self._start_clock is not None:
                self._catch_up()
            return list(self._released)

    def _newest(self, channel: str, limit: int) -> list[Release]:
        return [r for r in reversed(self.released()) if r.channel == channel][:limit]

    def _get(self, release_id: int) -> Release | None:
        rel = self.released()
        if 1 <= release_id <= len(rel):
            return rel[release_id - 1]
        return None

    # -- routing
    def respond(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request path."""
        html_utf8 = "text/html; charset=utf-8"
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n"
        if path == "/feed.xml":
            now = datetime.now(UTC)
            return 200, "application/rss+xml; charset=utf-8", render_feed(
                self._newest("feed", FEED_SIZE), self.base_url, now
            )
        if path in ("/", "/news", "/news/", "/news/index.html"):
            return 200, html_utf8, render_list_page(self._newest("news", LIST_SIZE)).encode("utf-8")
        if path == "/status.json":
            rel = self.released()
            status = {
                "released": len(rel),
                "total": len(self.items),
                "feed_items": sum(1 for r in rel if r.channel == "feed"),
                "list_items": sum(1 for r in rel if r.channel == "news"),
                "release_seconds": self.release_seconds,
                "newest_id": rel[-1].id if rel else None,
            }
            return 200, "application/json; charset=utf-8", json.dumps(status, ensure_ascii=False).encode()
        m = _DETAIL.match(path)
        if m:
            release = self._get(int(m.group(2)))
            if release is not None and release.channel == m.group(1):
                if release.gbk:
                    page = render_detail_page(release, charset="gbk")
                    return 200, "text/html", page.encode("gbk", errors="xmlcharrefreplace")
                return 200, html_utf8, render_detail_page(release).encode("utf-8")
        return 404, html_utf8, (
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>404</title></head>"
            "<body><h1>404 页面不存在</h1><p>您访问的页面不存在或已删除。</p></body></html>"
        ).encode("utf-8")


# --------------------------------------------------------------------------- CLI

def main(argv: Sequence[str] | None = None) -> int:
    from rcops.store.settings import Settings

    settings = Settings()
    parser = argparse.ArgumentParser(prog="python -m rcops.pipeline.replay", description="演示用回放站")
    parser.add_argument("--host", default=settings.replay_host)
    parser.add_argument("--port", type=int, default=settings.replay_port)
    parser.add_argument("--release-seconds", type=float, default=settings.replay_release_seconds)
    parser.add_argument("--initial-items", type=int, default=settings.replay_initial_items)
    args = parser.parse_args(argv)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(message)s")

    try:
        items = load_replay_items(settings.shared_data_dir)
    except ReplayDataError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    site = ReplaySite(
        items,
        host=args.host,
        port=args.port,
        release_seconds=args.release_seconds,
        initial_items=args.initial_items,
    )
    try:
        site.start()
    except OSError as exc:
        print(f"错误：回放站无法监听 {args.host}:{args.port}：{exc}", file=sys.stderr)
        return 2
    print(f"回放站已启动：{site.base_url}/  （RSS：{site.base_url}/feed.xml，列表：{site.base_url}/news/，"
          f"{len(items)} 条文本，每 {args.release_seconds:g} 秒发布一条）", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        site.stop()
        print("回放站已停止", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
