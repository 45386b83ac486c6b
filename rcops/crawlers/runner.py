"""Start crawls: one CrawlRun, one worker process, a timeout, and a clear outcome.

``crawl_source`` is what the scheduler, the CLI and the console call. It never
imports Scrapy: the crawl runs in ``python -m rcops.crawlers.worker`` in a fresh
process (no ``ReactorNotRestartable``, a hung or crashed crawl cannot take the
caller with it), which gets our settings as ``RCOPS_*`` environment variables.
With ``crawl_redis_url`` set and ``crawl_processes`` > 1, several workers crawl the run
together through one frontier and one de-duplication filter in Redis (scrapy-redis).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.store.db import make_engine, session_scope
from rcops.store.models import CrawlRun, CrawlStatus, Source
from rcops.store.settings import Settings

from .exceptions import UnknownSourceError

#: the CrawlRun counters the pipelines count and the workers record
COUNTERS = ("pages_fetched", "items_seen", "items_stored", "items_duplicate", "items_irrelevant", "items_invalid")

STDERR_TAIL_LINES = 8
STALE_REASON = "抓取进程中断，未正常结束"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings) -> dict[str, str]:
    """``RCOPS_*`` environment variables that rebuild ``settings`` in a child process."""
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        env[f"RCOPS_{name.upper()}"] = str(value)
    # the child must use exactly this database, even when the URL was derived from data_dir
    env["RCOPS_DATABASE_URL"] = settings.db_url
    return env


def _child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCOPS_")}
    env.update(settings_env(settings))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def run_summary(run: CrawlRun, source_key: str) -> dict[str, Any]:
    return {
        "id": run.id,
        "source_key": source_key,
        "status": run.status,
        "trigger": run.trigger,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "pages_fetched": run.pages_fetched,
        "items_seen": run.items_seen,
        "items_stored": run.items_stored,
        "items_duplicate": run.items_duplicate,
        "items_irrelevant": run.items_irrelevant,
        "items_invalid": run.items_invalid,
        "error": run.error,
        "stats": dict(run.stats or {}),
    }


def _finished(session: Session, run: CrawlRun, source_key: str) -> dict[str, Any]:
    """The summary of a finished run, after its source's blocked alert was opened, extended
    or closed (``source_alert`` in the summary says which; see :mod:`.alerts`)."""
    from .alerts import note_run_outcome

    summary = run_summary(run, source_key)
    summary["source_alert"] = note_run_outcome(session, run)
    return summary


def _tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n".join(kept)


def crawl_source(
    settings: Settings,
    source_key: str,
    trigger: str = "manual",
    timeout: float | None = None,
) -> dict[str, Any]:
    """Crawl one source now, in a worker process; return the CrawlRun as a summary dict.

    Raises :class:`UnknownSourceError` when no source has ``source_key``. A crawl
    that fails (site down, timeout, worker killed or crashed) does not raise: it
    comes back with ``status == "failed"`` and a Chinese ``error``. A refused crawl
    opens or extends the source's blocked alert, a successful one closes it
    (``source_alert`` in the summary; see :mod:`.alerts`).
    """
    limit = float(timeout if timeout is not None else settings.crawl_timeout_seconds)
    engine = make_engine(settings.db_url)
    try:
        with session_scope(engine) as session:
            source = session.scalar(select(Source).where(Source.key == source_key))
            if source is None:
                known = session.scalars(select(Source.key).order_by(Source.key)).all()
                hint = f"已配置的信息源：{'、'.join(known)}" if known else "尚未配置任何信息源"
                raise UnknownSourceError(f"未知的信息源 {source_key!r}（{hint}）")
            run = CrawlRun(source_id=source.id, trigger=trigger, status=CrawlStatus.running.value)
            session.add(run)
            session.flush()
            run_id = run.id

        processes = settings.crawl_processes if settings.crawl_redis_url else 1
        if processes > 1:
            return _crawl_shared(settings, engine, run_id, source_key, processes, limit)

        failure: str | None = None
        proc = subprocess.Popen(
            [sys.executable, "-m", "rcops.crawlers.worker", "--run-id", str(run_id)],
            env=_child_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            # SIGKILL, not SIGTERM: Scrapy's graceful shutdown would wait for the very
            # downloads that made us give up. Each mention is its own transaction, so
            # what was stored stays complete.
            proc.kill()
            _out, err = proc.communicate()
            failure = f"抓取进程超时（{limit:g} 秒）被终止"
        stderr = (err or b"").decode("utf-8", errors="replace")
        if failure is None and proc.returncode != 0:
            failure = f"抓取进程异常退出（代码 {proc.returncode}）：{_tail(stderr)}"

        with session_scope(engine) as session:
            run = session.get(CrawlRun, run_id)
            assert run is not None
            if run.status == CrawlStatus.running.value:
                run.status = CrawlStatus.failed.value
                run.finished_at = datetime.now(timezone.utc)
                run.error = failure or f"抓取进程未记录结果便退出（代码 {proc.returncode}）：{_tail(stderr)}"
            return _finished(session, run, source_key)
    finally:
        engine.dispose()


def _combine(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One run's values from the values of the processes that crawled it together."""
    combined: dict[str, Any] = {name: sum(int(r.get(name) or 0) for r in results) for name in COUNTERS}
    stats: dict[str, int] = {}
    for result in results:
        for reason, count in (result.get("stats") or {}).items():
            stats[reason] = stats.get(reason, 0) + int(count)
    stats["抓取进程数"] = len(results)
    for number, result in enumerate(results, 1):
        stats[f"进程 {number} 入库"] = int(result.get("items_stored") or 0)
    combined["stats"] = dict(sorted(stats.items()))
    failed = [r for r in results if r.get("status") != CrawlStatus.ok.value]
    combined["status"] = CrawlStatus.failed.value if failed else CrawlStatus.ok.value
    errors = [r["error"] for r in (failed or results) if r.get("error")]
    combined["error"] = errors[0] if errors else None
    return combined


