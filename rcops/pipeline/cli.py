"""``rcops``: the command line of the operations back office.

Commands: init, run (scheduler), crawl SOURCE, console, demo, status; feature
areas add theirs from ``rcops.pipeline.commands`` (train, evaluate, grade,
models …). Each opens the settings once, opens a session for its work, and
calls the same functions as the console and the scheduler.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rcops.store.settings import Settings, get_settings

app = typer.Typer(help="农村信用信息系统运营后台（舆情监测与研判处置）", no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)

PACKAGE_DIR = Path(__file__).resolve().parents[1]
DEMO_SOURCES = PACKAGE_DIR / "pipeline" / "defaults" / "demo_sources.yaml"
REAL_SOURCES = PACKAGE_DIR / "pipeline" / "defaults" / "real_sources.yaml"
CONSOLE_APP = PACKAGE_DIR / "dashboard" / "app.py"

log = logging.getLogger("rcops")


def _setup_logging(settings: Settings) -> None:
    settings.ensure_dirs()
    if logging.getLogger().handlers:
        return
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=settings.log_level.upper(), format=fmt, stream=sys.stderr)
    fh = logging.FileHandler(settings.log_dir / "rcops.log", encoding="utf-8")
    fh.setFormatter(logging.Formatter(fmt))
    logging.getLogger().addHandler(fh)
    for noisy in ("apscheduler.executors.default", "apscheduler.scheduler", "jieba", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]错误：[/]{message}")
    return typer.Exit(code=1)


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from rcops.store.db import make_engine

    return make_engine(settings.db_url)


def _sources_file(choice: str) -> Path:
    if choice == "demo":
        return DEMO_SOURCES
    if choice == "real":
        return REAL_SOURCES
    return Path(choice)


def initialise(settings: Settings, sources: str = "demo", rules: str = "", actor: str = "system") -> dict[str, Any]:
    """Create or upgrade the schema, install the tiers and plans, load sources and schemes."""
    from rcops.crawlers.sources import load_monitoring_config
    from rcops.plans.schema import load_rules_file
    from rcops.plans.store_io import install_rules
    from rcops.store.db import make_sessionmaker, migrate

    settings.ensure_dirs()
    engine = _engine(settings)
    try:
        migrate(engine)
        rules_def = load_rules_file(rules or None)
        path = _sources_file(settings.sources_file or sources)
        doc = _demo_doc(settings, path) if path == DEMO_SOURCES else path
        with make_sessionmaker(engine).begin() as session:
            changed = install_rules(session, rules_def, actor)
            loaded = load_monitoring_config(session, doc, actor)
    finally:
        engine.dispose()
    return {"rules": changed, "monitoring": loaded, "sources_file": str(path)}


def _demo_doc(settings: Settings, path: Path) -> dict[str, Any]:
    """The demo sources, pointed at the replay site's configured address."""
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    base = f"http://{settings.replay_host}:{settings.replay_port}"
    for src in doc.get("sources", []):
        src["url"] = src["url"].replace("http://127.0.0.1:8765", base)
    return doc


@app.command()
def init(
    sources: Annotated[str, typer.Option(help="信息源：demo（本地回放站）、real（真实站点）或 YAML 文件路径")] = "demo",
    rules: Annotated[str, typer.Option(help="分级与预案 YAML；默认使用内置默认值")] = "",
) -> None:
    """初始化数据库（迁移到最新结构），载入分级、预案、监测方案与信息源。"""
    settings = get_settings()
    _setup_logging(settings)
    try:
        result = initialise(settings, sources, rules)
    except Exception as exc:  # noqa: BLE001 - every failure gets a clear message
        raise _fail(str(exc)) from exc
    out.print(f"[green]数据库已就绪[/]：{settings.db_url}")
    out.print(f"分级/预案变更：{result['rules']}；监测配置：{result['monitoring']}（{result['sources_file']}）")


def _load_model(settings: Settings):  # type: ignore[no-untyped-def]
    from rcops.classifier.model import load_or_train

    t0 = time.monotonic()
    model = load_or_train(settings)
    log.info("模型 %s 就绪（%.1f 秒）", model.version, time.monotonic() - t0)
    return model


def _start_console(settings: Settings) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(CONSOLE_APP),
        "--server.headless", "true",
        "--server.port", str(settings.console_port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]
    proc = subprocess.Popen(cmd, env=_console_env(settings))
    out.print(f"控制台：[bold]http://127.0.0.1:{settings.console_port}/[/]")
    return proc


def _console_env(settings: Settings) -> dict[str, str]:
    """The console process sees the same settings as this one."""
    import os

    from rcops.crawlers.runner import settings_env

    return {**os.environ, **settings_env(settings)}


