"""Crawl-throughput benchmark: a local site of list and detail pages (≥ 1,000 detail pages)
crawled by the real ``html`` spider twice in one run — once through the whole item pipeline
(clean → mask → scheme match → de-duplicate → store, SQLite) and once with an empty
pipeline — and pages per second compared. Target: the pipeline costs under 30 %.

    python bench/crawl_throughput.py [--pages 1000] [--json]

Each crawl runs in its own process (as in production); the time is Scrapy's own
``elapsed_time_seconds`` of the crawl (process start-up excluded), and the CPU time the
crawl process used (all its threads). The two modes alternate ``--repeat`` times and the
fastest run of each counts; on a machine busy with other work, the CPU-time rate is the
steadier comparison. Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PER_LIST = 50
HTML = {"Content-Type": "text/html; charset=utf-8"}


#: words the articles are made of; each page draws its own sentences (seeded), so pages are
#: distinct stories as on a real site, not near-duplicates of one another
WORDS = ("农户 信用村 助农贷 征信 逾期 授信 网点 客户经理 乡镇 合作社 种植 养殖 贷款 利率 还款 评定 "
         "宣传 培训 调查 投诉 回应 整改 存款 理财 诈骗 提醒 防范 县里 村委会 金融办 监管 开展 发放 "
         "建档 评级 走访 座谈 签约 扶持 产业").split()


def detail_page(n: int) -> bytes:
    import random

    rng = random.Random(n)
    body = "".join(
        f"<p>{'，'.join(''.join(rng.choices(WORDS, k=5)) for _ in range(3))}。</p>" for _p in range(8)
    )
    body += f"<p>某县农信社第{n}号网点客服电话 0311-8{n:07d}，身份证号 11010119900307123X 已隐去。</p>"
    return (
        f"<html><head><title>农信社动态 第{n}期_测试站</title></head><body><h1>农信社动态 第{n}期</h1>"
        f"<span class='time'>2024-04-30 10:{n % 60:02d}</span><div class='content'>{body}</div></body></html>"
    ).encode("utf-8")


def list_page(page: int, pages: int, total: int) -> bytes:
    start = (page - 1) * PER_LIST
    links = "".join(f"<li><a href='/d/{n}.html'>第{n}期</a></li>" for n in range(start, min(start + PER_LIST, total)))
    nxt = f"<a class='next' href='/list/{page + 1}.html'>下一页</a>" if page < pages else ""
    return f"<html><body><ul class='news'>{links}</ul>{nxt}</body></html>".encode("utf-8")


def source_config(total: int) -> dict[str, Any]:
    return {
        "list": {"link": "ul.news a", "next": "a.next"},
        "detail": {"title": "h1", "body": "div.content p", "published_at": ".time"},
        "max_items": total,
        "max_pages": -(-total // PER_LIST),
        "obey_robots": False,
    }


def worker(spec_path: str) -> int:
    """One crawl in this process; prints its stats as JSON."""
    from scrapy.crawler import CrawlerProcess

    from rcops.crawlers.settings import scrapy_settings
    from rcops.crawlers.spiders import SPIDERS
    from rcops.store.settings import Settings

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    settings = Settings(_env_file=None, database_url=spec["db_url"], log_level="WARNING")  # type: ignore[call-arg]
    overrides: dict[str, Any] = {"LOG_LEVEL": "ERROR"}
    if spec["mode"] == "empty":
        overrides["ITEM_PIPELINES"] = {}
    process = CrawlerProcess(scrapy_settings(settings, spec["config"], run_id=spec.get("run_id"),
                                             source_id=spec.get("source_id"), overrides=overrides))
    crawler = process.create_crawler(SPIDERS["html"])
    process.crawl(crawler, source_key="bench", url=spec["url"], config=spec["config"])
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    process.start()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    stats = crawler.stats.get_stats()
    print(json.dumps({
        "seconds": stats.get("elapsed_time_seconds"),
        "cpu_seconds": round((cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime), 2),
        "pages": stats.get("response_received_count", 0),
        "items": stats.get("item_scraped_count", 0),
        "stored": stats.get("rcops/items_stored", 0),
        "dropped": stats.get("item_dropped_count", 0),
        "errors": stats.get("log_count/ERROR", 0),
    }))
    return 0


def run_crawl(mode: str, url: str, config: dict[str, Any], workdir: Path) -> dict[str, Any]:
    from rcops.crawlers.sources import load_monitoring_config
    from rcops.store.db import make_engine, migrate, session_scope
    from rcops.store.models import CrawlRun, Source

    # a fresh database for every run: nothing is a duplicate of an earlier run
    db_file = workdir / f"{mode}-{len(list(workdir.glob('*.db')))}.db"
    db_url = f"sqlite:///{db_file.as_posix()}"
    engine = make_engine(db_url)
    migrate(engine)
    with session_scope(engine) as session:
        load_monitoring_config(session, {
            "sources": [{"key": "bench", "name": "基准站", "kind": "html", "url": "https://bench.example.org/", "config": config}],
            "schemes": [{"name": "基准方案", "subject_words": ["农信社"], "event_words": ["网点"], "exclusion_words": ["招聘"]}],
        }, "bench")
        source = session.query(Source).one()
        run = CrawlRun(source_id=source.id, trigger="bench")
        session.add(run)
        session.flush()
        ids = {"source_id": source.id, "run_id": run.id}
    engine.dispose()
    spec = db_file.with_suffix(".json")
    spec.write_text(json.dumps({"mode": mode, "db_url": db_url, "url": url, "config": config, **ids}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCOPS_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, __file__, "--worker", str(spec)], env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["mode"] = mode
    result["pages_per_second"] = round(result["pages"] / result["seconds"], 1) if result["seconds"] else None
    result["pages_per_cpu_second"] = round(result["pages"] / result["cpu_seconds"], 1) if result["cpu_seconds"] else None
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="detail pages of the local site")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each mode (the fastest counts)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)

    from tests.support.httpserver import HTTPTestServer

    total = args.pages
    pages = -(-total // PER_LIST)
    results = []
    with HTTPTestServer() as server, tempfile.TemporaryDirectory(prefix="rcops-bench-") as tmp:
        for page in range(1, pages + 1):
            server.route(f"/list/{page}.html", 200, HTML, list_page(page, pages, total))
        for n in range(total):
            server.route(f"/d/{n}.html", 200, HTML, detail_page(n))
        config = source_config(total)
        url = server.url("/list/1.html")
        run_crawl("empty", url, config, Path(tmp))  # warm-up: the OS page cache, Python's bytecode
        runs: dict[str, list[dict[str, Any]]] = {"empty": [], "full": []}
        for _ in range(args.repeat):
            for mode in ("empty", "full"):
                runs[mode].append(run_crawl(mode, url, config, Path(tmp)))
    results = [min(runs[mode], key=lambda r: r["seconds"]) for mode in ("empty", "full")]
    empty, full = results
    if full["stored"] != total or full["errors"] or empty["items"] != total:
        raise SystemExit(f"基准运行不完整：{results}")
    overhead = 1 - full["pages_per_second"] / empty["pages_per_second"]
    cpu_overhead = 1 - full["pages_per_cpu_second"] / empty["pages_per_cpu_second"]
    summary = {"site_pages": total + pages, "runs": results, "pipeline_cost": round(overhead, 3),
               "pipeline_cost_cpu": round(cpu_overhead, 3), "target": "< 0.30",
               "load_average": os.getloadavg()[0]}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    print(f"local site: {total} detail pages + {pages} list pages on 127.0.0.1")
    print(f"{'pipeline':10} {'pages':>6} {'items':>6} {'stored':>7} {'seconds':>8} {'pages/s':>8} {'CPU s':>7} {'pages/CPU s':>12}")
    for r in results:
        print(f"{r['mode']:10} {r['pages']:>6} {r['items']:>6} {r['stored']:>7} {r['seconds']:>8.2f} "
              f"{r['pages_per_second']:>8.1f} {r['cpu_seconds']:>7.2f} {r['pages_per_cpu_second']:>12.1f}")
    print(f"pipeline cost: {overhead:.1%} of the empty-pipeline rate by wall clock, {cpu_overhead:.1%} by CPU time "
          f"(target under 30%; load average {summary['load_average']:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
