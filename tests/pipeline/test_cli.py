"""The command line as a user runs it: real processes, real ports, a real database (the two error-message
checks run in this process, tests/support/cli.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rcops.pipeline.replay import ReplaySite, load_replay_items
from tests.support.cli import rcops as in_process

RCOPS = [sys.executable, "-m", "rcops.pipeline.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCOPS_")}
    env.update({
        "RCOPS_DATABASE_URL": settings.db_url,
        "RCOPS_DATA_DIR": str(settings.data_dir),
        "RCOPS_SHARED_DATA_DIR": str(settings.shared_data_dir),
    })
    env.update(extra)
    return env


def rcops(env, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RCOPS, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_init_crawl_and_status_json(settings, tmp_path):
    site = ReplaySite(load_replay_items(settings.shared_data_dir), port=0, release_seconds=60, initial_items=20)
    site.start()
    try:
        # seed-only model: quick to train, and proves the product works without ../shared
        env = env_for(settings, RCOPS_REPLAY_PORT=str(site.port),
                      RCOPS_SHARED_DATA_DIR=str(tmp_path / "absent"))
        first = rcops(env, "init")
        assert first.returncode == 0, first.stderr
        assert "数据库已就绪" in first.stdout
        again = rcops(env, "init")  # idempotent
        assert again.returncode == 0 and "'created': []" in again.stdout.replace("\n", "")
        crawled = rcops(env, "crawl", "replay-rss")
        assert crawled.returncode == 0, crawled.stderr
        assert '"status": "ok"' in crawled.stdout and "研判" in crawled.stdout
        unknown = rcops(env, "crawl", "no-such-source")
        assert unknown.returncode == 1 and "未知的信息源 'no-such-source'" in unknown.stderr
        status = rcops(env, "status", "--json")
        assert status.returncode == 0, status.stderr
        doc = json.loads(status.stdout)
        assert doc["sources"] == 2
        assert doc["mentions"] >= 1 and doc["mentions_graded"] == doc["mentions"]
        assert [r["source"] for r in doc["last_crawl_runs"]] == ["replay-rss"]
        assert doc["last_crawl_runs"][0]["status"] == "ok"
        assert sum(doc["incidents_by_state"].values()) == doc["incidents"]
    finally:
        site.stop()


def test_status_on_an_empty_database_says_to_run_init(settings):
    result = in_process(env_for(settings), "status", "--json")
    assert result.returncode == 1
    assert "rcops init" in result.stderr


def test_invalid_rules_file_is_refused_and_nothing_is_written(settings, tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("tiers:\n  - {code: I, rank: 1, name: 特别重大, any_of: [{risk_score_min: 2}]}\nplans: []\n",
                   encoding="utf-8")
    result = in_process(env_for(settings), "init", "--rules", str(bad))
    assert result.returncode == 1
    assert "risk_score_min 应为 0 到 1 之间的数" in result.stderr
    assert "等级 I：缺少预案" in result.stderr


@pytest.mark.slow
def test_demo_runs_end_to_end_and_stops_cleanly(settings, tmp_path):
    if not settings.db_url.startswith("sqlite"):
        pytest.skip("the demo runs on the embedded database")
    console_port, replay_port = free_port(), free_port()
    env = env_for(settings, RCOPS_CONSOLE_PORT=str(console_port), RCOPS_REPLAY_PORT=str(replay_port),
                  RCOPS_SHARED_DATA_DIR=str(tmp_path / "absent"), RCOPS_REPLAY_RELEASE_SECONDS="1")
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen([*RCOPS, "demo"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        doc: dict = {}
        while time.monotonic() < deadline:
            time.sleep(3)
            assert proc.poll() is None, Path(log.name).read_text()
            res = rcops(env, "status", "--json", timeout=60)
            if res.returncode == 0:
                doc = json.loads(res.stdout)
                runs = doc["last_crawl_runs"]
                if doc["incidents"] >= 1 and doc["tasks"] >= 1 and len(runs) == 2 and all(
                        r["status"] != "running" for r in runs):
                    break
        assert doc.get("incidents", 0) >= 1, Path(log.name).read_text()
        assert {r["source"] for r in doc["last_crawl_runs"]} == {"replay-rss", "replay-html"}
        assert all(r["status"] == "ok" for r in doc["last_crawl_runs"]), doc["last_crawl_runs"]
        with urllib.request.urlopen(f"http://127.0.0.1:{console_port}/", timeout=10) as resp:
            assert resp.status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()
    text = Path(log.name).read_text()
    assert "Traceback" not in text, text
    assert proc.returncode == 0, text
