"""End to end in headless Chromium: the real console server on a prepared SQLite database.

Screenshots go to ``test-artifacts/`` (gitignored) for a human to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from rcops.store.db import make_engine, make_sessionmaker, migrate
from rcops.store.models import Incident

from .conftest import TITLE_I, populate

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "rcops" / "dashboard" / "app.py"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="缺少 /usr/bin/chromium：请先 apt-get install -y chromium fonts-noto-cjk"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"控制台进程退出（{proc.returncode}）：\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"控制台 {timeout} 秒内没有就绪：\n{log.read_text(errors='replace')}")


@pytest.fixture
def sqlite_db(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{(tmp_path / 'console.db').as_posix()}"
    engine = make_engine(url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    seeded = populate(factory)
    yield url, factory, seeded
    engine.dispose()


@pytest.fixture
def console_server(sqlite_db, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    url, _, _ = sqlite_db
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCOPS_")}
    env.update(RCOPS_DATABASE_URL=url, RCOPS_DATA_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    log = tmp_path / "console.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP),
             "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc, log)
            yield f"http://127.0.0.1:{port}/"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)


def test_operator_opens_the_top_incident_and_confirms_its_tier(console_server, sqlite_db):
    sync_api = pytest.importorskip("playwright.sync_api")
    _, factory, seeded = sqlite_db
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page.set_default_timeout(30_000)
            page.goto(console_server)

            # 预警台: the gravest incident is on top
            page.get_by_role("heading", name="预警台").wait_for()
            page.get_by_text(TITLE_I, exact=True).first.wait_for()
            page.get_by_text("在办事件等级分布").wait_for()
            page.wait_for_timeout(1500)  # let charts draw
            page.screenshot(path=str(ARTIFACTS / "01-alert-desk.png"), full_page=True)
            page.get_by_role("button", name="查看").first.click()

            # 事件详情 of that incident
            page.get_by_role("heading", name="事件详情").wait_for()
            page.get_by_role("heading", name=TITLE_I).wait_for()
            page.get_by_text("状态：待研判").wait_for()
            page.locator('[data-testid="stDataFrame"] canvas').first.wait_for()
            page.wait_for_timeout(1000)  # the grid draws on its canvas
            page.screenshot(path=str(ARTIFACTS / "02-incident-mentions.png"), full_page=True)
            page.get_by_role("tab", name="任务").click()
            page.get_by_text("电话报告管理方分管负责人").wait_for()
            page.screenshot(path=str(ARTIFACTS / "03-incident-tasks.png"), full_page=True)

            page.get_by_role("tab", name="操作").click()
            page.get_by_role("button", name="确认等级（Ⅰ级 特别重大）").click()
            page.get_by_text("已确认等级").wait_for()
            page.get_by_text("状态：已研判").wait_for()
            page.get_by_role("tab", name="操作").click()
            page.get_by_role("button", name="开始处置").wait_for()
            page.screenshot(path=str(ARTIFACTS / "04-incident-confirmed.png"), full_page=True)

            page.get_by_role("link", name="运行状态").click()
            page.get_by_role("heading", name="各信息源最近一次采集").wait_for()
            page.locator('[data-testid="stDataFrame"] canvas').last.wait_for()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ARTIFACTS / "05-status.png"), full_page=True)
        finally:
            browser.close()

    with factory() as s:
        inc = s.scalars(select(Incident).where(Incident.id == seeded.ids[TITLE_I])).one()
        assert (inc.state, inc.tier_confirmed_by) == ("confirmed", "值班员")
