from __future__ import annotations

import pytest
from sqlalchemy import Engine

from rcops.crawlers import worker
from rcops.crawlers.runner import _tail, settings_env
from rcops.store.settings import Settings


def test_worker_refuses_unknown_run(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    assert worker.main(["--run-id", "424242"]) == 2
    assert "抓取记录 424242 不存在" in capsys.readouterr().err


def test_settings_env_rebuilds_the_same_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    rebuilt = Settings(_env_file=None)  # type: ignore[call-arg]
    assert rebuilt.db_url == settings.db_url
    assert rebuilt.data_dir == settings.data_dir
    assert rebuilt.download_timeout_seconds == settings.download_timeout_seconds


def test_tail_keeps_last_nonempty_lines() -> None:
    assert _tail("a\n\nb\nc\n\n", 2) == "b\nc"
