"""Engine, sessions and schema migrations.

The outermost caller opens a session (``with session_scope(engine) as s:`` or
``with make_sessionmaker(engine).begin() as s:``); business functions take the
session and never commit on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .exceptions import DatabaseUnavailable, SchemaOutdated

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)  # type: ignore[arg-type]
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)  # type: ignore[arg-type]
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with make_sessionmaker(engine).begin() as session:
        yield session


def _alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest migration (creates it on an empty database)."""
    from alembic import command

    try:
        # "heads": independent branches (one per feature area) are all applied
        command.upgrade(_alembic_config(engine), "heads")
    except OperationalError as exc:  # pragma: no cover - depends on the environment
        raise DatabaseUnavailable(f"无法连接或写入数据库 {engine.url!r}：{exc.orig}") from exc


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutdated unless the schema is at the latest migration(s)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(_alembic_config(engine)).get_heads())
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except OperationalError as exc:
        raise DatabaseUnavailable(f"无法连接数据库 {engine.url!r}：{exc.orig}") from exc
    if current != heads:
        raise SchemaOutdated(
            f"数据库结构版本为 {'、'.join(sorted(current)) or '空'}，最新为 {'、'.join(sorted(heads))}；"
            "请先运行 `rcops init`。"
        )


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
