from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from rcops.crawlers.exceptions import CrawlerError, SourceConfigError
from rcops.crawlers.sources import load_monitoring_config, read_monitoring_config, validate_source
from rcops.store.db import session_scope
from rcops.store.models import AuditEvent, MonitoringScheme, Source

YAML = """
sources:
  - key: pbc-feed
    name: 人民银行新闻
    kind: rss
    url: https://www.example.org/feed.xml
    interval_seconds: 900
    media_level: central
    region: 全国
  - key: county-news
    name: 县融媒体中心
    kind: html
    url: http://news.example.cn/list.html
    enabled: false
    media_level: municipal
    config:
      encoding: gbk
      list.link: "ul.news a"
      list.next: "//a[@class='next']/@href"
      detail:
        title: h1
        body: "div.article p"
        published_at: .time
      max_items: 20
      max_pages: 3
schemes:
  - name: 农信负面
    subject_words: [农信社, 农商银行]
    region_words: [河北]
    event_words: [挤兑, 诈骗]
    exclusion_words: [招聘]
"""


def test_load_yaml_creates_rows_and_audit_events(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(YAML, encoding="utf-8")
    with session_scope(engine) as session:
        outcome = load_monitoring_config(session, path, "admin")
    assert outcome["sources"]["created"] == ["pbc-feed", "county-news"]
    assert outcome["schemes"]["created"] == ["农信负面"]
    with session_scope(engine) as session:
        county = session.scalar(select(Source).where(Source.key == "county-news"))
        assert county is not None
        assert county.enabled is False
        assert county.config == {
            "encoding": "gbk",
            "list": {"link": "ul.news a", "next": "//a[@class='next']/@href"},
            "detail": {"title": "h1", "body": "div.article p", "published_at": ".time"},
            "max_items": 20,
            "max_pages": 3,
        }
        feed = session.scalar(select(Source).where(Source.key == "pbc-feed"))
        assert feed is not None and feed.interval_seconds == 900 and feed.media_level == "central"
        scheme = session.scalar(select(MonitoringScheme))
        assert scheme is not None and scheme.event_words == ["挤兑", "诈骗"]
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.entity_type, e.action, e.actor) for e in events] == [
            ("source", "create", "admin"),
            ("source", "create", "admin"),
            ("monitoring_scheme", "create", "admin"),
        ]


def test_reloading_updates_changed_rows_only(engine: Engine) -> None:
    import yaml

    data: dict[str, Any] = yaml.safe_load(YAML)
    with session_scope(engine) as session:
        load_monitoring_config(session, data, "admin")
    data["sources"][0]["interval_seconds"] = 300
    data["schemes"][0]["exclusion_words"] = ["招聘", "广告"]
    with session_scope(engine) as session:
        outcome = load_monitoring_config(session, data, "ops")
    assert outcome["sources"] == {"created": [], "updated": ["pbc-feed"], "unchanged": ["county-news"]}
    assert outcome["schemes"] == {"created": [], "updated": ["农信负面"], "unchanged": []}
    with session_scope(engine) as session:
        updates = session.scalars(select(AuditEvent).where(AuditEvent.action == "update").order_by(AuditEvent.id)).all()
        assert [(e.entity_type, e.actor) for e in updates] == [("source", "ops"), ("monitoring_scheme", "ops")]
        assert updates[0].detail["changes"] == {"interval_seconds": {"from": 900, "to": 300}}
        assert session.scalar(select(Source.interval_seconds).where(Source.key == "pbc-feed")) == 300


