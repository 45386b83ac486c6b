"""Found in testing, now fixed: `rcops sources add` with monitoring schemes in the file says nothing was saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from rcops.store.models import MonitoringScheme
from tests.pipeline.test_cli import env_for
from tests.support.cli import rcops

pytestmark = pytest.mark.sqlite_only


def test_the_message_names_the_schemes_it_saved(settings, engine, session_factory, tmp_path: Path):
    f = tmp_path / "s.yaml"
    f.write_text("schemes:\n  - name: 征信泄露监测\n    subject_words: [征信]\n    event_words: [泄露]\n", encoding="utf-8")
    out = rcops(env_for(settings), "sources", "add", str(f), "--actor", "system")
    assert out.returncode == 0, out.stderr
    with session_factory() as s:
        assert s.scalars(select(MonitoringScheme.name)).all() == ["征信泄露监测"]
    assert "征信泄露监测" in out.stdout, out.stdout
