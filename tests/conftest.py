"""Shared fixtures: a fresh database per test (SQLite file, and PostgreSQL when
RCOPS_TEST_POSTGRES_URL is set), settings pointing at it, and the shared data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from rcops.store.db import make_engine, make_sessionmaker, migrate
from rcops.store.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT.parent / "shared" / "data").resolve()
POSTGRES_URL = os.environ.get("RCOPS_TEST_POSTGRES_URL", "")

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="RCOPS_TEST_POSTGRES_URL 未设置"),
    ),
]


def needs_shared_data(*parts: str) -> pytest.MarkDecorator:
    path = SHARED_DATA.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"缺少共享数据 {path}")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of each backend; PostgreSQL gets a schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'rcops.db').as_posix()}"
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("命令行端到端流程只在内嵌数据库上重复一次；同样的函数在 PostgreSQL 上另有测试")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    s = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        database_url=db_url,
        shared_data_dir=SHARED_DATA,
    )
    s.ensure_dirs()
    return s


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.db_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine):  # type: ignore[no-untyped-def]
    return make_sessionmaker(engine)