def _source(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": "s1", "name": "源", "kind": "rss", "url": "https://example.org/feed"}
    entry.update(overrides)
    return entry


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"sources": [_source(kind="ftp")]}, r"信息源第 1 项（key=s1） 字段 kind：未知的类型 'ftp'"),
        ({"sources": [_source(url=None)]}, r"（key=s1） 字段 url：不能为空"),
        ({"sources": [_source(url="file:///etc/passwd")]}, r"字段 url：必须是 http:// 或 https:// 地址"),
        ({"sources": [_source(key="Bad Key")]}, r"信息源第 1 项 字段 key"),
        ({"sources": [_source(), _source()]}, r"key=s1 重复"),
        ({"sources": [_source(media_level="global")]}, r"字段 media_level"),
        ({"sources": [_source(interval_seconds=0)]}, r"字段 interval_seconds：必须是不小于 5 的整数"),
        ({"sources": [_source(config={"encoding": "klingon"})]}, r"config.encoding：未知的编码"),
        ({"sources": [_source(config={"colour": "red"})]}, r"config：未知的键 colour"),
        ({"sources": [_source(kind="html", config={"list": {"link": "a"}, "detail": {"title": "h1"}})]}, r"config.detail.body：已配置 detail.title，请同时配置 detail.body"),
        ({"sources": [_source(kind="html", config={"list": {"link": "a[["}, "detail": {"title": "h1", "body": "p"}})]}, r"config.list.link：选择器 'a\[\[' 无效"),
        ({"sources": [_source(config={"detail": {"title": "//h1[@"}})]}, r"config.detail.title：选择器"),
        ({"schemes": [{"name": "方案", "subject_words": []}]}, r"监测方案第 1 项（name=方案） 字段 subject_words：至少需要一个词"),
        ({"schemes": [{"name": "方案", "subject_words": ["  "]}]}, r"subject_words：至少需要一个词"),
        ({"schemes": [{"subject_words": ["农信社"]}]}, r"监测方案第 1 项 字段 name：不能为空"),
        ({"schemes": [{"name": "方案", "subject_words": ["a"], "enabled": "yes"}]}, r"字段 enabled：必须是 true 或 false"),
        ({"feeds": []}, r"未知的顶层键：feeds"),
    ],
)
def test_invalid_config_names_entry_and_field(config: dict[str, Any], message: str) -> None:
    # the validation load_monitoring_config runs before it writes anything
    with pytest.raises(SourceConfigError, match=message):
        read_monitoring_config(config)


def test_invalid_entry_writes_nothing(engine: Engine) -> None:
    config = {"sources": [_source(key="good"), _source(key="bad", url="ftp://x")]}
    with pytest.raises(CrawlerError):
        with session_scope(engine) as session:
            load_monitoring_config(session, config, "admin")
    with session_scope(engine) as session:
        assert session.scalars(select(Source)).all() == []


def test_missing_and_broken_files(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        with pytest.raises(SourceConfigError, match="找不到监测配置文件"):
            load_monitoring_config(session, tmp_path / "nope.yaml", "admin")
        broken = tmp_path / "broken.yaml"
        broken.write_text("sources: [\n", encoding="utf-8")
        with pytest.raises(SourceConfigError, match="不是有效的 YAML"):
            load_monitoring_config(session, broken, "admin")


def test_politeness_options_are_validated_and_reach_scrapy() -> None:
    from rcops.crawlers.settings import scrapy_settings
    from rcops.store.settings import Settings

    config = {"delay": 1.5, "concurrency": 2, "timeout": 30, "retries": 0, "obey_robots": True}
    source = validate_source(_source(config=config), 0)
    scrapy = scrapy_settings(Settings(_env_file=None), source["config"])  # type: ignore[call-arg]
    assert (scrapy.getfloat("DOWNLOAD_DELAY"), scrapy.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
            scrapy.getfloat("DOWNLOAD_TIMEOUT"), scrapy.getint("RETRY_TIMES")) == (1.5, 2, 30.0, 0)
    assert scrapy.getbool("ROBOTSTXT_OBEY") is True
    for bad, message in (({"delay": -1}, "config.delay"), ({"timeout": "x"}, "config.timeout"),
                         ({"concurrency": 0}, "config.concurrency"), ({"retries": -1}, "config.retries")):
        with pytest.raises(SourceConfigError, match=message):
            validate_source(_source(config=bad), 0)
