"""Monitoring commands as a user runs them: rcops sources / sources add / import / mentions / schemes test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline.test_cli import env_for
from tests.support.cli import rcops

#: the functions behind these commands have their own tests on PostgreSQL too
pytestmark = pytest.mark.sqlite_only

def administrator(engine) -> str:  # type: ignore[no-untyped-def]
    """An administrator account to act as: these commands check the actor's role."""
    from rcops.operations.accounts import create_user
    from rcops.store.db import make_sessionmaker

    with make_sessionmaker(engine).begin() as s:
        create_user(s, "adm", "admin", "admin-pass-2026")
    return "adm"


STORY = "河北某县农信社被曝暴力催收，借款人身份证 11010119900307123X 被公开，当地金融办已介入调查。"


def test_sources_add_refuses_this_machine_unless_allowed_and_lists_health(settings, engine, tmp_path: Path) -> None:
    env = env_for(settings, RCOPS_ACTOR=administrator(engine))
    local = tmp_path / "local.yaml"
    local.write_text("key: local-site\nname: 本地站\nkind: rss\nurl: http://localhost:8080/feed.xml\n", encoding="utf-8")
    refused = rcops(env, "sources", "add", str(local))
    assert refused.returncode == 1
    assert "信息源地址指向本机：local-site（http://localhost:8080/feed.xml）" in refused.stderr
    assert "--allow-local" in refused.stderr

    allowed = rcops(env, "sources", "add", str(local), "--allow-local")
    assert allowed.returncode == 0, allowed.stderr
    assert "新增 1（local-site）" in allowed.stdout

    remote = tmp_path / "remote.json"
    remote.write_text(json.dumps([
        {"key": "county-news", "name": "县融媒体", "kind": "html", "url": "https://news.example.org/list",
         "media_level": "municipal", "config": {"list": {"link": "ul a"}, "detail": {"title": "h1", "body": ".content"}}},
    ], ensure_ascii=False), encoding="utf-8")
    added = rcops(env, "sources", "add", str(remote))
    assert added.returncode == 0, added.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text("key: Bad Key\nkind: rss\nurl: https://x.example.org/\n", encoding="utf-8")
    invalid = rcops(env, "sources", "add", str(bad))
    assert invalid.returncode == 1 and "字段 key" in invalid.stderr

    listed = rcops(env, "sources", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["key"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"local-site", "county-news"}
    county = rows["county-news"]
    assert county["state"] == "未抓取" and county["flags"] == [] and county["media_level"] == "municipal"
    assert county["config"]["detail"]["title"] == "h1"
    table = rcops(env, "sources")
    assert table.returncode == 0 and "county-news" in table.stdout


def test_import_then_list_mentions(settings, engine, tmp_path: Path) -> None:
    env = env_for(settings, RCOPS_ACTOR=administrator(engine))
    bad = tmp_path / "bad.csv"
    bad.write_text("标题,正文,链接,发布时间,来源,传播量\n好,正文,https://example.org/1,,,\n坏,,,,,\n", encoding="utf-8")
    refused = rcops(env, "import", str(bad))
    assert refused.returncode == 1
    assert "未导入任何信息" in refused.stderr and "第 3 行：缺少正文" in refused.stderr

    good = tmp_path / "good.csv"
    good.write_text(
        "标题,正文,链接,发布时间,来源,传播量\n"
        f"农信社暴力催收,{STORY},https://example.org/a,2024-04-30 10:00,某微信群,300\n"
        "旧闻,三年前的一条旧闻，与本次无关。,https://example.org/b,2021-01-01,某论坛,\n",
        encoding="utf-8",
    )
    imported = rcops(env, "import", str(good))
    assert imported.returncode == 0, imported.stderr
    assert "已导入 2 条" in imported.stdout

    listed = rcops(env, "mentions", "--json", "--since", "2024-01-01")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["title"] for r in rows] == ["农信社暴力催收"]
    row = rows[0]
    assert row["source"] is None and row["source_name"] == "某微信群" and row["origin"] == "manual"
    assert row["url"] == "https://example.org/a" and "110101********123X" in row["text"]
    assert row["published_at"] == "2024-04-30T10:00:00+08:00"  # shown in Asia/Shanghai
    assert row["is_first_source"] is True and row["crawled_at"]

    by_source = rcops(env, "mentions", "--json", "--source", "某论坛")
    assert [r["title"] for r in json.loads(by_source.stdout)] == ["旧闻"]
    unknown = rcops(env, "mentions", "--source", "no-such")
    assert unknown.returncode == 1 and "未知的信息源 'no-such'" in unknown.stderr
    bad_since = rcops(env, "mentions", "--since", "下周")
    assert bad_since.returncode == 1 and "无法识别的时间" in bad_since.stderr

    preview = rcops(env, "schemes", "test", "农信社 AND (催收 OR 挤兑) AND NOT 招聘", "--json")
    assert preview.returncode == 0, preview.stderr
    doc = json.loads(preview.stdout)
    assert (doc["scanned"], doc["matched"]) == (2, 1)
    assert doc["matches"][0]["hits"] == ["农信社", "催收"]
    assert doc["expression"] == "农信社 AND (催收 OR 挤兑) AND NOT 招聘"

    broken = rcops(env, "schemes", "test", "(农信社 OR 农商行")
    assert broken.returncode == 1
    assert "第 12 个字符处：缺少右括号" in broken.stderr
