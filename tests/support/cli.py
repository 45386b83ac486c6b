"""Run an ``rcops`` command in this process, as a user would type it.

The command-line tests used to start a fresh interpreter per command (about a
second of imports each, dozens per test). This runs the same Typer app through
Click's test runner instead: the same argument parsing, the same settings read
from ``RCOPS_*`` environment variables, the same exit codes and the same
stdout/stderr. ``tests/pipeline/test_cli.py`` keeps running real processes for
what only a process shows (the ``rcops`` entry point, ``rcops demo``, signals).
"""

from __future__ import annotations

import os
import subprocess
from contextlib import chdir
from pathlib import Path

from typer.testing import CliRunner


def rcops(env: dict[str, str], *args: str, input: str | None = None,
          cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``rcops ARGS`` with the ``RCOPS_*`` variables of ``env`` (and none other of ours)."""
    from rcops.pipeline.cli import app
    from rcops.store.settings import get_settings

    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("RCOPS_")}
    overrides.update({k: v for k, v in env.items() if k.startswith("RCOPS_")})
    get_settings.cache_clear()
    try:
        with chdir(cwd or Path.cwd()):
            result = CliRunner().invoke(app, list(args), env=overrides, input=input)
    finally:
        get_settings.cache_clear()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash is a failure of the test, with its traceback, not an exit code
    return subprocess.CompletedProcess(["rcops", *args], result.exit_code, result.stdout, result.stderr)
