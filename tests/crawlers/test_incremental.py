"""Incremental crawling: stored detail pages are not fetched again, pinned old items do not
use up max_items, and endless pagination ends at max_pages."""

from __future__ import annotations

from sqlalchemy import Engine

from rcops.crawlers.runner import crawl_source
from rcops.store.settings import Settings
from tests.support.httpserver import HTTPTestServer

from .conftest import configure
from .test_crawl_e2e import HTML_CONFIG, detail_page, mention_count

HTML = {"Content-Type": "text/html; charset=utf-8"}


def list_page(ids: list[int], page: int) -> str:
    links = "".join(f'<li><a href="/d/{i}.html?utm_source=list">{i}</a></li>' for i in ids)
    return f'<ul class="news">{links}</ul><a class="next" href="/list{page + 1}.html">下一页</a>'


def test_second_crawl_fetches_only_new_detail_pages(settings: Settings, engine: Engine, http_server: HTTPTestServer) -> None:
    for i in range(1, 8):
        http_server.route(f"/d/{i}.html", 200, HTML, detail_page(f"农信社投诉事件{i}", f"储户投诉{i}"))
    # every list page links to the next one: an endless pagination
    for page in range(1, 50):
        http_server.route(f"/list{page}.html", 200, HTML, list_page([], page))
    http_server.route("/list1.html", 200, HTML, list_page([1, 2, 3], 1))
    config = {**HTML_CONFIG, "max_items": 3, "max_pages": 3}
    configure(engine, [{"key": "county", "name": "县网", "kind": "html", "url": http_server.url("/list1.html"), "config": config}])

    first = crawl_source(settings, "county", timeout=60)
    assert first["status"] == "ok" and first["items_stored"] == 3, first
    assert http_server.hits["/list4.html"] == 0  # max_pages 3 ends the endless pagination
    assert http_server.hits["/list3.html"] == 0  # max_items reached on page 1: no more list pages

    # the old items stay pinned on top; new ones follow
    http_server.route("/list1.html", 200, HTML, list_page([1, 2, 3, 4, 5, 6], 1))
    second = crawl_source(settings, "county", timeout=60)
    assert second["status"] == "ok", second
    assert second["items_stored"] == 3 and second["items_duplicate"] == 0
    assert second["stats"]["已入库，未重复抓取"] == 3
    assert [http_server.hits[f"/d/{i}.html"] for i in range(1, 8)] == [1, 1, 1, 1, 1, 1, 0]
    assert mention_count(engine) == 6
