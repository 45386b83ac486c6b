"""The main job: one long-running scheduler process.

Every enabled source is crawled on its interval, or by its cron expression read
in Asia/Shanghai (``crawlers.schedule``), by an APScheduler job whose state lives
in the database (persistent job store). Each crawl runs in its own
subprocess (``rcops.crawlers.runner.crawl_source``): Scrapy's Twisted reactor
cannot be restarted inside one process, so a fresh process per crawl is what
lets the same scheduler crawl again and again, and a crawl that hangs or dies
is killed and recorded without taking the scheduler down.

After every crawl, and on a short interval, new mentions are graded and folded
into incidents (``triage.engine.process_pending``) and deadlines are checked.
Grading is serialized with a lock: two jobs never grade the same mentions.

A source whose crawls are refused (login wall, captcha, anti-bot answer) backs
off: its jobs are skipped until the back-off of its open blocked alert expires
(kept in the database, so a restart keeps it; ``crawlers.alerts``), and the
duty officers are notified once per blocking episode.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.util import undefined
from sqlalchemy import Engine, select

from rcops.store.db import make_sessionmaker
from rcops.store.models import Source, utcnow
from rcops.store.settings import Settings
from rcops.triage.engine import Scorer, check_deadlines, process_pending

log = logging.getLogger("rcops.scheduler")

TRIAGE_JOB_ID = "triage"
CRAWL_JOB_PREFIX = "crawl:"


@dataclass
class _Context:
    """What the job functions need; set once when the scheduler is built in this process."""

    settings: Settings | None = None
    engine: Engine | None = None
    scorer: Scorer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    crawls_done: int = 0
    skipped: int = 0


_ctx = _Context()


def triage_once(settings: Settings, engine: Engine, scorer: Scorer, lock: threading.Lock | None = None) -> dict[str, Any]:
    """Grade pending mentions, fold them into incidents, flag overdue tasks and escalate (one transaction);
    then send the queued notifications."""
    from rcops.triage.escalation import dispatch_notifications
    from rcops.triage.notify import NotifySettings

    notify = NotifySettings()
    with lock or threading.Lock(), make_sessionmaker(engine).begin() as session:
        result = process_pending(
            session, scorer, window_hours=settings.grouping_window_hours, threshold=settings.grouping_threshold
        )
        overdue = check_deadlines(session, notify_settings=notify)
    with lock or threading.Lock(), make_sessionmaker(engine).begin() as session:
        dispatched = dispatch_notifications(session, notify)
    if dispatched.sent or dispatched.failed:
        log.info("通知：发送成功 %d 条，待重试 %d 条，放弃 %d 条", dispatched.sent, dispatched.retrying, dispatched.failed)
    if result.graded or result.incidents_created or overdue:
        log.info(
            "研判：新评分 %d 条，新事件 %d 个，归入已有事件 %d 条，升级 %d 个，新任务 %d 个，超时任务 %d 个",
            result.graded, result.incidents_created, result.attached, result.incidents_regraded,
            result.tasks_created, overdue,
        )
    return {"graded": result.graded, "incidents_created": result.incidents_created,
            "attached": result.attached, "regraded": result.incidents_regraded, "overdue": overdue}


def triage_job() -> dict[str, Any]:
    """Scheduled: grade and group under the process-wide lock, and recover dead crawl runs."""
    assert _ctx.engine is not None and _ctx.scorer is not None and _ctx.settings is not None
    result = triage_once(_ctx.settings, _ctx.engine, _ctx.scorer, _ctx.lock)
    recover_interrupted_runs(_ctx.engine, _ctx.settings)
    return result


def crawl_job(source_key: str) -> dict[str, Any]:
    """Crawl one source in a subprocess, record the run, then grade what came in.

    Skipped (``status == "skipped"``, no run recorded) while the source backs off after
    refused crawls; the first refusal of an episode queues the duty officers' notification."""
    from rcops.crawlers.alerts import backoff_until
    from rcops.crawlers.runner import crawl_source

    assert _ctx.settings is not None and _ctx.engine is not None
    with make_sessionmaker(_ctx.engine)() as session:
        until = backoff_until(session, source_key)
    if until is not None:
        log.info("信息源 %s 疑似被拦截，退避至 %s，本次定时抓取跳过", source_key, until.isoformat(timespec="seconds"))
        _ctx.skipped += 1
        return {"status": "skipped", "source_key": source_key, "retry_at": until}
    summary = crawl_source(_ctx.settings, source_key, trigger="schedule")
    _ctx.crawls_done += 1
    change = summary.get("source_alert") or {}
    if change.get("change") == "opened":
        try:
            notify_alert(_ctx.settings, _ctx.engine, change["alert_id"])
        except Exception:  # a broken notification set-up must not fail the crawl; the alert is stored
            log.exception("信息源告警通知未能加入发送队列")
    if summary.get("status") == "ok":
        log.info("抓取 %s：新增 %s 条（见到 %s 条，重复 %s 条）", source_key, summary.get("items_stored"),
                 summary.get("items_seen"), summary.get("items_duplicate"))
    else:
        log.warning("抓取 %s 失败：%s", source_key, summary.get("error"))
    try:
        triage_job()
    except Exception:  # grading trouble must not mark the crawl failed; the triage job retries
        log.exception("抓取后研判失败（稍后由定时研判重试）")
    return summary


