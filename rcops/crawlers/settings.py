"""Scrapy settings of the rcops crawlers (the module given to Scrapy), and
:func:`scrapy_settings`, which applies our one :class:`~rcops.store.settings.Settings`
object and the source's own options on top of it.

Defaults here are those of ``rcops.store.settings.Settings``; the worker always
calls :func:`scrapy_settings`, so environment variables (``RCOPS_*``) win.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import Settings as ScrapySettings
from scrapy.settings import default_settings as _scrapy_defaults

from rcops.store.settings import Settings

BOT_NAME = "rcops"
SPIDER_MODULES = ["rcops.crawlers.spiders"]
NEWSPIDER_MODULE = "rcops.crawlers.spiders"

#: Say who we are: public-opinion monitoring of a rural credit information system.
USER_AGENT = "rcops-monitor/0.1 (+rural credit information system public-opinion monitoring; robots.txt obeyed)"
ROBOTSTXT_OBEY = True
TELNETCONSOLE_ENABLED = False
#: Scrapy 2.19's remote-control HTTP server (and its job files): not in a back-office worker.
REMOTE_CONTROL_ENABLED = False

# Components we never use are taken out of the *_BASE dicts, not just disabled: Scrapy
# imports every listed component to normalise the dict, and remote_control (aiohttp) and
# the cookies middleware (tldextract, requests) cost ~0.5 s of CPU in every crawl process.
_unused_extensions = {
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.spiderstate.SpiderState",
    "scrapy.extensions.throttle.AutoThrottle",
}
_unused_downloader_middlewares = {"scrapy.downloadermiddlewares.cookies.CookiesMiddleware"}
EXTENSIONS_BASE = {k: v for k, v in _scrapy_defaults.EXTENSIONS_BASE.items() if k not in _unused_extensions}
DOWNLOADER_MIDDLEWARES_BASE = {
    k: v
    for k, v in _scrapy_defaults.DOWNLOADER_MIDDLEWARES_BASE.items()
    if k not in _unused_downloader_middlewares
}

#: Only http(s): a source must never read local files (file://, data:) or S3/FTP.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "s3": None, "ftp": None}

DOWNLOADER_MIDDLEWARES = {
    # responses pass middlewares from high to low numbers: below HttpCompressionMiddleware
    # (590) it sees decompressed bytes, above MetaRefreshMiddleware (580) it decodes first
    "rcops.crawlers.middlewares.EncodingMiddleware": 585,
}

ITEM_PIPELINES = {
    "rcops.crawlers.pipelines.CleanTextPipeline": 100,
    "rcops.crawlers.pipelines.MaskPersonalDataPipeline": 200,
    "rcops.crawlers.pipelines.SchemeMatchPipeline": 300,
    "rcops.crawlers.pipelines.DedupPipeline": 400,
    "rcops.crawlers.pipelines.StorePipeline": 500,
}

#: Filled by :func:`scrapy_settings`: where the pipelines store mentions, and for which run.
RCOPS_DATABASE_URL = ""
RCOPS_RUN_ID = None
RCOPS_SOURCE_ID = None


def frontier_keys(frontier: str) -> tuple[str, str]:
    """Redis keys (request queue, de-duplication filter) of the shared crawl ``frontier``."""
    return f"rcops:frontier:{frontier}:requests", f"rcops:frontier:{frontier}:dupefilter"


def scrapy_settings(
    settings: Settings,
    source_config: dict[str, Any] | None = None,
    *,
    run_id: int | None = None,
    source_id: int | None = None,
    overrides: dict[str, Any] | None = None,
    frontier: str | None = None,
) -> ScrapySettings:
    """Scrapy settings for one crawl: this module + our Settings + the source's options.

    ``frontier`` names a crawl shared by several processes: with ``crawl_redis_url`` set,
    their requests and seen-request fingerprints live in Redis (scrapy-redis) under keys
    of that name, so every page is fetched by one of them once (see :func:`frontier_keys`).
    """
    config = source_config or {}
    result = ScrapySettings()
    result.setmodule(__name__, priority="project")
    result.set("DOWNLOAD_TIMEOUT", settings.download_timeout_seconds, priority="cmdline")
    result.set("LOG_LEVEL", settings.log_level.upper(), priority="cmdline")
    result.set("ROBOTSTXT_OBEY", bool(config.get("obey_robots", True)), priority="cmdline")
    # the source's politeness options (validated by crawlers.sources)
    for key, name in (("delay", "DOWNLOAD_DELAY"), ("concurrency", "CONCURRENT_REQUESTS_PER_DOMAIN"),
                      ("timeout", "DOWNLOAD_TIMEOUT"), ("retries", "RETRY_TIMES")):
        if config.get(key) is not None:
            result.set(name, config[key], priority="cmdline")
    result.set("RCOPS_DATABASE_URL", settings.db_url, priority="cmdline")
    result.set("RCOPS_RUN_ID", run_id, priority="cmdline")
    result.set("RCOPS_SOURCE_ID", source_id, priority="cmdline")
    if frontier and settings.crawl_redis_url:
        queue_key, dupefilter_key = frontier_keys(frontier)
        for name, value in {
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "REDIS_URL": settings.crawl_redis_url,
            # kept when one process finishes while the others still work; the launcher deletes them
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": queue_key,
            "SCHEDULER_DUPEFILTER_KEY": dupefilter_key,
        }.items():
            result.set(name, value, priority="cmdline")
    for key, value in (overrides or {}).items():
        result.set(key, value, priority="cmdline")
    return result
