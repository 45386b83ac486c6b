"""Login walls, captchas and anti-bot answers are recognised, not stored or looped over."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from rcops.crawlers.antibot import backoff_seconds, page_block_reason
from rcops.crawlers.health import source_health
from rcops.store.models import CrawlRun, Source
from tests.support.httpserver import HTTPTestServer

from .conftest import run_harness

HTML = {"Content-Type": "text/html; charset=utf-8"}
VERIFY = "<html><head><title>安全验证</title></head><body><div>请完成验证后继续访问</div></body></html>"
ARTICLE = "<html><body><h1>警惕验证码诈骗</h1><div class='c'>" + "<p>不要把短信验证码告诉任何人，请完成验证码核对前先核实身份。</p>" * 80 + "</div></body></html>"
CONFIG = {"list": {"link": "ul a"}, "detail": {"title": "h1", "body": "div.c"}}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with HTTPTestServer() as server:
        server.route("/feed.xml", 403, {"Content-Type": "text/html"}, "<html>Forbidden</html>")
        server.route("/list.html", 302, {"Location": "/captcha/verify?from=list"}, b"")
        server.route("/captcha/verify", 200, HTML, VERIFY)
        server.route("/login-list.html", 200, HTML, "<html><body><p>请先登录</p><a href='/passport'>登录</a></body></html>")
        server.route("/ok-list.html", 200, HTML, "<ul><li><a href='/a/1.html'>1</a></li><li><a href='/a/2.html'>2</a></li></ul>")
        server.route("/a/1.html", 200, HTML, ARTICLE)
        server.route("/a/2.html", 200, HTML, VERIFY)
        sources = [
            {"kind": "rss", "source_key": "forbidden", "url": server.url("/feed.xml"), "config": {}},
            {"kind": "html", "source_key": "captcha", "url": server.url("/list.html"), "config": CONFIG},
            {"kind": "html", "source_key": "login", "url": server.url("/login-list.html"), "config": CONFIG},
            {"kind": "html", "source_key": "ok", "url": server.url("/ok-list.html"), "config": CONFIG},
        ]
        return run_harness(tmp_path_factory.mktemp("antibot"), sources)


def test_http_403_is_a_refusal(crawled: Any) -> None:
    reason = crawled["forbidden"]["stats"]["rcops/fatal_error"]
    assert reason.startswith("疑似被拦截：信息源返回 HTTP 403（拒绝访问")


def test_redirect_to_a_captcha_page_is_a_refusal(crawled: Any) -> None:
    assert crawled["captcha"]["stats"]["rcops/fatal_error"].startswith("疑似被拦截：被重定向到验证或登录页面")
    assert crawled["captcha"]["items"] == []


def test_a_login_wall_is_a_refusal(crawled: Any) -> None:
    assert crawled["login"]["stats"]["rcops/fatal_error"].startswith("疑似被拦截：页面是验证或登录页（“请先登录”）")


def test_an_article_about_verification_codes_is_no_refusal_but_a_verify_detail_page_is(crawled: Any) -> None:
    ok = crawled["ok"]
    assert [i["title"] for i in ok["items"]] == ["警惕验证码诈骗"]
    assert "rcops/fatal_error" not in ok["stats"]
    assert ok["stats"]["rcops/problem/疑似被拦截：页面是验证或登录页"] == 1


def test_page_block_reason_needs_a_redirect_for_url_markers() -> None:
    assert page_block_reason("https://x.org/captcha/help.html", "<html>" + "正文" * 2000 + "</html>") is None
    assert page_block_reason("https://x.org/verify", "", "https://x.org/news") is not None


def test_backoff_starts_at_15_minutes_and_doubles_per_refusal_up_to_6_hours() -> None:
    assert [backoff_seconds(600, n) for n in (0, 1, 2, 3, 4, 5, 6, 30)] == [0, 900, 1800, 3600, 7200, 14400, 21600, 21600]
    assert backoff_seconds(3600, 1) == 3600  # never shorter than the source's own interval


def test_health_flags_a_blocked_source_with_its_backoff(session_factory) -> None:
    now = datetime(2026, 5, 1, tzinfo=timezone.utc)
    with session_factory.begin() as s:
        src = Source(key="walled", name="登录墙", kind="html", url="https://x.org/", interval_seconds=600)
        s.add(src)
        s.flush()
        for i, error in enumerate([None, "疑似被拦截：信息源返回 HTTP 403（拒绝访问）：https://x.org/", "疑似被拦截：页面是验证或登录页"]):
            s.add(CrawlRun(source_id=src.id, started_at=now - timedelta(hours=3 - i), status="failed" if error else "ok",
                           items_seen=0 if error else 5, error=error))
    with session_factory() as s:
        row = source_health(s, now)[0]
    assert row["flags"] == ["被拦截"] and row["blocked"] is True
    assert row["consecutive_failures"] == 2 and row["retry_after_seconds"] == 1800
