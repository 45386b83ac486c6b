"""Shared fixtures: a fresh database per test (SQLite file, and PostgreSQL when
RCOPS_TEST_POSTGRES_URL is set), settings pointing at it, and the shared data.

Speed (the whole suite runs in CI on two shared cores):

- A test that asks for ``engine`` (directly or through ``session_factory``) gets
  a copy of a database migrated once per test session — a file copy on SQLite,
  ``CREATE DATABASE … TEMPLATE`` on PostgreSQL — instead of running every
  Alembic migration again. A test that asks only for ``db_url``/``settings``
  still gets an empty database (``rcops init`` and the migration tests need one).
- Password hashes in tests use argon2id with the smallest cost; production keeps
  argon2's defaults (checked in tests/accounts/test_accounts.py).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

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

#: database URLs handed out already migrated (the ``engine`` fixture does not migrate them again)
_PREMIGRATED: set[str] = set()

#: the password hasher the product uses, kept so a test can check its strength
PRODUCTION_HASHER = None


def needs_shared_data(*parts: str) -> pytest.MarkDecorator:
    path = SHARED_DATA.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"缺少共享数据 {path}")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """argon2id at its smallest cost: hashing is ~1 ms instead of ~100 ms; verifying reads the
    parameters from each hash, so sign-in works the same way."""
    global PRODUCTION_HASHER
    from argon2 import PasswordHasher

    from rcops.operations import accounts

    PRODUCTION_HASHER = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    accounts._hasher = PRODUCTION_HASHER


def _pg_admin() -> Engine:
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _pg_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "rcops.db"
    eng = make_engine(f"sqlite:///{path.as_posix()}")
    migrate(eng)
    eng.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    name = f"rcops_tpl_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(_pg_url(name))
    migrate(eng)
    eng.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a database of each backend of its own: migrated when the test uses ``engine``,
    empty otherwise. PostgreSQL gets a database of its own, dropped afterwards."""
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "rcops.db"
        url = f"sqlite:///{path.as_posix()}"
        if migrated:
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
            _PREMIGRATED.add(url)
        yield url
        _PREMIGRATED.discard(url)
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("命令行端到端流程只在内嵌数据库上重复一次；同样的函数在 PostgreSQL 上另有测试")
    name = f"t_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{request.getfixturevalue("_pg_template")}"' if migrated else ""
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
    url = _pg_url(name)
    if migrated:
        _PREMIGRATED.add(url)
    yield url
    _PREMIGRATED.discard(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
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
    if settings.db_url not in _PREMIGRATED:
        migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine):  # type: ignore[no-untyped-def]
    return make_sessionmaker(engine)
