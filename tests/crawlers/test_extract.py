"""Automatic article extraction for list/detail sources without detail selectors, on real news pages."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from rcops.crawlers.extract import extract_article
from tests.conftest import needs_shared_data
from tests.support.httpserver import HTTPTestServer

from .conftest import NEWS_PAGES, run_harness

PAGES = ["tests/163/1.html", "tests/toutiao/3.html", "tests/ifeng/ifeng.html"]
pytestmark = needs_shared_data("crawler_fixtures", "news_pages", "gne_result.txt")


def gne() -> dict[str, dict[str, Any]]:
    raw = (NEWS_PAGES / "gne_result.txt").read_text(encoding="utf-8")
    return {path.strip(): json.loads(body) for path, body in re.findall(r">>>>+(.*?)>>>>+\n(.*?)\n<<<<", raw, re.S)}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with HTTPTestServer() as server:
        links = []
        for i, rel in enumerate(PAGES):
            body = (NEWS_PAGES / rel).read_bytes()
            if i == 2:  # one page re-encoded to GBK, declared so in the header only
                body = body.decode("utf-8").encode("gbk", errors="ignore")
                server.route(f"/a/{i}.html", 200, {"Content-Type": "text/html; charset=GBK"}, body)
            else:
                server.route(f"/a/{i}.html", 200, {"Content-Type": "text/html"}, body)
            links.append(f"<li><a href='/a/{i}.html'>{i}</a></li>")
        server.route("/list.html", 200, {"Content-Type": "text/html; charset=utf-8"}, f"<ul class='n'>{''.join(links)}</ul>")
        sources = [
            {"kind": "html", "source_key": "auto", "url": server.url("/list.html"), "config": {"list": {"link": "ul.n a"}}},
        ]
        return run_harness(tmp_path_factory.mktemp("extract"), sources, download_timeout=20)


def test_detail_pages_without_selectors_are_extracted_automatically(crawled: Any) -> None:
    gold = gne()
    items = {item["url"].rsplit("/", 1)[-1]: item for item in crawled["auto"]["items"]}
    assert len(items) == len(PAGES), crawled["auto"]["stats"]
    for i, rel in enumerate(PAGES):
        item = items[f"{i}.html"]
        assert item["title"] == gold[rel]["title"], rel
        assert item["extra"]["extracted"] == "auto"
        assert item["published_at"] is not None
        assert item["published_at"][:10] == gold[rel]["publish_time"].replace("年", "-").replace("月", "-")[:10]
        squeeze = lambda t: "".join(t.split())  # noqa: E731 - GNE drops spaces inside lines
        assert squeeze(gold[rel]["content"].split("\n")[1])[:30] in squeeze(item["text"]), rel
        assert "\ufffd" not in item["text"]


def test_extraction_never_raises_on_junk() -> None:
    now = datetime(2024, 5, 1, tzinfo=timezone.utc)
    for page in ["", "<html></html>", "not html at all", "<html><body><h1>标题</h1><p>" + "正文" * 10 + "</p></body></html>"]:
        article = extract_article(page, "https://example.org/a", now)
        assert isinstance(article.title, str) and isinstance(article.text, str)


def test_title_is_the_headline_the_page_title_contains() -> None:
    page = (
        "<html><head><title>农信社暴力催收调查_财经频道_某某网</title></head><body>"
        "<h2>相关阅读</h2><h1>农信社暴力催收调查</h1><div><p>" + "县金融办介入调查。" * 20 + "</p></div></body></html>"
    )
    assert extract_article(page, "https://example.org/a", datetime.now(timezone.utc)).title == "农信社暴力催收调查"
