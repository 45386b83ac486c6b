"""Replay site: releases over a fake clock, RSS feed, list/detail pages (one in GBK),
404s, wrap-around, loading texts (FinNSP eval, seed fallback) and the demo sources YAML."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest
import yaml
from parsel import Selector

from rcops.pipeline import replay
from rcops.pipeline.replay import (
    ReplayDataError,
    ReplayItem,
    ReplaySite,
    load_replay_items,
    split_paragraphs,
    title_from_text,
)
from tests.conftest import SHARED_DATA, needs_shared_data

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = ROOT / "rcops" / "pipeline" / "defaults"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_items(n: int = 10) -> list[ReplayItem]:
    places = ["城关镇", "河西乡", "东山村", "南湖镇", "北坡村", "西岭乡", "柳林镇", "石桥村", "桃园乡", "青山镇"]
    items = []
    for i in range(n):
        place = places[i % len(places)]
        text = (
            f"{place}农商行近日通报，部分借款人贷款逾期问题引发关注，催收人员被指存在违规行为。"
            f"\u3000\u3000县金融办表示将依法核查，并提醒群众通过正规渠道反映诉求。第{i + 1}条。"
        )
        if i == 2:
            text += "网友留言：支持依法处理😀"  # not encodable in GBK
        items.append(ReplayItem(title=f"{place}农商行回应贷款逾期催收问题（{i + 1}）", text=text, origin=f"测试 #{i}"))
    return items


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, dict(resp.headers.items()), resp.read()


def fetch_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except HTTPError as err:
        err.close()
        return err.code


def status_json(site: ReplaySite) -> dict:
    return json.loads(fetch(site.base_url + "/status.json")[2])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def items() -> list[ReplayItem]:
    return make_items()


@pytest.fixture
def site(items: list[ReplayItem], clock: FakeClock) -> Iterator[ReplaySite]:
    with ReplaySite(items, port=0, release_seconds=3.0, initial_items=12, clock=clock) as s:
        yield s


@pytest.fixture
def demo_config() -> dict:
    return yaml.safe_load((DEFAULTS / "demo_sources.yaml").read_text(encoding="utf-8"))


def _selectors(demo_config: dict) -> dict:
    src = next(s for s in demo_config["sources"] if s["kind"] == "html")
    return src["config"]


def _first(sel: Selector, css: str) -> str:
    return (sel.css(css).get() or "").strip()


# --------------------------------------------------------------------------- releases

def test_port_zero_gives_real_port_and_base_url(site: ReplaySite) -> None:
    assert site.port != 0
    assert site.base_url == f"http://127.0.0.1:{site.port}"
    status, headers, body = fetch(site.base_url + "/robots.txt")
    assert status == 200 and b"Allow: /" in body


def test_initial_release_then_one_per_interval(site: ReplaySite, clock: FakeClock) -> None:
    assert status_json(site)["released"] == 12
    assert status_json(site)["total"] == 10
    clock.advance(2.9)
    assert status_json(site)["released"] == 12
    clock.advance(0.1)
    assert status_json(site)["released"] == 13
    clock.advance(3.0 * 4)
    assert status_json(site)["released"] == 17


def test_new_item_appears_on_its_channel(site: ReplaySite, clock: FakeClock) -> None:
    # id 13 (odd) goes to the list page, id 14 (even) to the feed
    assert "/news/13.html" not in fetch(site.base_url + "/news/")[2].decode()
    clock.advance(3.0)
    assert "/news/13.html" in fetch(site.base_url + "/news/")[2].decode()
    assert "/feed/14.html" not in fetch(site.base_url + "/feed.xml")[2].decode()
    clock.advance(3.0)
    assert "/feed/14.html" in fetch(site.base_url + "/feed.xml")[2].decode()


def test_wrap_around_gives_new_unique_ids(site: ReplaySite, clock: FakeClock, items: list[ReplayItem]) -> None:
    clock.advance(3.0 * 15)  # 27 released from 10 texts
    released = site.released()
    ids = [r.id for r in released]
    assert ids == list(range(1, 28))
    assert released[10].item == items[0] and released[20].item == items[0]
    # the repeated text is served under a new, working URL
    _, _, body = fetch(site.base_url + "/news/21.html")
    assert items[0].title in body.decode("utf-8")
    paths = [r.path for r in released]
    assert len(set(paths)) == len(paths)


def test_release_times_are_utc_and_increasing(site: ReplaySite, clock: FakeClock) -> None:
    clock.advance(6.0)
    released = site.released()
    times = [r.released_at for r in released]
    assert all(t.utcoffset() is not None and t.utcoffset().total_seconds() == 0 for t in times)
    assert times == sorted(times) and len(set(times)) == len(times)


# --------------------------------------------------------------------------- feed

def test_feed_is_valid_rss_with_chinese_titles(site: ReplaySite, items: list[ReplayItem]) -> None:
    status, headers, body = fetch(site.base_url + "/feed.xml")
    assert status == 200 and "charset=utf-8" in headers["Content-Type"]
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "某县融媒体中心 · 金融资讯"
    entries = parsed.entries
    assert len(entries) == 6  # even ids among the 12 initial releases
    titles = {it.title for it in items}
    for e in entries:
        assert e.title in titles and "农商行" in e.title
        path = urlsplit(e.link).path
        assert path.startswith("/feed/") and int(path.split("/")[-1].split(".")[0]) % 2 == 0
        assert e.link.startswith(site.base_url)
        assert e.id == e.link
        assert e.published_parsed is not None
        assert "逾期" in e.summary
    # newest first
    ids = [int(urlsplit(e.link).path.split("/")[-1].split(".")[0]) for e in entries]
    assert ids == sorted(ids, reverse=True)


def test_feed_keeps_newest_30(items: list[ReplayItem], clock: FakeClock) -> None:
    with ReplaySite(items, port=0, initial_items=100, clock=clock) as s:
        parsed = feedparser.parse(fetch(s.base_url + "/feed.xml")[2])
        assert len(parsed.entries) == 30
        assert urlsplit(parsed.entries[0].link).path == "/feed/100.html"


def test_feed_description_is_escaped(clock: FakeClock) -> None:
    tricky = ReplayItem(title="标题<b>&“引号”", text="正文含有<script>alert(1)</script>与&符号，长度足够二十个字。", origin="t")
    with ReplaySite([tricky], port=0, initial_items=2, clock=clock) as s:
        body = fetch(s.base_url + "/feed.xml")[2].decode("utf-8")
        assert "<script>" not in body
        entry = feedparser.parse(body).entries[0]
        assert entry.title == tricky.title
        detail = fetch(s.base_url + "/feed/2.html")[2].decode("utf-8")
        assert "<script>" not in detail and "&lt;script&gt;" in detail


# --------------------------------------------------------------------------- list and detail pages

def test_list_page_links_resolve_to_detail_pages(
    site: ReplaySite, items: list[ReplayItem], demo_config: dict
) -> None:
    cfg = _selectors(demo_config)
    for path in ("/news/", "/news/index.html"):
        status, headers, body = fetch(site.base_url + path)
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        page = body.decode("utf-8")
        assert "某县融媒体中心 · 金融资讯" in page
        sel = Selector(text=page)
        links = sel.css(cfg["list"]["link"]).getall()
        assert links == [f"/news/{i}.html" for i in (11, 9, 7, 5, 3, 1)]
        dates = sel.css("ul.news-list li span.date::text").getall()
        assert len(dates) == len(links)
        assert all(len(d) == 16 and d[4] == "-" and d[13] == ":" for d in dates)

    by_title = {it.title: it for it in items}
    for link in links:
        status, headers, body = fetch(urljoin(site.base_url + "/news/", link))
        assert status == 200
        charset = "gbk" if "charset" not in headers["Content-Type"] else "utf-8"
        sel = Selector(text=body.decode(charset))
        title = _first(sel, cfg["detail"]["title"])
        item = by_title[title]
        paras = [p.strip() for p in sel.css(cfg["detail"]["body"]).getall()]
        assert len(paras) >= 2
        assert all(p in item.text for p in paras)
        assert sum(map(len, paras)) >= len(item.text.replace("\u3000", "")) - 4
        published = _first(sel, cfg["detail"]["published_at"])
        assert len(published) == 19 and published[10] == " "
        author = _first(sel, cfg["detail"]["author"])
        assert author.startswith("来源：") and item.origin in author


def test_list_page_keeps_newest_20(items: list[ReplayItem], clock: FakeClock) -> None:
    with ReplaySite(items, port=0, initial_items=60, clock=clock) as s:
        links = Selector(text=fetch(s.base_url + "/news/")[2].decode()).css("ul.news-list li a::attr(href)").getall()
        assert len(links) == 20 and links[0] == "/news/59.html"


def test_every_fourth_detail_page_is_gbk(site: ReplaySite, items: list[ReplayItem]) -> None:
    # 4th item of each channel: id 7 on the list page, id 8 on the feed
    for path, item in (("/news/7.html", items[6]), ("/feed/8.html", items[7])):
        status, headers, body = fetch(site.base_url + path)
        assert status == 200
        assert headers["Content-Type"] == "text/html"  # no charset, like old CMSes
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        page = body.decode("gbk")
        assert '<meta charset="gbk">' in page
        assert _first(Selector(text=page), "h1.title::text") == item.title
    # the others are UTF-8 with a declared charset
    status, headers, body = fetch(site.base_url + "/news/5.html")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert items[4].title in body.decode("utf-8")


def test_gbk_page_keeps_unencodable_characters_as_references(items: list[ReplayItem], clock: FakeClock) -> None:
    # put the item with an emoji on a GBK page: item index 2 at id 7 needs a 5-item cycle
    five = items[:5]
    with ReplaySite(five, port=0, initial_items=8, clock=clock) as s:
        _, headers, body = fetch(s.base_url + "/news/7.html")  # id 7 -> five[1]
        assert headers["Content-Type"] == "text/html"
        _, headers, body = fetch(s.base_url + "/feed/8.html")  # id 8 -> five[2] (emoji)
        page = body.decode("gbk")
        assert "&#128512;" in page
        assert "😀" in "".join(Selector(text=page).css("div.article p::text").getall())


def test_unknown_or_unreleased_ids_are_404(site: ReplaySite, clock: FakeClock) -> None:
    base = site.base_url
    assert fetch_status(base + "/news/13.html") == 404  # not yet released
    assert fetch_status(base + "/news/0.html") == 404
    assert fetch_status(base + "/feed/7.html") == 404  # odd ids live under /news/
    assert fetch_status(base + "/news/8.html") == 404  # even ids live under /feed/
    assert fetch_status(base + "/news/abc.html") == 404
    assert fetch_status(base + "/nothing") == 404
    clock.advance(3.0)
    assert fetch_status(base + "/news/13.html") == 200


def test_stop_closes_the_port(items: list[ReplayItem], clock: FakeClock) -> None:
    s = ReplaySite(items, port=0, clock=clock).start()
    url = s.base_url + "/status.json"
    assert fetch_status(url) == 200
    s.stop()
    s.stop()  # idempotent
    with pytest.raises(OSError):
        fetch(url)


# --------------------------------------------------------------------------- texts

def test_title_from_text() -> None:
    assert title_from_text("【山东荣成处非办提示风险：8家公司未提交备案材料】5月21日，有报道称……") == (
        "山东荣成处非办提示风险：8家公司未提交备案材料"
    )
    t = title_from_text("#小资钱包[超话]#北京资易贷公司负责人失联，是外逃了？还是被暗杀了？")
    assert t == "北京资易贷公司负责人失联，是外逃了"
    long = title_from_text("这是一段非常非常长的没有任何标点符号的文字用来测试标题截断是否在三十个字以内完成的情况")
    assert len(long) <= 30 and long.endswith("…")
    assert title_from_text("【今日舆情】合盘理财通过野鸡平台非法集资") == "合盘理财通过野鸡平台非法集资"


def test_split_paragraphs() -> None:
    assert split_paragraphs(" \u3000\u3000第一段内容。 \u3000\u3000第二段内容。 ") == ["第一段内容。", "第二段内容。"]
    long = "句子内容很长很长。" * 60
    parts = split_paragraphs(long)
    assert len(parts) > 1 and "".join(parts) == long and all(len(p) <= 240 for p in parts)


@needs_shared_data("fincuge_finance_sentiment", "finnsp_eval.json")
def test_items_come_from_the_finnsp_eval_split() -> None:
    records = json.loads((SHARED_DATA / replay.FINNSP_EVAL).read_text(encoding="utf-8"))
    items = load_replay_items(SHARED_DATA, include_social=False)
    assert 400 <= len(items) <= len(records)
    for it in items:
        assert it.origin.startswith("FinNSP eval #")
        rec = records[int(it.origin.split("#")[1])]
        assert it.text == replay._clean_text(rec[2])
        assert len(it.text) >= 20 and it.title and len(it.title) <= 40
    # interleaved: neighbours are about different entities
    clashes = sum(1 for a, b in zip(items, items[1:]) if set(a.entities) & set(b.entities))
    assert clashes <= len(items) // 50
    # file order is kept as far as possible: the first items are the file's first records
    assert items[0].origin == "FinNSP eval #0"


@needs_shared_data("smp2020_ewect_weibo", "usual_test_labeled.json")
@needs_shared_data("fincuge_finance_sentiment", "finnsp_eval.json")
def test_money_related_weibo_posts_are_mixed_in() -> None:
    items = load_replay_items(SHARED_DATA)
    social = [it for it in items if it.channel == "社交媒体"]
    assert 5 <= len(social) <= 60
    assert all(any(k in it.text for k in replay.SOCIAL_KEYWORDS) for it in social)
    assert all(it.origin.startswith("SMP2020 usual_test #") for it in social)
    # spread out, not one block
    positions = [i for i, it in enumerate(items) if it.channel == "社交媒体"]
    assert positions[-1] - positions[0] > len(items) // 2


def test_falls_back_to_the_seed_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = tmp_path / "seed_mentions.jsonl"
    rows = [
        {"title": "某村镇银行回应储户存款无法支取", "text": "近日有储户反映某村镇银行线上存款无法支取，银行回应称系统升级。", "label": "negative", "category": "存款"},
        {"title": "", "text": "信用村评定工作启动。县农商行将为信用户提供优惠利率贷款，助力乡村振兴。", "label": "neutral", "category": "信用建设"},
        {"title": "太短", "text": "太短的正文", "label": "neutral", "category": "x"},
    ]
    seed.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    monkeypatch.setattr(replay, "SEED_FILE", seed)
    items = load_replay_items(tmp_path / "no-shared-data")
    assert [it.title for it in items] == ["某村镇银行回应储户存款无法支取", "信用村评定工作启动"]
    assert items[0].origin == "种子样本 #1"


def test_clear_error_when_no_texts_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay, "SEED_FILE", tmp_path / "missing.jsonl")
    with pytest.raises(ReplayDataError, match="回放站没有可用的文本"):
        load_replay_items(tmp_path / "no-shared-data")
    with pytest.raises(ReplayDataError):
        ReplaySite([])


@needs_shared_data("fincuge_finance_sentiment", "finnsp_eval.json")
def test_module_main_serves_until_sigterm(tmp_path: Path) -> None:
    env = dict(os.environ, RCOPS_SHARED_DATA_DIR=str(SHARED_DATA), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcops.pipeline.replay", "--port", "0", "--release-seconds", "1"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "回放站已启动" in line
        base = line.split("回放站已启动：", 1)[1].split("/", 3)
        base_url = "/".join(base[:3])
        st = json.loads(fetch(base_url + "/status.json")[2])
        assert st["released"] >= 12 and st["total"] >= 400
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


# --------------------------------------------------------------------------- source definitions

MEDIA_LEVELS = {"central", "provincial", "municipal", "industry", "self_media"}


@pytest.mark.parametrize("name", ["demo_sources.yaml", "real_sources.yaml"])
def test_source_files_are_well_formed(name: str) -> None:
    cfg = yaml.safe_load((DEFAULTS / name).read_text(encoding="utf-8"))
    sources, schemes = cfg["sources"], cfg["schemes"]
    keys = [s["key"] for s in sources]
    assert len(keys) == len(set(keys))
    for s in sources:
        assert set(s) >= {"key", "name", "kind", "url", "interval_seconds", "media_level", "region", "config"}
        assert s["kind"] in {"rss", "html"}
        assert s["url"].startswith(("http://", "https://"))
        assert isinstance(s["interval_seconds"], int) and s["interval_seconds"] > 0
        assert s["media_level"] in MEDIA_LEVELS
        assert isinstance(s.get("enabled", True), bool)
        assert isinstance(s["config"], dict)
        if s["kind"] == "html":
            assert s["config"]["list"]["link"]
            assert {"title", "body"} <= set(s["config"]["detail"])
    assert [sc["name"] for sc in schemes] == ["信用体系主体监测", "金融风险事件监测"]
    for sc in schemes:
        for field in ("subject_words", "region_words", "event_words", "exclusion_words"):
            words = sc.get(field, [])
            assert isinstance(words, list) and all(isinstance(w, str) and w.strip() for w in words)
        assert sc["subject_words"] and sc["exclusion_words"]
    assert schemes[1]["event_words"]


def test_demo_sources_point_at_the_replay_site(demo_config: dict) -> None:
    by_kind = {s["kind"]: s for s in demo_config["sources"]}
    assert set(by_kind) == {"rss", "html"}
    assert by_kind["rss"]["key"] == "replay-rss" and by_kind["html"]["key"] == "replay-html"
    assert by_kind["rss"]["url"] == "http://127.0.0.1:8765/feed.xml"
    assert by_kind["html"]["url"] == "http://127.0.0.1:8765/news/"
    real = yaml.safe_load((DEFAULTS / "real_sources.yaml").read_text(encoding="utf-8"))
    assert real["schemes"] == demo_config["schemes"]
