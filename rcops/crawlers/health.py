"""Source health (信息源健康度), computed from the CrawlRun history and the stored mentions.

:func:`source_health` is what ``rcops sources`` and the console show: for every
source its last success, last error, consecutive failures, the yield of its last
run against its own usual yield (the median of its recent ok runs), the
freshness of its newest item, and flags an operator acts on:

``静默``
    the last :data:`SILENT_RUNS` finished runs were ok but returned nothing, where
    the source usually returns items (its usual yield is at least 1): the site
    changed its layout, an API answers empty, a list selector no longer matches.
``乱码``
    the last run decoded many of its pages badly (see :func:`garbled_share`): the
    site changed its encoding, or its meta tag now lies.
``连续失败``
    at least :data:`FAILURE_STREAK` runs in a row failed.
``被拦截``
    the last run was refused: a login wall, a captcha, an anti-bot answer (see
    :mod:`.antibot`). While the source's blocked alert (:mod:`.alerts`) is open, ``alert``
    describes it, ``blocked_until`` is when the scheduler tries again and
    ``retry_after_seconds`` the seconds until then (0 when it may crawl now).

``schedule`` is the schedule in words (``每 10 分钟`` or ``cron 30 8 * * 1-5``).

Pure reads; the caller owns the session.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rcops.store.models import CrawlRun, CrawlStatus, Mention, Source, SourceAlert

from .alerts import alert_row
from .antibot import backoff_seconds, is_blocked_reason
from .schedule import describe

#: finished runs looked at per source
HISTORY_RUNS = 20
#: ok runs whose median is the source's usual yield
USUAL_RUNS = 10
#: this many empty ok runs in a row, where the source usually yields items, flag 静默
SILENT_RUNS = 2
#: this many failed runs in a row flag 连续失败
FAILURE_STREAK = 3
#: a page with at least this many U+FFFD characters counts as mis-decoded …
GARBLED_PAGE_MIN_CHARS = 20
#: … and a run with at least this share of mis-decoded pages flags 乱码
GARBLED_RUN_SHARE = 0.3
#: the ``CrawlRun.stats`` keys written by the pipelines (see ``pipelines.run_counters``)
STAT_REPLACEMENT_CHARS = "解码替换字符数"
STAT_GARBLED_PAGES = "乱码页面数"

FLAG_SILENT = "静默"
FLAG_GARBLED = "乱码"
FLAG_FAILING = "连续失败"
FLAG_BLOCKED = "被拦截"


def garbled_share(run: CrawlRun) -> float:
    """Share (0–1) of the run's pages that decoded badly.

    Runs record the number of mis-decoded pages (``乱码页面数``); for runs that
    only recorded the total of replacement characters, a page is assumed
    mis-decoded per :data:`GARBLED_PAGE_MIN_CHARS` replacement characters.
    """
    stats = run.stats or {}
    pages = max(int(run.pages_fetched or 0), 1)
    if STAT_GARBLED_PAGES in stats:
        bad = int(stats.get(STAT_GARBLED_PAGES) or 0)
    else:
        bad = int(stats.get(STAT_REPLACEMENT_CHARS) or 0) // GARBLED_PAGE_MIN_CHARS
    return min(bad / pages, 1.0)


def _health_of(source: Source, runs: list[CrawlRun], newest: dict[str, datetime | None], now: datetime,
               alert: SourceAlert | None = None) -> dict[str, Any]:
    """Health of one source from its finished runs (newest first), newest item times and open alert."""
    finished = [r for r in runs if r.status != CrawlStatus.running.value]
    last = finished[0] if finished else None
    last_ok = next((r for r in finished if r.status == CrawlStatus.ok.value), None)
    last_failed = next((r for r in finished if r.status == CrawlStatus.failed.value), None)
    streak = 0
    for run in finished:
        if run.status != CrawlStatus.failed.value:
            break
        streak += 1

    # the source's usual yield: ok runs before the last run (the one being judged)
    previous_ok = [r.items_seen for r in finished[1:] if r.status == CrawlStatus.ok.value][:USUAL_RUNS]
    usual = float(statistics.median(previous_ok)) if previous_ok else None
    last_yield = last.items_seen if last is not None and last.status == CrawlStatus.ok.value else None

    flags: list[str] = []
    recent = finished[:SILENT_RUNS]
    before_silence = [r.items_seen for r in finished[SILENT_RUNS:] if r.status == CrawlStatus.ok.value][:USUAL_RUNS]
    if (
        len(recent) == SILENT_RUNS
        and all(r.status == CrawlStatus.ok.value and r.items_seen == 0 for r in recent)
        and before_silence
        and statistics.median(before_silence) >= 1
    ):
        flags.append(FLAG_SILENT)
    share = garbled_share(last) if last is not None else 0.0
    if last is not None and share >= GARBLED_RUN_SHARE:
        flags.append(FLAG_GARBLED)
    if streak >= FAILURE_STREAK:
        flags.append(FLAG_FAILING)
    blocked = last is not None and last.status == CrawlStatus.failed.value and is_blocked_reason(last.error)
    if blocked:
        flags.append(FLAG_BLOCKED)

    if alert is not None:
        retry_after = max(0, int((alert.retry_at - now).total_seconds()))
    else:
        retry_after = backoff_seconds(source.interval_seconds, streak) if blocked else 0
    newest_item = newest.get("published") or newest.get("crawled")
    freshness = (now - newest_item).total_seconds() / 3600 if newest_item is not None else None
    if not source.enabled:
        state = "已停用"
    elif last is None:
        state = "未抓取"
    elif flags or last.status == CrawlStatus.failed.value:
        state = "异常"
    else:
        state = "正常"
    return {
        "key": source.key,
        "name": source.name,
        "kind": source.kind,
        "url": source.url,
        "enabled": source.enabled,
        "media_level": source.media_level,
        "region": source.region,
        "interval_seconds": source.interval_seconds,
        "cron": source.cron,
        "schedule": describe(source.cron, source.interval_seconds),
        "state": state,
        "flags": flags,
        "running": any(r.status == CrawlStatus.running.value for r in runs),
        "runs_total": None,  # filled by source_health
        "last_run_at": last.started_at if last else None,
        "last_status": last.status if last else None,
        "last_success_at": (last_ok.finished_at or last_ok.started_at) if last_ok else None,
        "last_error_at": (last_failed.finished_at or last_failed.started_at) if last_failed else None,
        "last_error": last_failed.error if last_failed else None,
        "consecutive_failures": streak,
        "blocked": blocked,
        "retry_after_seconds": retry_after,
        "blocked_until": alert.retry_at if alert is not None and retry_after > 0 else None,
        "alert": alert_row(alert, source, now) if alert is not None else None,
        "last_yield": last_yield,
        "usual_yield": usual,
        "yield_ratio": round(last_yield / usual, 2) if last_yield is not None and usual else None,
        "last_stored": last.items_stored if last else None,
        "garbled_share": round(share, 3),
        "newest_item_at": newest_item,
        "freshness_hours": round(freshness, 1) if freshness is not None else None,
    }


def source_health(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Health of every source, ordered by key (see the module docstring for each field).

    ``now`` is an aware datetime (freshness is measured against it). Times in the
    result are aware UTC datetimes; ``None`` where there is nothing yet.
    """
    sources = session.scalars(select(Source).order_by(Source.key)).all()
    totals = dict(
        session.execute(select(CrawlRun.source_id, func.count(CrawlRun.id)).group_by(CrawlRun.source_id)).all()
    )
    newest_rows = session.execute(
        select(Mention.source_id, func.max(Mention.published_at), func.max(Mention.crawled_at))
        .where(Mention.source_id.is_not(None))
        .group_by(Mention.source_id)
    ).all()
    newest = {sid: {"published": pub, "crawled": crawled} for sid, pub, crawled in newest_rows}
    alerts = {a.source_id: a for a in session.scalars(
        select(SourceAlert).where(SourceAlert.closed_at.is_(None)).order_by(SourceAlert.id)
    )}
    result = []
    for source in sources:
        runs = list(
            session.scalars(
                select(CrawlRun).where(CrawlRun.source_id == source.id).order_by(CrawlRun.id.desc()).limit(HISTORY_RUNS)
            ).all()
        )
        row = _health_of(source, runs, newest.get(source.id, {}), now, alerts.get(source.id))
        row["runs_total"] = int(totals.get(source.id, 0))
        result.append(row)
    return result


__all__ = [
    "source_health",
    "garbled_share",
    "FLAG_SILENT",
    "FLAG_GARBLED",
    "FLAG_FAILING",
    "FLAG_BLOCKED",
    "GARBLED_PAGE_MIN_CHARS",
    "STAT_GARBLED_PAGES",
    "STAT_REPLACEMENT_CHARS",
]
