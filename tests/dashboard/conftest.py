"""A database with a few incidents of different tiers, and the console pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import streamlit as st
from sqlalchemy import select

from rcops.operations.accounts import create_user
from rcops.plans.schema import load_rules_file
from rcops.plans.store_io import install_rules
from rcops.store.models import CrawlRun, Incident, Mention, Source, utcnow
from rcops.store.settings import get_settings
from rcops.triage.engine import process_pending


class WordScorer:
    """A transparent stand-in for the trained model: risky words give a high score."""

    version = "test-words"
    RISKY = ("跑路", "催收", "诈骗", "泄露", "逾期", "投诉")

    def score(self, texts):  # type: ignore[no-untyped-def]
        return [0.9 if any(w in t for w in self.RISKY) else 0.1 for t in texts]


TITLE_I = "某信用信息平台征信数据泄露 数万农户受影响"
TITLE_II = "村镇银行泄露客户信息"
TITLE_III = "农户投诉贷款逾期被催收"

MENTIONS = [
    # (title, text, hours ago)
    (TITLE_III, "有农户投诉说贷款逾期后被反复催收电话骚扰，影响生活。", 5),
    (TITLE_II, "某村镇银行工作人员涉嫌泄露信用户个人信息，多名农户接到诈骗电话，当地已立案调查，"
               "银行称正在配合警方处理此事。<script>alert('x')</script>", 2),
    (TITLE_I, "网传某信用信息平台发生征信数据泄露，涉及数万农户的信用档案，部分农户表示将集体维权。", 1),
    ("县里举办信用村授牌仪式", "今天县里为十个信用村授牌，农户可凭信用获得贷款。", 1),
]


#: the console's users: name → (role, password)
ACCOUNTS: dict[str, tuple[str, str]] = {
    "张三": ("operator", "zhangsan-pass"),
    "李四": ("operator", "lisi-password"),
    "admin": ("admin", "admin-password"),
    "bank": ("institution", "bank-password"),
    "auditor": ("auditor", "auditor-password"),
}


@dataclass
class Seeded:
    ids: dict[str, int]  # title → incident id


def populate(session_factory) -> Seeded:  # type: ignore[no-untyped-def]
    """Rules, one source with a failed crawl run, four mentions → three incidents (Ⅰ, Ⅱ, Ⅲ), one user per role."""
    now = utcnow()
    with session_factory.begin() as s:
        for name, (role, password) in ACCOUNTS.items():  # first: only ``system`` acts on a database without accounts
            create_user(s, name, role, password)
        install_rules(s, load_rules_file(), "admin")
        src = Source(key="county_news", name="县融媒体", kind="rss", url="http://127.0.0.1/feed",
                     media_level="municipal")
        s.add(src)
        s.flush()
        s.add(CrawlRun(source_id=src.id, started_at=now - timedelta(minutes=10),
                       finished_at=now - timedelta(minutes=9), status="failed", items_seen=0,
                       error="连接超时：http://127.0.0.1/feed"))
        for n, (title, text, hours) in enumerate(MENTIONS, start=1):
            s.add(Mention(source_id=src.id, url=f"http://127.0.0.1/{n}", canonical_url=f"http://127.0.0.1/{n}",
                          content_hash=f"h{n}", title=title, text=text, reach=10 * n,
                          crawled_at=now - timedelta(hours=hours)))
        s.flush()
        process_pending(s, WordScorer())
    with session_factory() as s:
        incidents = s.scalars(select(Incident)).all()
        ids = {i.title: i.id for i in incidents}
        tiers = {i.title: i.tier_code for i in incidents}
    assert tiers == {TITLE_I: "I", TITLE_II: "II", TITLE_III: "III"}, tiers
    return Seeded(ids)


def reset_console_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()  # disposes the cached engines
    get_settings.cache_clear()


@pytest.fixture
def console(settings, session_factory, monkeypatch) -> Iterator[Seeded]:  # type: ignore[no-untyped-def]
    """The seeded database of this test, with the console's settings pointing at it."""
    seeded = populate(session_factory)
    monkeypatch.setenv("RCOPS_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("RCOPS_DATA_DIR", str(settings.data_dir))
    reset_console_caches()
    yield seeded
    reset_console_caches()
