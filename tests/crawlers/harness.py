"""Run the real spiders (with the cleaning and masking pipelines) in ONE fresh process
and write what they yielded as JSON — for tests that check parsing and decoding
without a database.

    python tests/crawlers/harness.py spec.json out.json

spec: ``{"download_timeout": 5, "sources": [{"kind", "source_key", "url", "config"}, ...]}``
out:  ``{source_key: {"items": [{title, text, url, author, published_at, extra}], "stats": {...}}}``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rcops.crawlers.items import MentionItem

RESULTS: dict[str, dict[str, Any]] = {}


class CollectPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> CollectPipeline:
        return cls(crawler)

    def process_item(self, item: MentionItem) -> MentionItem:
        key = self.crawler.spider.source_key
        RESULTS.setdefault(key, {"items": [], "stats": {}})["items"].append(
            {
                "url": item.url,
                "title": item.title,
                "text": item.text,
                "author": item.author,
                "published_at": item.published_at.isoformat() if item.published_at else None,
                "masked_count": item.masked_count,
                "extra": item.extra,
            }
        )
        return item


def main(spec_path: str, out_path: str) -> int:
    from scrapy.crawler import CrawlerProcess

    from rcops.crawlers.settings import scrapy_settings
    from rcops.crawlers.spiders import SPIDERS
    from rcops.store.settings import Settings

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    settings = Settings(_env_file=None, download_timeout_seconds=spec.get("download_timeout", 5), log_level="WARNING")  # type: ignore[call-arg]
    scrapy_cfg = scrapy_settings(
        settings,
        overrides={
            "ITEM_PIPELINES": {
                "rcops.crawlers.pipelines.CleanTextPipeline": 100,
                "rcops.crawlers.pipelines.MaskPersonalDataPipeline": 200,
                "harness.CollectPipeline": 900,
            },
        },
    )
    process = CrawlerProcess(scrapy_cfg)
    crawlers = []
    for source in spec["sources"]:
        crawler = process.create_crawler(SPIDERS[source["kind"]])
        process.crawl(crawler, source_key=source["source_key"], url=source["url"], config=source.get("config") or {})
        crawlers.append((source["source_key"], crawler))
    process.start()
    for key, crawler in crawlers:
        stats = {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("rcops/") or k == "finish_reason"}
        RESULTS.setdefault(key, {"items": [], "stats": {}})["stats"] = stats
    Path(out_path).write_text(json.dumps(RESULTS, ensure_ascii=False, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.modules.setdefault("harness", sys.modules[__name__])
    sys.exit(main(sys.argv[1], sys.argv[2]))
