"""The spiders' own options (pagination, max_items, selectors, robots.txt) through real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.httpserver import HTTPTestServer

from .conftest import run_harness

HTML = {"Content-Type": "text/html; charset=utf-8"}


def _detail(n: int) -> str:
    return f"<html><body><h1>标题{n}</h1><div class='c'><p>正文{n}</p></div><em>2024年4月{n}日 08:00</em></body></html>"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with HTTPTestServer() as server:
        for page in (1, 2, 3):
            links = "".join(f"<li><a href='/d/{page}{i}.html'>{i}</a></li>" for i in range(3))
            server.route(f"/list{page}.html", 200, HTML, f"<ul>{links}</ul><a rel='next' href='/list{page + 1}.html'>下一页</a>")
            for i in range(3):
                server.route(f"/d/{page}{i}.html", 200, HTML, _detail(page * 10 + i))
        server.route("/robots.txt", 200, {"Content-Type": "text/plain"}, "User-agent: *\nDisallow: /private/\n")
        server.route("/private/list1.html", 200, HTML, "<ul><li><a href='/d/10.html'>x</a></li></ul>")
        config = {
            "list": {"link": "//ul/li/a/@href", "next": "a[rel=next]"},
            "detail": {"title": "h1::text", "body": "div.c", "published_at": "//em"},
        }
        sources = [
            {"kind": "html", "source_key": "paged", "url": server.url("/list1.html"), "config": {**config, "max_pages": 2}},
            {"kind": "html", "source_key": "capped", "url": server.url("/list1.html"), "config": {**config, "max_pages": 3, "max_items": 4}},
            {"kind": "html", "source_key": "one-page", "url": server.url("/list1.html"), "config": config},
            {"kind": "html", "source_key": "robots", "url": server.url("/private/list1.html"), "config": config},
            {"kind": "html", "source_key": "no-robots", "url": server.url("/private/list1.html"), "config": {**config, "obey_robots": False}},
        ]
        result = run_harness(tmp_path_factory.mktemp("spiders"), sources)
        result["_hits"] = dict(server.hits)
    return result


def _titles(crawled: Any, key: str) -> list[str]:
    return sorted(item["title"] for item in crawled[key]["items"])


def test_max_pages_follows_next_links(crawled: Any) -> None:
    assert _titles(crawled, "paged") == sorted(f"标题{n}" for n in (10, 11, 12, 20, 21, 22))
    assert crawled["paged"]["stats"]["rcops/pages_fetched"] == 2 + 6


def test_default_is_one_list_page(crawled: Any) -> None:
    assert _titles(crawled, "one-page") == ["标题10", "标题11", "标题12"]


def test_max_items_caps_detail_pages(crawled: Any) -> None:
    assert len(crawled["capped"]["items"]) == 4
    assert crawled["_hits"].get("/list3.html", 0) == 0 or len(crawled["capped"]["items"]) == 4


def test_selectors_css_text_xpath_elements_and_dates(crawled: Any) -> None:
    item = next(i for i in crawled["one-page"]["items"] if i["title"] == "标题11")
    assert item["text"] == "正文11"
    assert item["published_at"] == "2024-04-11T00:00:00+00:00"  # 08:00 Shanghai


def test_robots_txt_is_obeyed_unless_the_source_says_not_to(crawled: Any) -> None:
    assert crawled["robots"]["items"] == []
    assert crawled["robots"]["stats"]["rcops/fatal_error"].startswith("请求被忽略（robots.txt 禁止抓取")
    assert _titles(crawled, "no-robots") == ["标题10"]


def test_harness_results_are_json(crawled: Any, tmp_path: Path) -> None:
    assert set(crawled) >= {"paged", "capped", "one-page", "robots", "no-robots"}
