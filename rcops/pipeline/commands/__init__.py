"""Commands of each feature area, registered on the one ``rcops`` Typer app.

Each module here defines ``register(app: typer.Typer) -> None`` that adds its
commands (``@app.command()``) or sub-apps (``app.add_typer(...)``). To add an
area, write its module and name it in ``AREAS``: one explicit place.
Commands are thin: they open settings and a session and call package functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.orm import Session

#: modules of rcops.pipeline.commands, in the order their commands are listed
AREAS: list[str] = ["classifier", "accounts", "monitoring", "disposal"]


def register_all(app: typer.Typer) -> None:
    for name in AREAS:
        importlib.import_module(f"{__name__}.{name}").register(app)


@contextmanager
def open_session(write: bool = False) -> Iterator[Session]:
    """A session on the configured database for one command (one transaction when ``write``);
    the schema must be at the latest migration."""
    from rcops.store.db import check_schema, make_engine, make_sessionmaker
    from rcops.store.settings import get_settings

    engine = make_engine(get_settings().db_url)
    try:
        check_schema(engine)
        factory = make_sessionmaker(engine)
        if write:
            with factory.begin() as session:
                yield session
        else:
            with factory() as session:
                yield session
    finally:
        engine.dispose()