def run_scheduler(settings: Settings, stop: threading.Event, console: bool = False) -> None:
    """Run the main job until ``stop`` is set."""
    from rcops.pipeline import scheduler as sched

    engine = _engine(settings)
    from rcops.store.db import check_schema

    check_schema(engine)
    model = _load_model(settings)
    recovered = sched.recover_interrupted_runs(engine, settings)
    if recovered:
        log.warning("上次中断的抓取 %d 次已记为失败", recovered)
    scheduler = sched.build_scheduler(settings, engine, model)
    scheduler.start(paused=True)
    keys = sched.sync_jobs(scheduler, settings, engine)
    scheduler.resume()
    out.print(f"调度器已启动：{len(keys)} 个信息源（{', '.join(keys) or '无'}），按 Ctrl-C 停止")
    proc = _start_console(settings) if console else None
    try:
        while not stop.wait(1.0):
            if proc is not None and proc.poll() is not None:
                log.warning("控制台进程已退出（代码 %s），正在重启", proc.returncode)
                proc = _start_console(settings)
    finally:
        scheduler.pause()  # no new job starts while the executors shut down
        scheduler.shutdown(wait=True)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        engine.dispose()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum, _frame):  # type: ignore[no-untyped-def]
        log.info("收到信号 %s，正在停止", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


@app.command()
def run(console: Annotated[bool, typer.Option("--console/--no-console", help="同时启动控制台")] = False) -> None:
    """启动调度器（主任务）：按各信息源的周期抓取，随后研判、归并事件、检查时限。"""
    settings = get_settings()
    _setup_logging(settings)
    try:
        run_scheduler(settings, _stop_on_signals(), console=console)
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc


@app.command()
def demo() -> None:
    """演示：初始化、训练模型（如无）、启动本地回放站、调度器与控制台。"""
    from rcops.pipeline.replay import ReplaySite, load_replay_items

    settings = get_settings()
    _setup_logging(settings)
    try:
        result = initialise(settings, "demo")
        out.print(f"[green]初始化完成[/]：{result['monitoring']}")
        from rcops.pipeline.commands.accounts import create_demo_accounts

        out.print(create_demo_accounts(), highlight=False)
        items = load_replay_items(settings.shared_data_dir)
        site = ReplaySite(items, host=settings.replay_host, port=settings.replay_port,
                          release_seconds=settings.replay_release_seconds, initial_items=settings.replay_initial_items)
        site.start()
        out.print(f"回放站：{site.base_url}（{len(items)} 条真实公开文本，每 {settings.replay_release_seconds:g} 秒发布一条）")
        try:
            run_scheduler(settings, _stop_on_signals(), console=True)
        finally:
            site.stop()
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc


@app.command()
def crawl(source: Annotated[str, typer.Argument(help="信息源标识（key）")]) -> None:
    """立即抓取一个信息源，随后研判新信息。"""
    from rcops.crawlers.runner import crawl_source
    from rcops.pipeline import scheduler as sched

    settings = get_settings()
    _setup_logging(settings)
    try:
        summary = crawl_source(settings, source, trigger="manual")
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    if summary.get("status") == "ok":
        engine = _engine(settings)
        try:
            out.print(f"研判：{sched.triage_once(settings, engine, _load_model(settings))}")
        finally:
            engine.dispose()
    else:
        raise typer.Exit(code=2)


@app.command()
def console() -> None:
    """启动 Streamlit 控制台。"""
    settings = get_settings()
    _setup_logging(settings)
    proc = _start_console(settings)
    try:
        raise typer.Exit(proc.wait())
    except KeyboardInterrupt:
        proc.terminate()


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False) -> None:
    """运行状态：信息源、信息、事件（按等级与状态）、任务，以及每个信息源最近一次抓取。"""
    from rcops.store.db import check_schema, make_sessionmaker
    from rcops.triage.lifecycle import STATE_LABELS
    from rcops.triage.service import status as compute_status

    settings = get_settings()
    engine = _engine(settings)
    try:
        check_schema(engine)
        with make_sessionmaker(engine)() as session:
            st = compute_status(session).as_dict()
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()
    if as_json:
        print(json.dumps(st, ensure_ascii=False, indent=2))
        return
    out.print(f"信息源 {st['sources']} 个；信息 {st['mentions']} 条（已研判 {st['mentions_graded']}）；"
              f"事件 {st['incidents']} 个；任务 {st['tasks']} 个（超时 {st['tasks_overdue']}）")
    out.print("事件按等级：" + "，".join(f"{k}级 {v}" for k, v in sorted(st["incidents_by_tier"].items())))
    out.print("事件按状态：" + "，".join(f"{STATE_LABELS.get(k, k)} {v}" for k, v in st["incidents_by_state"].items()))
    table = Table(title="最近一次抓取")
    for col in ("信息源", "状态", "开始", "见到", "新增", "重复", "累计次数", "原因"):
        table.add_column(col)
    for r in st["last_crawl_runs"]:
        table.add_row(r["source"], r["status"], r["started_at"][:19], str(r["items_seen"]), str(r["items_stored"]),
                      str(r["items_duplicate"]), str(r["runs_total"]), r["error"] or "")
    out.print(table)


def _register_areas() -> None:
    from rcops.pipeline.commands import register_all

    register_all(app)


_register_areas()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
