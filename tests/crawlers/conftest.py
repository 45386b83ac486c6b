"""Crawler test fixtures: a real HTTP server on 127.0.0.1, monitoring configuration,
and a harness running the real spiders in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from rcops.crawlers.sources import load_monitoring_config
from rcops.store.db import session_scope
from tests.conftest import ROOT, SHARED_DATA
from tests.support.httpserver import HTTPTestServer

FIXTURES = SHARED_DATA / "crawler_fixtures"
GB_FEEDS = FIXTURES / "gb2312_feeds"
NEWS_PAGES = FIXTURES / "news_pages"
HARNESS = Path(__file__).with_name("harness.py")

#: A scheme matching the rural-credit test stories (and nothing in the fixtures' blogs).
SCHEMES = [
    {
        "name": "农信负面",
        "subject_words": ["农信社", "农商银行"],
        "region_words": ["河北"],
        "event_words": ["诈骗", "挤兑", "投诉"],
        "exclusion_words": ["招聘"],
    }
]


@pytest.fixture
def http_server() -> Iterator[HTTPTestServer]:
    with HTTPTestServer() as server:
        yield server


def configure(engine: Engine, sources: list[dict[str, Any]], schemes: list[dict[str, Any]] | None = None) -> None:
    with session_scope(engine) as session:
        load_monitoring_config(
            session, {"sources": sources, "schemes": SCHEMES if schemes is None else schemes}, "tester"
        )


def run_harness(tmp_path: Path, sources: list[dict[str, Any]], download_timeout: float = 5) -> dict[str, Any]:
    """Run the real spiders over ``sources`` in one subprocess; return what they yielded."""
    spec = tmp_path / "spec.json"
    out = tmp_path / "out.json"
    spec.write_text(json.dumps({"sources": sources, "download_timeout": download_timeout}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCOPS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(HARNESS.parent), str(ROOT)])
    proc = subprocess.run(
        [sys.executable, str(HARNESS), str(spec), str(out)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))
