"""Found in testing, now fixed: `rcops sources add` and `rcops import` took any --actor (or none), bypassing roles
and audit; now add_sources needs monitoring.edit and import_mentions mentions.import, checked in the functions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from rcops.operations.accounts import create_user
from rcops.store.models import AuditEvent, Source
from tests.pipeline.test_cli import env_for
from tests.support.cli import rcops

pytestmark = pytest.mark.sqlite_only

SOURCE = "key: county-news\nname: 县融媒体\nkind: rss\nurl: https://news.example.org/feed.xml\n"


@pytest.fixture
def accounts(session_factory):
    with session_factory.begin() as s:
        create_user(s, "adm", "admin", "admin-pass-2026")
        create_user(s, "bank", "institution", "bank-pass-2026")
    return session_factory


@pytest.mark.parametrize("actor_args", [["--actor", "bank"], ["--actor", "ghost"], []])
def test_sources_add_needs_a_real_administrator(settings, engine, accounts, tmp_path: Path, actor_args):
    f = tmp_path / "s.yaml"
    f.write_text(SOURCE, encoding="utf-8")
    out = rcops(env_for(settings), "sources", "add", str(f), *actor_args)
    with accounts() as s:
        stored = s.scalars(select(Source.key)).all()
    assert out.returncode != 0 and stored == [], (out.returncode, out.stdout, stored)


def test_import_needs_a_real_account_and_honours_rcops_actor(settings, engine, accounts, tmp_path: Path):
    f = tmp_path / "m.csv"
    f.write_text("正文\n又一条手工录入信息：信用社网点排长队\n", encoding="utf-8")
    ghost = rcops(env_for(settings), "import", str(f), "--actor", "ghost")
    assert ghost.returncode != 0, ghost.stdout
    named = rcops(env_for(settings, RCOPS_ACTOR="adm"), "import", str(f))
    assert named.returncode == 0, named.stderr
    with accounts() as s:
        actors = set(s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "import")))
    assert actors == {"adm"}, actors
