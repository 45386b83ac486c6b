"""One crawl in one fresh process: ``python -m rcops.crawlers.worker --run-id N``.

Every crawl runs in its own process (launched by :func:`rcops.crawlers.runner.crawl_source`),
so Scrapy's Twisted reactor is started exactly once per process and
``ReactorNotRestartable`` cannot happen, however many crawls a scheduler runs.

The worker reads the settings from the environment (``RCOPS_*``), loads the
CrawlRun and its Source, runs the spider of the source's kind with
``CrawlerProcess``, then writes the counters, ``status`` (``ok``/``failed``),
``finished_at`` and a Chinese ``error`` into the CrawlRun.

Exit codes: 0 when the outcome was recorded (also a failed crawl), 1 on an
internal error (recorded when the database still answers), 2 on bad usage
(unknown run, run not running).

With ``--shared`` the process is one of several crawling one run together through a
frontier in Redis (scale-out, ``RCOPS_CRAWL_REDIS_URL``): it prints its values as JSON
and :func:`rcops.crawlers.runner.crawl_source` adds them up and records the run.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from datetime import datetime, timezone
from typing import Any

from rcops.store.db import make_engine, session_scope
from sqlalchemy import select

from rcops.store.models import CrawlRun, CrawlStatus, Mention
from rcops.store.settings import Settings

from .exceptions import CrawlRunNotFound, CrawlerError
from .spiders.base import PROBLEM_PREFIX

logger = logging.getLogger("rcops.crawlers.worker")

ERROR_MAX_CHARS = 2000
#: how a ``--shared`` worker hands its values to the launcher (the last such line on stdout)
SHARED_RESULT_PREFIX = "rcops-crawl-result "
#: canonical URLs of a source's newest stored mentions handed to its spider, whose detail
#: pages are then not fetched again (incremental crawling)
KNOWN_URLS_LIMIT = 5000


def _summarise_problems(stats: dict[str, Any]) -> str | None:
    problems = [
        (key[len(PROBLEM_PREFIX) :], int(value))
        for key, value in stats.items()
        if key.startswith(PROBLEM_PREFIX) and value
    ]
    if not problems:
        return None
    parts = "；".join(f"{reason} ×{count}" for reason, count in sorted(problems))
    return f"部分内容未入库：{parts}"


def _load(settings: Settings, run_id: int) -> dict[str, Any]:
    engine = make_engine(settings.db_url)
    try:
        with session_scope(engine) as session:
            run = session.get(CrawlRun, run_id)
            if run is None:
                raise CrawlRunNotFound(f"抓取记录 {run_id} 不存在")
            if run.status != CrawlStatus.running.value:
                raise CrawlRunNotFound(f"抓取记录 {run_id} 的状态为 {run.status}，不是 running")
            source = run.source
            known = session.scalars(
                select(Mention.canonical_url)
                .where(Mention.source_id == source.id)
                .order_by(Mention.id.desc())
                .limit(KNOWN_URLS_LIMIT)
            ).all()
            return {
                "run_id": run.id,
                "source_id": source.id,
                "source_key": source.key,
                "kind": source.kind,
                "url": source.url,
                "config": dict(source.config or {}),
                "known_urls": list(known),
            }
    finally:
        engine.dispose()


def _record(settings: Settings, run_id: int, values: dict[str, Any]) -> None:
    engine = make_engine(settings.db_url)
    try:
        with session_scope(engine) as session:
            run = session.get(CrawlRun, run_id)
            if run is None:
                raise CrawlRunNotFound(f"抓取记录 {run_id} 不存在")
            for name, value in values.items():
                setattr(run, name, value)
            run.finished_at = datetime.now(timezone.utc)
    finally:
        engine.dispose()


def run_crawl(settings: Settings, run_id: int, shared: bool = False) -> dict[str, Any]:
    """Run the crawl of CrawlRun ``run_id`` in this process and return the values to record.

    ``shared``: this process is one of several crawling the run together through the shared
    frontier in Redis (``Settings.crawl_redis_url``); the launcher adds up their values.
    """
    # Scrapy and Twisted are imported here, in the fresh process, never by the runner.
    from scrapy.crawler import CrawlerProcess

    from .pipelines import run_counters
    from .settings import scrapy_settings
    from .spiders import SPIDERS
    from .spiders.base import FATAL_ERROR_KEY

    job = _load(settings, run_id)
    spidercls = SPIDERS.get(job["kind"])
    if spidercls is None:
        return {
            "status": CrawlStatus.failed.value,
            "error": f"未知的信息源类型 {job['kind']!r}（可用：{'、'.join(sorted(SPIDERS))}）",
        }
    process = CrawlerProcess(
        scrapy_settings(settings, job["config"], run_id=job["run_id"], source_id=job["source_id"],
                        frontier=f"run-{job['run_id']}" if shared else None)
    )
    crawler = process.create_crawler(spidercls)
    failures: list[str] = []
    deferred = process.crawl(
        crawler, source_key=job["source_key"], url=job["url"], config=job["config"], known_urls=job["known_urls"]
    )
    deferred.addErrback(lambda failure: failures.append(f"{failure.type.__name__}：{failure.value}"))
    process.start()

    try:
        stats = dict(crawler.stats.get_stats()) if crawler.stats is not None else {}
    except RuntimeError:  # the crawl never started (e.g. the spider refused its arguments)
        stats = {}
    values: dict[str, Any] = run_counters(stats)
    fatal = stats.get(FATAL_ERROR_KEY)
    finish_reason = stats.get("finish_reason")
    summary = _summarise_problems(stats)
    if failures:
        values["status"] = CrawlStatus.failed.value
        values["error"] = f"抓取内部错误：{failures[0]}"
        values["internal_error"] = True
    elif fatal:
        values["status"] = CrawlStatus.failed.value
        values["error"] = fatal
    elif finish_reason != "finished":
        values["status"] = CrawlStatus.failed.value
        values["error"] = f"抓取未正常结束（{finish_reason or '原因不明'}）"
    else:
        values["status"] = CrawlStatus.ok.value
        values["error"] = summary
    if values["error"] and summary and values["error"] != summary:
        values["error"] = f"{values['error']}；{summary}"
    if values["error"]:
        values["error"] = values["error"][:ERROR_MAX_CHARS]
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rcops.crawlers.worker", description="执行一次抓取")
    parser.add_argument("--run-id", type=int, required=True, help="CrawlRun 的 id（状态须为 running）")
    parser.add_argument("--shared", action="store_true",
                        help="与其他进程共享 Redis 中的抓取队列；结果以 JSON 写到标准输出，由启动方汇总记录")
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        values = run_crawl(settings, args.run_id, shared=args.shared)
    except CrawlerError as exc:
        print(f"rcops 抓取：{exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence of a worker process
        traceback.print_exc()
        try:
            _record(
                settings,
                args.run_id,
                {"status": CrawlStatus.failed.value, "error": f"抓取内部错误：{type(exc).__name__}：{exc}"[:ERROR_MAX_CHARS]},
            )
        except Exception:  # noqa: BLE001
            traceback.print_exc()
        return 1
    internal = values.pop("internal_error", False)
    if args.shared:
        print(SHARED_RESULT_PREFIX + json.dumps(values, ensure_ascii=False))
        return 1 if internal else 0
    _record(settings, args.run_id, values)
    print(
        f"rcops 抓取记录 {args.run_id}：{values['status']}，入库 {values.get('items_stored', 0)} 条"
        + (f"；{values['error']}" if values.get("error") else ""),
        file=sys.stderr,
    )
    return 1 if internal else 0


if __name__ == "__main__":
    sys.exit(main())
