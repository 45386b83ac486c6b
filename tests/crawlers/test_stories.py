"""Near-duplicates across sources and runs form one story chain with its first source (首发)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from rcops.crawlers.canonical import content_hash
from rcops.crawlers.runner import crawl_source
from rcops.crawlers.stories import (
    MAX_DISTANCE,
    StoryIndex,
    attach,
    distance,
    insert_mention,
    mention_simhash,
    simhash,
    story_chain,
)
from rcops.store.models import Mention
from tests.conftest import needs_shared_data

from .conftest import NEWS_PAGES, configure

T0 = datetime(2024, 4, 30, 2, 0, tzinfo=timezone.utc)
STORY = (
    "近日，河北某县农信社多名储户反映，其账户在未授权情况下被扣划资金，累计涉及金额逾百万元。"
    "县金融办已会同人民银行县支行成立联合调查组，要求该社暂停相关业务并逐笔核查，"
    "同时开通投诉热线，承诺在十五个工作日内向社会公布调查结果。多名储户表示将保留通过法律途径维权的权利。"
)
OTHER = (
    "为推进信用村建设，某市农商银行本周在辖内十二个乡镇开展整村授信，现场为种植大户和家庭农场发放助农贷，"
    "并同步宣传征信知识，提醒村民按时还款、珍惜信用记录，谨防以征信修复为名的诈骗。"
)


def repost(text: str) -> str:
    return "来源：某某财经网 记者 张三\n" + text.replace("逾百万元", "超过一百万元") + "\n（责任编辑：李四）"


def new(url: str, title: str, text: str, published: datetime | None, crawled: datetime) -> Mention:
    mention = Mention(url=url, canonical_url=url, content_hash=content_hash(title, text), title=title, text=text,
                      published_at=published, crawled_at=crawled)
    return mention


def test_simhash_tells_reposts_from_other_stories() -> None:
    original = mention_simhash("某县农信社储户资金被扣划", STORY)
    reposted = mention_simhash("转载：某县农信社储户资金被扣划 调查组已介入", repost(STORY))
    other = mention_simhash("农商银行整村授信", OTHER)
    assert original is not None and reposted is not None and other is not None
    assert distance(original, reposted) <= MAX_DISTANCE
    assert distance(original, other) > 2 * MAX_DISTANCE
    assert simhash("太短的文本") is None


def test_a_repost_stored_first_is_demoted_when_the_earlier_original_arrives(session_factory) -> None:
    index = StoryIndex()
    with session_factory.begin() as s:
        # a portal's repost is crawled first …
        first_seen = new("https://portal.example.org/1", "转载：储户资金被扣划", repost(STORY), T0 + timedelta(hours=3), T0 + timedelta(hours=4))
        attach(s, first_seen, index)
        unrelated = new("https://bank.example.org/2", "整村授信", OTHER, T0, T0 + timedelta(hours=4))
        attach(s, unrelated, index)
    with session_factory.begin() as s:
        # … then, in a later run, the county paper that published it first
        original = new("https://county.example.org/3", "储户资金被扣划", STORY, T0, T0 + timedelta(hours=5))
        attach(s, original, StoryIndex())  # a fresh index (another run) finds it in the store
        # and a third site, later still
        late = new("https://blog.example.org/4", "储户资金被扣划了", repost(STORY) + "网友评论：太离谱了。", T0 + timedelta(hours=6), T0 + timedelta(hours=6))
        attach(s, late, StoryIndex())
    with session_factory() as s:
        repost_row = s.get(Mention, first_seen.id)
        chain = story_chain(s, repost_row.story_key)
        assert [m.url for m in chain] == [
            "https://county.example.org/3",
            "https://portal.example.org/1",
            "https://blog.example.org/4",
        ]
        assert [(m.is_first_source, m.spread_rank) for m in chain] == [(True, 1), (False, 2), (False, 3)]
        other = s.get(Mention, unrelated.id)
        assert other.story_key != repost_row.story_key and other.is_first_source and other.spread_rank == 1


def test_a_word_for_word_repost_at_another_url_joins_the_chain_and_the_incident(session_factory) -> None:
    """Exact reposts count (reach, spread order, first source) without a second incident."""
    from rcops.plans.schema import load_rules_file
    from rcops.plans.store_io import install_rules
    from rcops.store.models import Incident
    from rcops.triage.engine import process_pending

    class Risky:
        version = "test"

        def score(self, texts: list[str]) -> list[float]:
            return [0.9 for _ in texts]

    title, text = "某县农信社储户资金被扣划", STORY.replace("投诉热线", "投诉热线（诈骗举报）")
    with session_factory.begin() as s:
        install_rules(s, load_rules_file(), "system")
        original = new("https://county.example.org/3", title, text, T0, T0 + timedelta(hours=1))
        original.reach = 10
        attach(s, original, StoryIndex())
        process_pending(s, Risky())
    with session_factory.begin() as s:
        copy = new("https://portal.example.org/9", title, text, T0 + timedelta(hours=2), T0 + timedelta(hours=2))
        copy.reach = 300
        attach(s, copy, StoryIndex())
        result = process_pending(s, Risky())
        assert (result.incidents_created, result.attached) == (0, 1)
    with session_factory() as s:
        rows = story_chain(s, original.story_key)
        assert [(m.url, m.is_first_source, m.spread_rank) for m in rows] == [
            ("https://county.example.org/3", True, 1), ("https://portal.example.org/9", False, 2)]
        incident = s.scalars(select(Incident)).one()
        assert (incident.mention_count, incident.total_reach) == (2, 310)
        assert {m.incident_id for m in rows} == {incident.id}


def row(url: str, title: str, text: str, published: datetime | None, crawled: datetime) -> dict:
    return {"url": url, "canonical_url": url, "content_hash": content_hash(title, text), "title": title, "text": text,
            "author": "", "published_at": published, "crawled_at": crawled, "matched": {}, "reach": 0,
            "masked_count": 0, "origin": "crawl", "source_name": "", "source_id": None, "crawl_run_id": None}


def test_the_crawls_core_insert_places_mentions_in_chains_as_attach_does(engine, session_factory) -> None:
    """The store pipeline's ORM-free path: the same chain order, first source and exact reposts."""
    index = StoryIndex()

    def store(values: dict, same_text: object = None) -> int:
        with engine.begin() as conn:  # one transaction per mention, as in the pipeline
            mention_id = insert_mention(conn, values, index, same_text=same_text)
        value = mention_simhash(values["title"], values["text"])
        if value is not None:
            index.add(mention_id, value, values["story_key"])
        return mention_id

    first_seen = row("https://portal.example.org/1", "转载：储户资金被扣划", repost(STORY), T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    store(first_seen)
    store(row("https://bank.example.org/2", "整村授信", OTHER, T0, T0 + timedelta(hours=4)))
    original = row("https://county.example.org/3", "储户资金被扣划", STORY, T0, T0 + timedelta(hours=5))
    store(original)
    assert (original["spread_rank"], original["is_first_source"]) == (1, True)
    # a word-for-word copy, its chain named by the de-duplication look-up
    copy = row("https://blog.example.org/4", "储户资金被扣划", STORY, T0 + timedelta(hours=6), T0 + timedelta(hours=6))
    store(copy, same_text=first_seen["story_key"])
    with session_factory() as s:
        chain = story_chain(s, first_seen["story_key"])
        assert [(m.url, m.is_first_source, m.spread_rank) for m in chain] == [
            ("https://county.example.org/3", True, 1),
            ("https://portal.example.org/1", False, 2),
            ("https://blog.example.org/4", False, 3),
        ]
        assert all(m.simhash and m.origin == "crawl" and m.risk_score is None for m in chain)
        assert len(s.scalars(select(Mention)).all()) == 4


def test_the_same_url_is_never_stored_twice(session_factory) -> None:
    from sqlalchemy.exc import IntegrityError

    with session_factory.begin() as s:
        attach(s, new("https://county.example.org/3", "标题", STORY, T0, T0), StoryIndex())
    try:
        with session_factory.begin() as s:
            attach(s, new("https://county.example.org/3", "标题改了", STORY, T0, T0), StoryIndex())
    except IntegrityError:
        pass
    else:  # pragma: no cover
        raise AssertionError("the same canonical URL was stored twice")


@needs_shared_data("crawler_fixtures", "news_pages", "gne_result.txt")
def test_reposts_across_two_sources_and_two_runs_form_one_chain(settings, engine, http_server) -> None:
    raw = (NEWS_PAGES / "gne_result.txt").read_text(encoding="utf-8")
    article = next(
        json.loads(body)
        for path, body in re.findall(r">>>>+(.*?)>>>>+\n(.*?)\n<<<<", raw, re.S)
        if path.endswith("tests/163/1.html")
    )
    title, body = article["title"], article["content"]

    def feed(items: list[tuple[str, str, str, str]]) -> bytes:
        entries = "".join(
            f"<item><title>{t}</title><link>{link}</link><description><![CDATA[{b}]]></description><pubDate>{d}</pubDate></item>"
            for t, link, b, d in items
        )
        return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{entries}</channel></rss>'.encode()

    base = http_server.url("")
    words = sorted(set(re.findall(r"[\u4e00-\u9fff]{2}", title)))[:3]
    short_title, short_text = "快讯", "据悉" + "、".join(words) + "。"  # too short for a SimHash
    http_server.route("/portal.xml", 200, {"Content-Type": "application/rss+xml"}, feed([
        (f"转载：{title}", f"{base}/p/1", "来源：网易新闻\n" + body + "\n（编辑：王五）", "Tue, 30 Apr 2024 12:00:00 +0800"),
        # word-for-word copies at other URLs: one of the article, one of a short notice
        (title, f"{base}/p/2", body, "Tue, 30 Apr 2024 11:00:00 +0800"),
        (short_title, f"{base}/p/3", short_text, "Tue, 30 Apr 2024 11:30:00 +0800"),
    ]))
    http_server.route("/origin.xml", 200, {"Content-Type": "application/rss+xml"}, feed([
        (title, f"{base}/o/1", body, "Tue, 30 Apr 2024 09:00:00 +0800"),
        (short_title, f"{base}/o/2", short_text, "Tue, 30 Apr 2024 08:00:00 +0800"),
        (short_title, f"{base}/o/2?utm_source=rss", short_text, "Tue, 30 Apr 2024 08:00:00 +0800"),  # the same URL again
    ]))
    configure(
        engine,
        [
            {"key": "portal", "name": "门户", "kind": "rss", "url": f"{base}/portal.xml"},
            {"key": "origin", "name": "首发媒体", "kind": "rss", "url": f"{base}/origin.xml"},
        ],
        [{"name": "全部", "subject_words": words}],
    )
    first = crawl_source(settings, "portal", timeout=60)
    assert first["items_stored"] == 3
    second = crawl_source(settings, "origin", timeout=60)
    # both copies are stored (the same URL only once) and lead their chains: published first
    assert (second["items_stored"], second["items_duplicate"]) == (2, 1)
    assert second["stats"]["入库的转载（全文相同）"] == 2 and second["stats"].get("入库的转载（近似重复）") is None
    from rcops.store.db import session_scope

    with session_scope(engine) as s:
        rows = s.scalars(select(Mention).order_by(Mention.story_key, Mention.spread_rank)).all()
        chains: dict[str, list[tuple[str, bool, int]]] = {}
        for m in rows:
            chains.setdefault(m.story_key, []).append((m.url.rsplit("/", 2)[-2] + "/" + m.url.rsplit("/", 1)[-1],
                                                       m.is_first_source, m.spread_rank))
        assert sorted(chains.values()) == [
            [("o/1", True, 1), ("p/2", False, 2), ("p/1", False, 3)],
            [("o/2", True, 1), ("p/3", False, 2)],
        ]
