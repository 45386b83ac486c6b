from __future__ import annotations

import pytest

from rcops.crawlers.canonical import canonical_url, content_hash


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://News.Example.COM/a/b.html#comments", "http://news.example.com/a/b.html"),
        ("https://example.com:443/x?b=2&a=1", "https://example.com/x?a=1&b=2"),
        ("http://example.com:80", "http://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        (
            "https://example.com/n?id=5&utm_source=wx&utm_medium=share&spm=a.b.c&from=timeline&share_token=abc",
            "https://example.com/n?id=5",
        ),
        ("https://m.163.com/news/a.html", "https://163.com/news/a.html"),
        ("https://wap.example.com.cn/a", "https://example.com.cn/a"),
        ("https://www.163.com/news/a.html", "https://163.com/news/a.html"),
        ("http://m.cn/a", "http://m.cn/a"),
        ("https://example.com/%e4%b8%ad", "https://example.com/%E4%B8%AD"),
        ("https://example.com/a?q=&z=1", "https://example.com/a?q=&z=1"),
        ("", ""),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_mobile_and_desktop_editions_share_a_key() -> None:
    assert canonical_url("https://m.sina.cn/a.html?from=wap") == canonical_url("https://www.sina.cn/a.html")


def test_canonical_url_is_idempotent() -> None:
    url = "HTTPS://M.Example.com:443/a/%e4%b8%ad?z=1&utm_campaign=x&a=2#top"
    assert canonical_url(canonical_url(url)) == canonical_url(url)


def test_content_hash_ignores_whitespace_differences() -> None:
    assert content_hash("农信社 通报", "第一段\n\n第二段 ") == content_hash(" 农信社  通报", "第一段 第二段")


def test_content_hash_tells_title_and_text_apart() -> None:
    assert content_hash("a", "b c") != content_hash("a b", "c")
    assert content_hash("标题", "正文") != content_hash("标题", "正文。")
    assert len(content_hash("", "")) == 64