def _crawl_shared(
    settings: Settings, engine: Any, run_id: int, source_key: str, processes: int, limit: float
) -> dict[str, Any]:
    """Crawl run ``run_id`` with several worker processes sharing one frontier and one
    de-duplication filter in Redis (scrapy-redis); record their added-up values."""
    import redis

    from .settings import frontier_keys
    from .worker import SHARED_RESULT_PREFIX

    deadline = time.monotonic() + limit
    with ExitStack() as stack:
        outputs = [(stack.enter_context(tempfile.TemporaryFile()), stack.enter_context(tempfile.TemporaryFile()))
                   for _ in range(processes)]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "rcops.crawlers.worker", "--run-id", str(run_id), "--shared"],
                env=_child_env(settings), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            )
            for out, err in outputs
        ]
        results: list[dict[str, Any]] = []
        failures: list[str] = []
        for proc, (out, err) in zip(procs, outputs):
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()  # see crawl_source: SIGKILL, stored mentions stay complete
                proc.wait()
                failures.append(f"抓取进程超时（{limit:g} 秒）被终止")
                continue
            out.seek(0)
            err.seek(0)
            lines = [line for line in out.read().decode("utf-8", "replace").splitlines()
                     if line.startswith(SHARED_RESULT_PREFIX)]
            if lines:
                results.append(json.loads(lines[-1][len(SHARED_RESULT_PREFIX):]))
            else:
                stderr = err.read().decode("utf-8", errors="replace")
                failures.append(f"抓取进程异常退出（代码 {proc.returncode}）：{_tail(stderr)}")
    client = redis.Redis.from_url(settings.crawl_redis_url)
    try:
        client.delete(*frontier_keys(f"run-{run_id}"))
    finally:
        client.close()
    values = _combine(results) if results else {"status": CrawlStatus.failed.value}
    if failures:
        values["status"] = CrawlStatus.failed.value
        values["error"] = "；".join(failures + ([values["error"]] if values.get("error") else []))[:2000]
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        for name, value in values.items():
            setattr(run, name, value)
        run.finished_at = datetime.now(timezone.utc)
        return _finished(session, run, source_key)


def mark_stale_runs(session: Session, older_than: timedelta) -> list[int]:
    """Mark runs still ``running`` after ``older_than`` as failed (their process was killed).

    Returns the ids of the runs marked. The caller owns the transaction.
    """
    cutoff = datetime.now(timezone.utc) - older_than
    runs = session.scalars(
        select(CrawlRun).where(CrawlRun.status == CrawlStatus.running.value, CrawlRun.started_at < cutoff)
    ).all()
    now = datetime.now(timezone.utc)
    for run in runs:
        run.status = CrawlStatus.failed.value
        run.finished_at = now
        run.error = STALE_REASON
    return [run.id for run in runs]


__all__ = ["crawl_source", "mark_stale_runs", "run_summary", "settings_env"]
