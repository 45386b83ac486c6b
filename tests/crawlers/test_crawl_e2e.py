"""End to end: crawl_source → worker process → Scrapy → pipelines → database,
against a real HTTP server on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from stdnum import luhn

from rcops.crawlers.alerts import source_alerts
from rcops.crawlers.exceptions import UnknownSourceError
from rcops.crawlers.runner import crawl_source, mark_stale_runs
from rcops.store.db import session_scope
from rcops.store.models import CrawlRun, Mention, Source, utcnow
from rcops.store.settings import Settings
from tests.support.httpserver import HTTPTestServer

from .conftest import configure

CARD_BODY = "622202123456789012"
CARD = CARD_BODY + luhn.calc_check_digit(CARD_BODY)  # 19 digits, Luhn-valid
ID_NUMBER = "11010119900307123X"
MOBILE = "13812345678"


def rss(items: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><description><![CDATA[{body}]]></description>"
        f"<pubDate>Tue, 30 Apr 2024 10:00:00 +0800</pubDate><author>记者 王五</author></item>"
        for title, link, body in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>测试新闻</title>'
        f"<link>http://example.org/</link>{entries}</channel></rss>"
    ).encode()


def mentions(engine: Engine) -> list[Mention]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Mention).order_by(Mention.id)).all())


def mention_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count(Mention.id))) or 0)


def rss_source(key: str, url: str, **config: Any) -> dict[str, Any]:
    return {"key": key, "name": f"测试源 {key}", "kind": "rss", "url": url, "media_level": "provincial", "config": config}


# --------------------------------------------------------------------------- RSS


def test_rss_stores_only_relevant_items_masked_and_second_crawl_stores_nothing_new(
    settings: Settings, engine: Engine, http_server: HTTPTestServer
) -> None:
    base = http_server.url("")
    feed = rss(
        [
            (
                "河北某农信社员工涉嫌诈骗",
                f"{base}/news/1.html?utm_source=rss&amp;spm=a.b",
                f"<p>受害人身份证 {ID_NUMBER}，手机 {MOBILE}，</p><p>银行卡 {CARD} 被盗刷。</p>",
            ),
            ("某农商银行发布招聘公告", f"{base}/news/2.html", "农商银行 诈骗 招聘 柜员"),
            ("今日天气晴", f"{base}/news/3.html", "气温二十度。"),
            ("农商银行储户投诉服务态度", f"{base}/news/4.html", "多名储户到网点投诉。"),
            ("农信社举办金融知识讲座", f"{base}/news/5.html", "讲座吸引百余人。"),
        ]
    )
    url = http_server.route("/feed.xml", 200, {"Content-Type": "application/rss+xml"}, feed)
    configure(engine, [rss_source("feed", url)])

    first = crawl_source(settings, "feed", timeout=60)
    assert first["status"] == "ok", first
    assert first["error"] is None
    assert (first["items_seen"], first["items_stored"], first["items_irrelevant"], first["items_duplicate"]) == (5, 2, 3, 0)
    assert first["pages_fetched"] == 1
    assert first["stats"] == {"不匹配任何监测方案": 3}

    stored = mentions(engine)
    assert [m.title for m in stored] == ["河北某农信社员工涉嫌诈骗", "农商银行储户投诉服务态度"]
    fraud = stored[0]
    for raw in (ID_NUMBER, MOBILE, CARD):
        assert raw not in fraud.text
    assert "110101********123X" in fraud.text
    assert "138****5678" in fraud.text
    assert f"{CARD[:4]}{'*' * 11}{CARD[-4:]}" in fraud.text
    assert fraud.masked_count == 3
    assert fraud.text.count("\n") == 1  # paragraphs kept as lines
    assert "<p>" not in fraud.text
    assert fraud.matched == {"农信负面": {"subject": ["农信社"], "event": ["诈骗"], "region": ["河北"]}}
    assert fraud.canonical_url == http_server.url("/news/1.html").replace("http://127.0.0.1", "http://127.0.0.1")
    assert "utm_source" not in fraud.canonical_url and "spm" not in fraud.canonical_url
    assert fraud.published_at is not None
    assert fraud.published_at.tzinfo is not None
    assert fraud.published_at.astimezone(timezone.utc).hour == 2
    assert fraud.author == "记者 王五"
    assert fraud.crawl_run_id == first["id"]
    with session_scope(engine) as session:
        assert fraud.source_id == session.scalar(select(Source.id).where(Source.key == "feed"))

    second = crawl_source(settings, "feed", timeout=60)
    assert second["status"] == "ok", second
    assert (second["items_stored"], second["items_duplicate"], second["items_irrelevant"]) == (0, 2, 3)
    assert second["stats"]["重复：链接已存在"] == 2
    assert mention_count(engine) == 2


# --------------------------------------------------------------------------- list → detail


def detail_page(title: str, body: str | None, when: str = "2024-04-30 10:00") -> str:
    body_html = f'<div class="content"><p>{body}</p><p>第二段。</p><script>var x=1;</script></div>' if body else ""
    return (
        f"<html><head><title>{title} - 测试网</title></head><body><h1 class='t'>{title}</h1>"
        f"<div class='meta'>来源：测试网 <span class='time'>{when}</span> <span class='author'>作者：张三</span></div>"
        f"{body_html}</body></html>"
    )


HTML_CONFIG = {
    "list": {"link": "ul.news a", "next": "//a[@class='next']/@href"},
    "detail": {"title": "h1.t", "body": "div.content p", "published_at": ".time", "author": "//span[@class='author']/text()"},
    "max_pages": 2,
}


def test_list_detail_stores_complete_pages_and_records_missing_body(
    settings: Settings, engine: Engine, http_server: HTTPTestServer
) -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    http_server.route(
        "/list.html",
        200,
        html,
        '<ul class="news"><li><a href="/d/1.html">1</a></li><li><a href="/d/2.html">2</a></li>'
        '<li><a href="/d/1.html">1 again</a></li><li><a href="/d/3.html">3</a></li></ul>'
        '<a class="next" href="/list2.html">下一页</a>',
    )
    http_server.route("/list2.html", 200, html, '<ul class="news"><li><a href="/d/4.html">4</a></li></ul>')
    http_server.route("/d/1.html", 200, html, detail_page("农信社网点遭遇挤兑传闻", "储户排队取款。"))
    http_server.route("/d/2.html", 200, html, detail_page("农商银行回应投诉", "已成立专班处理。", "3小时前"))
    http_server.route("/d/3.html", 200, html, detail_page("农信社诈骗案开庭", None))
    # GBK bytes, meta says gbk: decoded by the middleware before the selectors run
    gbk = detail_page("河北农信社澄清诈骗谣言", "该信息不实。").replace("<head>", '<head><meta charset="gbk">')
    http_server.route("/d/4.html", 200, {"Content-Type": "text/html"}, gbk.encode("gbk"))
    configure(engine, [{"key": "site", "name": "测试网", "kind": "html", "url": http_server.url("/list.html"), "config": HTML_CONFIG}])

    run = crawl_source(settings, "site", timeout=60)
    assert run["status"] == "ok", run
    assert run["items_seen"] == 4
    assert run["items_stored"] == 3
    assert run["items_invalid"] == 1
    assert run["pages_fetched"] == 6  # 2 list pages + 4 detail pages
    assert run["stats"]["详情页缺少所选元素：正文"] == 1
    assert "详情页缺少所选元素：正文" in run["error"]

    stored = {m.title: m for m in mentions(engine)}
    assert set(stored) == {"农信社网点遭遇挤兑传闻", "农商银行回应投诉", "河北农信社澄清诈骗谣言"}
    first = stored["农信社网点遭遇挤兑传闻"]
    assert first.text == "储户排队取款。\n第二段。"
    assert first.author == "作者：张三"
    assert first.published_at is not None and first.published_at.hour == 2  # 10:00 Shanghai
    assert stored["农商银行回应投诉"].published_at is not None
    assert stored["河北农信社澄清诈骗谣言"].text == "该信息不实。\n第二段。"
    assert http_server.hits["/d/1.html"] == 1  # the repeated link was fetched once


# --------------------------------------------------------------------------- failures


def test_failing_sources_fail_their_runs_with_clear_reasons(
    settings: Settings, engine: Engine, http_server: HTTPTestServer
) -> None:
    """HTTP 500, download timeout, a page that is no feed, a refused connection, a broken
    source definition and an anti-bot refusal (403): each run is failed with a clear reason
    and stores nothing; only the refusal opens the source's blocked alert (its back-off).
    The six crawls run at the same time (each is its own process)."""
    settings = settings.model_copy(update={"download_timeout_seconds": 1})
    page = "<html><head><title>农信社</title></head><body><p>农信社 诈骗</p></body></html>"
    with HTTPTestServer() as gone:  # a port that refuses once this server is closed
        refused_url = gone.url("/feed.xml")
    urls = {
        "http500": http_server.route("/500.xml", 500, {"Content-Type": "text/plain"}, "boom"),
        "timeout": http_server.route("/slow.xml", 200, {"Content-Type": "application/rss+xml"}, rss([]), delay=5),
        "not-a-feed": http_server.route("/page.xml", 200, {"Content-Type": "text/html; charset=utf-8"}, page),
        "refused": refused_url,
        "blocked": http_server.route("/403.xml", 403, {"Content-Type": "text/html"}, "<html>Forbidden</html>"),
    }
    expected = {
        "http500": f"信息源返回 HTTP 500：{urls['http500']}",
        "timeout": f"下载超时（1 秒）：{urls['timeout']}",
        "not-a-feed": f"不是有效的 RSS/Atom 订阅：{urls['not-a-feed']}",
        "refused": f"连接被拒绝（信息源未在服务或地址有误）：{refused_url}",
        "no-selectors": "抓取内部错误：ValueError：html 信息源的 config 需要 list.link",
        "blocked": f"疑似被拦截：信息源返回 HTTP 403（拒绝访问，可能需要登录或触发了反爬）：{urls['blocked']}",
    }
    configure(engine, [rss_source(key, url) for key, url in urls.items()])
    with session_scope(engine) as session:  # bypasses validation on purpose: no selectors
        session.add(Source(key="no-selectors", name="无选择器", kind="html", url=http_server.url("/x"), config={}))

    with ThreadPoolExecutor(max_workers=len(expected)) as pool:
        futures = {key: pool.submit(crawl_source, settings, key, "manual", 60) for key in expected}
        runs = {key: future.result() for key, future in futures.items()}

    for key, reason in expected.items():
        run = runs[key]
        assert run["status"] == "failed", (key, run)
        assert run["error"] is not None and run["error"].startswith(reason), (key, run["error"])
        assert run["finished_at"] is not None, key
        assert run["items_stored"] == 0, key
    assert http_server.hits["/500.xml"] >= 2  # RETRY_TIMES = 1: one retry before giving up
    assert mention_count(engine) == 0
    assert {key: (run["source_alert"] or {}).get("change") for key, run in runs.items()} == {
        **{key: None for key in expected}, "blocked": "opened"}
    with session_scope(engine) as session:
        [alert] = source_alerts(session)
        assert alert["source"] == "blocked" and alert["backing_off"] and alert["reason"] == runs["blocked"]["error"]


def test_worker_killed_mid_crawl_leaves_failed_run_and_complete_mentions(
    settings: Settings, engine: Engine, http_server: HTTPTestServer
) -> None:
    settings = settings.model_copy(update={"download_timeout_seconds": 60})
    html = {"Content-Type": "text/html; charset=utf-8"}
    links = "".join(f'<li><a href="/d/{i}.html">{i}</a></li>' for i in range(1, 5))
    http_server.route("/list.html", 200, html, f'<ul class="news">{links}</ul>')
    bodies = {}
    for i in range(1, 4):
        bodies[i] = "；".join(f"第{i}篇第{j}段：农信社储户投诉理财产品亏损" for j in range(50))
        http_server.route(f"/d/{i}.html", 200, html, detail_page(f"农信社投诉事件{i}", bodies[i]))
    http_server.route("/d/4.html", 200, html, detail_page("农信社投诉事件4", "很慢的页面"), delay=60)
    configure(engine, [{"key": "slow", "name": "慢站", "kind": "html", "url": http_server.url("/list.html"), "config": HTML_CONFIG}])

    run = crawl_source(settings, "slow", timeout=8)
    assert run["status"] == "failed"
    assert run["error"] == "抓取进程超时（8 秒）被终止"
    assert run["finished_at"] is not None
    stored = mentions(engine)
    assert sorted(m.title for m in stored) == ["农信社投诉事件1", "农信社投诉事件2", "农信社投诉事件3"]
    for m in stored:
        number = int(m.title[-1])
        assert m.text == f"{bodies[number]}\n第二段。"
        assert m.content_hash and m.canonical_url and m.matched
        assert m.crawl_run_id == run["id"]
    assert run["items_stored"] == 3  # counters are written with every stored mention


# --------------------------------------------------------------------------- without a crawl


def test_unknown_source_key_is_a_clear_error(settings: Settings, engine: Engine) -> None:
    configure(engine, [rss_source("known", "http://127.0.0.1:1/feed.xml")])
    with pytest.raises(UnknownSourceError, match="未知的信息源 'nope'.*known"):
        crawl_source(settings, "nope")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(CrawlRun.id))) == 0


def test_mark_stale_runs_fails_runs_left_running(settings: Settings, engine: Engine) -> None:
    configure(engine, [rss_source("s", "http://127.0.0.1:1/feed.xml")])
    with session_scope(engine) as session:
        source_id = session.scalar(select(Source.id))
        old = CrawlRun(source_id=source_id, started_at=utcnow() - timedelta(hours=2))
        fresh = CrawlRun(source_id=source_id)
        done = CrawlRun(source_id=source_id, started_at=utcnow() - timedelta(hours=2), status="ok")
        session.add_all([old, fresh, done])
    with session_scope(engine) as session:
        marked = mark_stale_runs(session, timedelta(hours=1))
    assert marked == [old.id]
    with session_scope(engine) as session:
        runs = {r.id: r for r in session.scalars(select(CrawlRun)).all()}
    assert runs[old.id].status == "failed"
    assert runs[old.id].error == "抓取进程中断，未正常结束"
    assert runs[old.id].finished_at is not None
    assert runs[fresh.id].status == "running"
    assert runs[done.id].status == "ok"
