"""Scale-out: two crawler processes share one frontier and one de-duplication filter in the
local Redis (scrapy-redis); over a local site of 500 pages every page is fetched and stored once."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from rcops.crawlers.runner import crawl_source
from rcops.crawlers.settings import frontier_keys
from rcops.store.db import session_scope
from rcops.store.models import Mention
from rcops.store.settings import Settings
from tests.support.httpserver import HTTPTestServer

from .conftest import configure

redis = pytest.importorskip("redis")
REDIS_URL = "redis://127.0.0.1:6379/15"
PAGES = 500
PER_LIST = 50
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _redis_up() -> bool:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
        client.close()
        return True
    except redis.RedisError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _redis_up(), reason="本机 Redis（127.0.0.1:6379）未运行")
def test_two_processes_share_the_frontier_and_store_every_page_once(
    settings: Settings, engine: Engine, http_server: HTTPTestServer
) -> None:
    lists = PAGES // PER_LIST
    for page in range(1, lists + 1):
        links = "".join(f"<li><a href='/d/{n}.html'>{n}</a></li>" for n in range((page - 1) * PER_LIST, page * PER_LIST))
        nxt = f"<a class='next' href='/list/{page + 1}.html'>下一页</a>" if page < lists else ""
        http_server.route(f"/list/{page}.html", 200, HTML, f"<ul class='news'>{links}</ul>{nxt}")
    for n in range(PAGES):
        body = f"农信社第{n}号网点开展信用村评定，编号{n:05d}，" + "助农贷" * (n % 7 + 1)
        http_server.route(f"/d/{n}.html", 200, HTML,
                          f"<html><body><h1>农信社动态{n}</h1><div class='content'><p>{body}</p></div></body></html>", delay=0.01)
    config = {"list": {"link": "ul.news a", "next": "a.next"}, "detail": {"title": "h1", "body": "div.content p"},
              "max_items": PAGES, "max_pages": lists, "obey_robots": False}
    configure(engine, [{"key": "big", "name": "大站", "kind": "html", "url": http_server.url("/list/1.html"), "config": config}],
              [{"name": "全部", "subject_words": ["农信社"]}])
    shared = settings.model_copy(update={"crawl_redis_url": REDIS_URL, "crawl_processes": 2})

    run = crawl_source(shared, "big", timeout=300)

    assert run["status"] == "ok", run
    assert run["stats"]["抓取进程数"] == 2
    assert run["stats"]["进程 1 入库"] > 0 and run["stats"]["进程 2 入库"] > 0  # both did part of the work
    assert run["items_stored"] == PAGES
    assert [http_server.hits[f"/d/{n}.html"] for n in range(PAGES)] == [1] * PAGES  # each fetched once, by one process
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(Mention.id))) == PAGES
        assert session.scalar(select(func.count(func.distinct(Mention.canonical_url)))) == PAGES
    client = redis.Redis.from_url(REDIS_URL)
    assert not client.exists(*frontier_keys(f"run-{run['id']}"))  # the launcher cleaned up
    client.close()
