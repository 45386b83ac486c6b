"""Extraction benchmark: our automatic article extraction (``rcops.crawlers.extract``,
trafilatura + our title and time layer) against GNE's own output (``gne_result.txt``)
on the detail pages of ``../shared/data/crawler_fixtures/news_pages/`` that GNE covers.

    python bench/extraction_bench.py [--json]

Per page and overall: title exact match, publish-time match (same minute; and same day),
body character-level F1 (bag of characters, white space ignored) against GNE's body.
GNE's output is machine output, not hand-checked gold: a low F1 can be GNE's miss too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rcops.crawlers.extract import extract_article  # noqa: E402
from rcops.crawlers.middlewares import decide_encoding  # noqa: E402
from rcops.crawlers.timeparse import SHANGHAI, parse_published  # noqa: E402

NEWS_PAGES = ROOT.parent / "shared" / "data" / "crawler_fixtures" / "news_pages"
BLOCK_RE = re.compile(r">>>>+(.*?)>>>>+\n(.*?)\n<<<<", re.S)
#: the crawl time the pages are read at (after every page's date)
NOW = datetime(2020, 6, 1, tzinfo=timezone.utc)


def gold_pages(base: Path = NEWS_PAGES) -> list[tuple[str, dict]]:
    raw = (base / "gne_result.txt").read_text(encoding="utf-8")
    pages = []
    for path, body in BLOCK_RE.findall(raw):
        path = path.strip()
        if (base / path).exists():
            pages.append((path, json.loads(body)))
    return sorted(pages)


def char_f1(predicted: str, gold: str) -> float:
    p = Counter(ch for ch in predicted if not ch.isspace())
    g = Counter(ch for ch in gold if not ch.isspace())
    if not p or not g:
        return float(p == g)
    overlap = sum((p & g).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def gold_time(raw: str) -> tuple[datetime | None, bool]:
    """GNE's publish time as an aware datetime, and whether it has a time of day."""
    value = parse_published(raw, NOW)
    if value is None:  # GNE also writes "2019-9-5 9:38:01"
        m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$", raw.strip())
        if m:
            y, mo, d, hh, mi, ss = (int(g) if g else 0 for g in m.groups())
            value = datetime(y, mo, d, hh, mi, ss, tzinfo=SHANGHAI)
    return value, bool(re.search(r"\d{1,2}:\d{2}", raw))


def run() -> dict:
    rows = []
    started = time.perf_counter()
    for path, gold in gold_pages():
        body = (NEWS_PAGES / path).read_bytes()
        encoding, _why = decide_encoding(body, None)
        t0 = time.perf_counter()
        article = extract_article(body.decode(encoding, errors="replace"), f"https://example.org/{path}", NOW)
        seconds = time.perf_counter() - t0
        expected, has_time = gold_time(gold.get("publish_time") or "")
        got = article.published_at.astimezone(SHANGHAI) if article.published_at else None
        want = expected.astimezone(SHANGHAI) if expected else None
        rows.append({
            "page": path,
            "title_match": article.title == gold["title"].strip(),
            "day_match": bool(got and want and got.date() == want.date()),
            # GNE without a time of day ("09月07日"): the day is all there is to match
            "time_match": bool(got and want and (got.replace(second=0) == want.replace(second=0) if has_time else got.date() == want.date())),
            "body_f1": round(char_f1(article.text, gold.get("content") or ""), 3),
            "seconds": round(seconds, 3),
            "title": article.title,
            "gold_title": gold["title"],
            "published": got.isoformat() if got else None,
            "gold_published": gold.get("publish_time"),
        })
    n = len(rows)
    summary = {
        "pages": n,
        "title_exact_match": round(sum(r["title_match"] for r in rows) / n, 3),
        "publish_time_match": round(sum(r["time_match"] for r in rows) / n, 3),
        "publish_day_match": round(sum(r["day_match"] for r in rows) / n, 3),
        "body_char_f1_mean": round(sum(r["body_f1"] for r in rows) / n, 3),
        "seconds_total": round(time.perf_counter() - started, 2),
    }
    return {"summary": summary, "pages": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (NEWS_PAGES / "gne_result.txt").exists():
        print(f"缺少共享数据 {NEWS_PAGES}，跳过抽取基准")
        return 0
    result = run()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"{'page':32} {'title':>5} {'time':>5} {'day':>5} {'body F1':>8} {'s':>6}")
    for r in result["pages"]:
        print(f"{r['page']:32} {'✓' if r['title_match'] else '✗':>5} {'✓' if r['time_match'] else '✗':>5} "
              f"{'✓' if r['day_match'] else '✗':>5} {r['body_f1']:>8.3f} {r['seconds']:>6.2f}")
    s = result["summary"]
    print(f"{'ALL (' + str(s['pages']) + ' pages)':32} {s['title_exact_match']:>5.0%} {s['publish_time_match']:>5.0%} "
          f"{s['publish_day_match']:>5.0%} {s['body_char_f1_mean']:>8.3f} {s['seconds_total']:>6.2f}")
    print("title: exact match with GNE's title; time: same minute (same day where GNE has no time of day); "
          "day: same calendar day; body F1: character-level F1 against GNE's body")
    return 0


if __name__ == "__main__":
    sys.exit(main())
