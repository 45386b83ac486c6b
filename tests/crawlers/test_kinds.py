"""The json (API) and sitemap source kinds through real HTTP, and their validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rcops.crawlers.exceptions import SourceConfigError
from rcops.crawlers.jsonpath import MISSING, compile_path, get_path
from rcops.crawlers.sources import validate_source
from tests.support.httpserver import HTTPTestServer

from .conftest import run_harness

JSON = {"Content-Type": "application/json"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml"}


def api_page(ids: list[int], next_url: str | None) -> str:
    items = [
        {"id": i, "title": f"标题{i}", "content": f"<p>农信社 正文{i}</p>", "share_url": f"/a/{i}" if i % 2 else None,
         "publish_time": 1714442400 + i * 60, "user": {"name": f"作者{i}"}, "stats": {"forward": str(i * 10)}}
        for i in ids
    ]
    return json.dumps({"code": 0, "data": {"list": items, "next": next_url}}, ensure_ascii=False)


def detail(n: int) -> str:
    return f"<html><head><title>站点地图文章{n}_测试网</title></head><body><h1>站点地图文章{n}</h1><div class='c'><p>{'正文' * 30}{n}</p></div></body></html>"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with HTTPTestServer() as server:
        server.route("/api/1", 200, JSON, api_page([1, 2, 3], "/api/2"))
        server.route("/api/2", 200, JSON, api_page([4, 5], None))
        server.route("/blocked", 200, JSON, json.dumps({"code": 40301, "msg": "访问过于频繁，请完成验证"}, ensure_ascii=False))
        base = server.url("")
        server.route("/sitemap_index.xml", 200, XML,
                     "<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                     f"<sitemap><loc>{base}/sm-old.xml</loc><lastmod>2024-01-01</lastmod></sitemap>"
                     f"<sitemap><loc>{base}/sm-new.xml</loc><lastmod>2024-04-30</lastmod></sitemap></sitemapindex>")
        server.route("/sm-new.xml", 200, XML,
                     "<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
                     "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>"
                     + "".join(f"<url><loc>{base}/news/{n}.html</loc><lastmod>2024-04-{10 + n}</lastmod>"
                               f"<news:news><news:publication_date>2024-04-{10 + n}T08:00:00+08:00</news:publication_date></news:news></url>"
                               for n in range(1, 5))
                     + f"<url><loc>{base}/about.html</loc></url></urlset>")
        server.route("/sm-old.xml", 200, XML, "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                     f"<url><loc>{base}/news/99.html</loc></url></urlset>")
        for n in list(range(1, 5)) + [99]:
            server.route(f"/news/{n}.html", 200, HTML, detail(n))
        server.route("/about.html", 200, HTML, detail(0))
        server.route("/not-a-sitemap.xml", 200, HTML, "<html>no</html>")
        fields = {"title": "title", "text": "content", "url": "share_url", "published_at": "publish_time",
                  "author": "user.name", "reach": "stats.forward"}
        sources = [
            {"kind": "json", "source_key": "api", "url": server.url("/api/1"),
             "config": {"items": "data.list", "fields": fields, "url_template": base + "/item/{id}", "next": "data.next", "max_pages": 2}},
            {"kind": "json", "source_key": "api-capped", "url": server.url("/api/1"),
             "config": {"items": "$.data.list", "fields": fields, "url_template": "/item/{id}", "next": "data.next", "max_pages": 5, "max_items": 2}},
            {"kind": "json", "source_key": "blocked", "url": server.url("/blocked"),
             "config": {"items": "data.list", "fields": fields}},
            {"kind": "sitemap", "source_key": "sitemap", "url": server.url("/sitemap_index.xml"),
             "config": {"url_pattern": "/news/", "max_items": 3, "max_pages": 2}},
            {"kind": "sitemap", "source_key": "not-sitemap", "url": server.url("/not-a-sitemap.xml"), "config": {}},
        ]
        result = run_harness(tmp_path_factory.mktemp("kinds"), sources)
        result["_hits"] = dict(server.hits)
    return result


def test_json_api_fields_by_path_with_pagination(crawled: Any) -> None:
    items = sorted(crawled["api"]["items"], key=lambda i: i["title"])
    assert [i["title"] for i in items] == ["标题1", "标题2", "标题3", "标题4", "标题5"]
    first, second = items[0], items[1]
    assert first["url"].endswith("/a/1") and second["url"].endswith("/item/2")  # share_url, else the template
    assert first["text"] == "农信社 正文1" and first["author"] == "作者1"
    assert first["published_at"] == "2024-04-30T02:01:00+00:00"  # epoch seconds


def test_json_api_max_items_stops_paging(crawled: Any) -> None:
    assert len(crawled["api-capped"]["items"]) == 2
    assert crawled["_hits"].get("/api/2", 0) == 1  # only the uncapped source asked for page 2


def test_an_api_answering_an_error_code_fails_the_crawl_with_its_message(crawled: Any) -> None:
    stats = crawled["blocked"]["stats"]
    assert crawled["blocked"]["items"] == []
    assert stats["rcops/fatal_error"].startswith("疑似被拦截：接口返回中没有信息列表")
    assert "code=40301" in stats["rcops/fatal_error"] and "访问过于频繁" in stats["rcops/fatal_error"]


def test_sitemap_index_newest_pages_first_filtered_and_capped(crawled: Any) -> None:
    items = crawled["sitemap"]["items"]
    assert sorted(i["url"].rsplit("/", 1)[-1] for i in items) == ["2.html", "3.html", "4.html"]
    assert all(i["title"].startswith("站点地图文章") and i["extra"]["extracted"] == "auto" for i in items)
    four = next(i for i in items if i["url"].endswith("/4.html"))
    assert four["published_at"] == "2024-04-14T00:00:00+00:00"  # from news:publication_date
    assert crawled["_hits"].get("/sm-old.xml", 0) == 0  # max_pages 2: the index and the newest child
    assert crawled["_hits"].get("/about.html", 0) == 0


def test_not_a_sitemap_fails(crawled: Any) -> None:
    assert crawled["not-sitemap"]["stats"]["rcops/fatal_error"].startswith("不是有效的站点地图")


def test_json_paths() -> None:
    data = {"data": {"items": [{"t": "a"}, {"t": "b"}]}}
    assert get_path(data, "data.items[1].t") == "b"
    assert get_path(data, "$.data.items.0.t") == "a"
    assert get_path(data, "data.items[5].t") is MISSING
    assert get_path(data, "") is data
    for bad in ("data..items", "data.items[x]", "[", "a]"):
        with pytest.raises(ValueError):
            compile_path(bad)


def _src(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"key": "k", "kind": kind, "url": "https://example.org/api", "config": config}


@pytest.mark.parametrize(
    ("kind", "config", "message"),
    [
        ("json", {"items": "data.list"}, "config.fields：json 类信息源须为各字段写路径"),
        ("json", {"fields": {"title": "t", "url": "u", "color": "c"}}, "未知的字段 color"),
        ("json", {"items": "data..list", "fields": {"title": "t", "url": "u"}}, "config.items：路径"),
        ("json", {"fields": {"title": "t"}}, "config.fields.url：json 类信息源须给出链接"),
        ("sitemap", {"url_pattern": "(unclosed"}, "config.url_pattern：正则表达式无效"),
    ],
)
def test_invalid_kind_configs_are_refused(kind: str, config: dict[str, Any], message: str) -> None:
    with pytest.raises(SourceConfigError, match=message.replace("(", r"\(")):
        validate_source(_src(kind, config), 0)


def test_valid_kind_configs() -> None:
    assert validate_source(_src("json", {"items": "data.list", "fields": {"text": "c"}, "url_template": "https://x/{id}"}), 0)
    assert validate_source(_src("sitemap", {"url_pattern": "/news/"}), 0)["kind"] == "sitemap"
