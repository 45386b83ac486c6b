"""Decoding: real GB2312 feeds and lying news pages through the real spiders over real HTTP."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import feedparser
import pytest

from rcops.crawlers.middlewares import decide_encoding, normalize_encoding
from tests.conftest import needs_shared_data
from tests.support.httpserver import HTTPTestServer

from .conftest import GB_FEEDS, NEWS_PAGES, run_harness

pytestmark = needs_shared_data("crawler_fixtures")

FEED_FILES = sorted(GB_FEEDS.glob("*.xml")) if GB_FEEDS.exists() else []
FEED_FILES = [p for p in FEED_FILES if not p.name.startswith("_")]
LYING_PAGES = ["tests/163/9.html", "tests/people/1.html", "tests/qq/2.html"]

#: first entry titles, read by a person from the feeds
SPOT_CHECKS = {
    "acnnewswire.net.xml": "JCB 与中国银联（China UnionPay）完成ATM网关协议的签订；CUP持卡者得以第一次在日本享受使用ATM网络的权利",
    "bbs.blogsome.com.xml": "活该麦当劳",
    "luciferwang.blogcn.com.xml": "奥登说的大实话",
    "eighthday.blogspot.com.xml": "又颠了",
    "w3cn.org.xml": "如何以及何时使用sIFR",
    "14.blog.westca.com.xml": "想要飞 却怎么样也飞不高",
}

DETAIL_CONFIG = {"list": {"link": "a.story"}, "detail": {"title": "title", "body": "//body"}}


def _title_of(raw: str) -> str:
    match = re.search(r"<title>(.*?)</title>", raw, re.S | re.I)
    assert match
    return " ".join(match.group(1).split())


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Everything crawled once, in one subprocess, from one server."""
    tmp = tmp_path_factory.mktemp("harness")
    with HTTPTestServer() as server:
        sources: list[dict[str, Any]] = []
        for i, path in enumerate(FEED_FILES):
            # half the feeds come with a header that lies (utf-8), half with none
            ctype = "application/rss+xml; charset=utf-8" if i % 2 else "text/xml"
            url = server.route(f"/feeds/{path.name}", 200, {"Content-Type": ctype}, path.read_bytes())
            sources.append({"kind": "rss", "source_key": path.name, "url": url, "config": {"max_items": 500}})

        # the three pages whose <meta> says gb2312 but whose bytes are UTF-8
        links = []
        for rel in LYING_PAGES:
            server.route(f"/lying/{rel}", 200, {"Content-Type": "text/html"}, (NEWS_PAGES / rel).read_bytes())
            links.append(f'<a class="story" href="/lying/{rel}">x</a>')
        server.route("/lying/list.html", 200, {"Content-Type": "text/html; charset=utf-8"}, "".join(links))
        sources.append({"kind": "html", "source_key": "lying", "url": server.url("/lying/list.html"), "config": DETAIL_CONFIG})

        # a UTF-8 page re-encoded to GBK: once with meta gbk, once with meta (and header) claiming utf-8
        page = (NEWS_PAGES / "tests/thepaper/1.html").read_text(encoding="utf-8")
        gbk_meta = re.sub(r'charset=["\']?utf-8', "charset=gbk", page, flags=re.I)
        utf8_meta = page
        server.route("/gbk/meta-gbk.html", 200, {"Content-Type": "text/html"}, gbk_meta.encode("gbk", "replace"))
        server.route(
            "/gbk/meta-utf8.html",
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            utf8_meta.encode("gbk", "replace"),
        )
        # GB18030 fragment with no declared encoding at all (chromium test file)
        chromium = GB_FEEDS / "_chromium_gb18030_with_no_encoding_specified.html.xml"
        server.route("/gbk/no-charset.html", 200, {"Content-Type": "text/html"}, chromium.read_bytes())
        # the GBK page claiming utf-8, gzip-compressed: decoding must happen after decompression
        server.route(
            "/gbk/gzip.html",
            200,
            {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
            gzip.compress(utf8_meta.encode("gbk", "replace")),
        )
        server.route(
            "/gbk/list.html",
            200,
            {"Content-Type": "text/html"},
            '<a class="story" href="/gbk/meta-gbk.html">1</a><a class="story" href="/gbk/meta-utf8.html">2</a>'
            '<a class="story" href="/gbk/no-charset.html">3</a><a class="story" href="/gbk/gzip.html">4</a>',
        )
        sources.append({"kind": "html", "source_key": "gbk", "url": server.url("/gbk/list.html"), "config": DETAIL_CONFIG})

        # a Big5 page whose meta lies (gb2312): only the per-source override gets it right
        big5 = "<html><head><meta charset='gb2312'><title>臺灣農會信用部公告</title></head><body><p>存款利率調整說明</p></body></html>"
        server.route("/big5/page.html", 200, {"Content-Type": "text/html"}, big5.encode("big5"))
        server.route("/big5/list.html", 200, {"Content-Type": "text/html"}, '<a class="story" href="/big5/page.html">1</a>')
        for key, extra in (("big5-override", {"encoding": "big5"}), ("big5-plain", {})):
            sources.append(
                {"kind": "html", "source_key": key, "url": server.url("/big5/list.html"), "config": {**DETAIL_CONFIG, **extra}}
            )
        result = run_harness(tmp, sources)
        result["_thepaper_title"] = _title_of(page)
    return result


@pytest.mark.parametrize("path", FEED_FILES, ids=lambda p: p.name)
def test_gb2312_feed_parses_with_chinese_intact(crawled: Any, path: Path) -> None:
    expected = len(feedparser.parse(path.read_bytes()).entries)
    items = crawled[path.name]["items"]
    assert crawled[path.name]["stats"]["finish_reason"] == "finished"
    assert len(items) == expected > 0
    for item in items:
        assert "\ufffd" not in item["title"] + item["text"]
        assert item["extra"]["encoding"]["encoding"] == "gb18030"
    assert any(_has_cjk(item["title"] + item["text"]) for item in items)
    assert crawled[path.name]["stats"].get("rcops/replacement_chars", 0) == 0
    if path.name in SPOT_CHECKS:
        assert items[0]["title"] == SPOT_CHECKS[path.name]


def test_full_width_punctuation_survives_cleaning(crawled: Any) -> None:
    title = crawled["acnnewswire.net.xml"]["items"][0]["title"]
    assert "（" in title and "；" in title  # no NFKC


@pytest.mark.parametrize("rel", LYING_PAGES)
def test_page_whose_meta_lies_is_decoded_as_utf8(crawled: Any, rel: str) -> None:
    assert len(crawled["lying"]["items"]) == len(LYING_PAGES)
    item = next(i for i in crawled["lying"]["items"] if i["url"].endswith(rel))
    expected = _title_of((NEWS_PAGES / rel).read_text(encoding="utf-8"))
    assert item["title"] == expected
    assert "\ufffd" not in item["text"]
    assert item["extra"]["encoding"] == {"encoding": "utf-8", "why": "valid-utf8", "replacement_chars": 0}


def test_gbk_page_with_meta_gbk_is_decoded(crawled: Any) -> None:
    item = next(i for i in crawled["gbk"]["items"] if i["url"].endswith("meta-gbk.html"))
    assert item["title"] == crawled["_thepaper_title"]
    assert item["extra"]["encoding"]["encoding"] == "gb18030"


def test_gbk_page_declaring_utf8_is_decoded(crawled: Any) -> None:
    item = next(i for i in crawled["gbk"]["items"] if i["url"].endswith("meta-utf8.html"))
    assert item["title"] == crawled["_thepaper_title"]
    assert item["extra"]["encoding"]["encoding"] == "gb18030"


def test_gzip_compressed_gbk_page_is_decoded_after_decompression(crawled: Any) -> None:
    item = next(i for i in crawled["gbk"]["items"] if i["url"].endswith("gzip.html"))
    assert item["title"] == crawled["_thepaper_title"]


def test_gb18030_page_without_any_declaration_is_detected(crawled: Any) -> None:
    item = next(i for i in crawled["gbk"]["items"] if i["url"].endswith("no-charset.html"))
    assert item["title"] == "中国制造的领军者3名"
    assert "马兴瑞" in item["text"]


def test_per_source_encoding_override_wins(crawled: Any) -> None:
    (overridden,) = crawled["big5-override"]["items"]
    assert overridden["title"] == "臺灣農會信用部公告"
    assert overridden["text"] == "存款利率調整說明"
    assert overridden["extra"]["encoding"]["why"] == "override"
    # without the override the lying meta (gb2312) is believed: proof the override decided
    (plain,) = crawled["big5-plain"]["items"]
    assert plain["title"] != "臺灣農會信用部公告"


# --- decide_encoding on its own


def test_valid_utf8_wins_over_declared_gb() -> None:
    body = '<meta charset="gb2312"><p>农信社</p>'.encode()
    assert decide_encoding(body, "text/html; charset=gbk") == ("utf-8", "valid-utf8")


def test_gb_family_names_become_gb18030() -> None:
    for name in ("gb2312", "GB2312", "gbk", "GBK", "cp936", "gb18030", "x-gbk"):
        assert normalize_encoding(name) == "gb18030"
    assert normalize_encoding("nonsense-charset") is None


def test_override_wins_even_over_valid_utf8() -> None:
    assert decide_encoding("农信社".encode(), "text/html; charset=utf-8", override="gbk") == ("gb18030", "override")


def test_bom_is_respected() -> None:
    body = "\ufeff<p>农信社</p>".encode("utf-16-le")
    assert decide_encoding(body, None)[0].startswith("utf-16")
