"""Commands of each feature area, registered on the one ``rcops`` Typer app.

Each module here defines ``register(app: typer.Typer) -> None`` that adds its
commands (``@app.command()``) or sub-apps (``app.add_typer(...)``). To add an
area, write its module and name it in ``AREAS``: one explicit place.
Commands are thin: they open settings and a session and call package functions.
"""

from __future__ import annotations

import importlib

import typer

#: modules of rcops.pipeline.commands, in the order their commands are listed
AREAS: list[str] = ["classifier", "accounts", "monitoring", "disposal"]


def register_all(app: typer.Typer) -> None:
    for name in AREAS:
        importlib.import_module(f"{__name__}.{name}").register(app)
