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

from .conftest import ACCOUNTS, TITLE_I, TITLE_II, populate

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


def sign_in(page, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("heading", name="登录").wait_for()
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def test_operator_confirms_the_top_alert_and_completes_a_task_institution_cannot_edit_plans(
        console_server, sqlite_db):
    sync_api = pytest.importorskip("playwright.sync_api")
    _, factory, seeded = sqlite_db
    with factory.begin() as s:  # a resolved incident with a drafted analysis report, for the 报告 page
        from rcops.triage import report, service

        done = seeded.ids[TITLE_II]
        service.confirm_tier(s, done, "张三")
        service.start_disposal(s, done, "张三")
        service.resolve(s, done, "张三", note="已发布声明")
        report.draft_report(s, done, "张三")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page.set_default_timeout(30_000)
            page.goto(console_server)

            # 登录: a wrong password first, then the operator's
            page.get_by_role("heading", name="登录").wait_for()
            sign_in(page, "张三", "not-the-password")
            page.get_by_text("用户名或密码错误（再错 4 次").wait_for()
            page.screenshot(path=str(ARTIFACTS / "00-sign-in-wrong-password.png"), full_page=True)
            sign_in(page, "张三", ACCOUNTS["张三"][1])

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

            page.get_by_role("tab", name="操作").click()
            page.get_by_role("button", name="确认等级（Ⅰ级 特别重大）").click()
            page.get_by_text("已确认等级").wait_for()
            page.get_by_text("状态：已研判").wait_for()
            page.screenshot(path=str(ARTIFACTS / "03-incident-confirmed.png"), full_page=True)

            page.get_by_role("tab", name="任务").click()
            page.get_by_text("电话报告管理方分管负责人").wait_for()
            page.get_by_role("button", name="完成").first.click()
            page.get_by_text("已完成。").first.wait_for()
            page.get_by_role("tab", name="任务").click()
            page.get_by_text("张三 完成于").first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "04-incident-task-done.png"), full_page=True)

            page.get_by_role("link", name="运行状态").click()
            page.get_by_role("heading", name="各信息源最近一次采集").wait_for()
            page.locator('[data-testid="stDataFrame"] canvas').last.wait_for()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ARTIFACTS / "05-status.png"), full_page=True)

            # 报告: the draft rendered in the page, downloaded as Word
            page.get_by_role("link", name="报告", exact=True).click()
            page.get_by_role("heading", name="分析报告", exact=True).wait_for()
            page.get_by_role("heading", name="一、事件概要").wait_for()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ARTIFACTS / "07-report-draft.png"), full_page=True)
            with page.expect_download() as download:
                page.get_by_role("button", name="下载 Word").click()
            word = download.value
            assert word.suggested_filename.endswith(".docx")
            assert Path(word.path()).read_bytes()[:2] == b"PK"

            # 统计: the charts over the stored mentions
            page.get_by_role("link", name="统计", exact=True).click()
            page.get_by_text("信息来源（前 20）").wait_for()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "08-stats.png"), full_page=True)

            page.get_by_role("button", name="退出登录").click()
            page.get_by_text("您已退出登录").wait_for()

            # an institution user reads the plans but cannot edit them
            sign_in(page, "bank", ACCOUNTS["bank"][1])
            page.get_by_role("heading", name="预警台").wait_for(timeout=90_000)
            page.get_by_role("link", name="分级与预案").click()
            page.get_by_role("heading", name="分级与预案").wait_for()
            page.get_by_text("分级标准").first.wait_for()
            page.get_by_role("tab", name="修改（管理方）").click()
            page.get_by_text("只有管理方可以修改分级标准与预案").wait_for()
            assert page.get_by_role("button", name="校验并保存为新版本").count() == 0
            assert page.get_by_role("link", name="系统").count() == 0
            page.screenshot(path=str(ARTIFACTS / "06-institution-rules-read-only.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "99-failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    with factory() as s:
        inc = s.scalars(select(Incident).where(Incident.id == seeded.ids[TITLE_I])).one()
        assert (inc.state, inc.tier_confirmed_by) == ("confirmed", "张三")
        done = [t for t in inc.tasks if t.status == "done"]
        assert [t.completed_by for t in done] == ["张三"]