def notify_alert(settings: Settings, engine: Engine, alert_id: int) -> int:
    """Queue the notifications of a newly opened source alert (sent by the triage job's dispatcher)."""
    from rcops.crawlers.alerts import queue_alert_notifications
    from rcops.triage.notify import NotifySettings

    targets = NotifySettings().role_targets()
    with make_sessionmaker(engine).begin() as session:
        return queue_alert_notifications(session, alert_id, targets, timezone=settings.timezone)


def build_scheduler(settings: Settings, engine: Engine, scorer: Scorer) -> BackgroundScheduler:
    """A scheduler with the persistent job store in our database and one job per enabled source."""
    _ctx.settings, _ctx.engine, _ctx.scorer = settings, engine, scorer
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": settings.misfire_grace_seconds},
        timezone=settings.timezone,
    )
    return scheduler


def sync_jobs(scheduler: BackgroundScheduler, settings: Settings, engine: Engine, first_run_now: bool = True) -> list[str]:
    """Make the scheduled jobs match the enabled sources (adds, reschedules, removes).

    A source with an interval is first crawled a moment after the start (``first_run_now``);
    one with a cron expression waits for its first time in the time table."""
    from rcops.crawlers.schedule import source_trigger

    with make_sessionmaker(engine)() as session:
        sources = list(session.scalars(select(Source).where(Source.enabled.is_(True)).order_by(Source.id)))
    wanted = {}
    start = utcnow()
    for i, src in enumerate(sources):
        job_id = CRAWL_JOB_PREFIX + src.key
        wanted[job_id] = src
        scheduler.add_job(
            crawl_job,
            source_trigger(src.cron, src.interval_seconds, settings.timezone),
            args=[src.key],
            id=job_id,
            name=f"抓取 {src.name}",
            replace_existing=True,
            # stagger first runs a little so sources do not all start in the same second;
            # otherwise (and for cron sources) the trigger decides (None would pause the job)
            next_run_time=start + timedelta(seconds=1 + 2 * i) if first_run_now and not src.cron else undefined,
        )
    for job in scheduler.get_jobs():
        if job.id.startswith(CRAWL_JOB_PREFIX) and job.id not in wanted:
            scheduler.remove_job(job.id)
    scheduler.add_job(
        triage_job,
        "interval",
        seconds=max(2, settings.triage_interval_seconds),
        id=TRIAGE_JOB_ID,
        name="研判与时限检查",
        replace_existing=True,
    )
    return sorted(wanted)


def recover_interrupted_runs(engine: Engine, settings: Settings) -> int:
    """Crawl runs left 'running' by a killed process are marked failed with the reason.

    A run older than the crawl timeout cannot still be alive (its parent kills it
    then), so only those are touched: a crawl started by ``rcops crawl`` in another
    terminal a moment ago is left alone.
    """
    from rcops.crawlers.runner import mark_stale_runs

    with make_sessionmaker(engine).begin() as session:
        return len(mark_stale_runs(session, older_than=timedelta(seconds=settings.crawl_timeout_seconds + 30)))


def crawls_done() -> int:
    return _ctx.crawls_done
