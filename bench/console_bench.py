"""Console benchmark: seed 100,000 mentions and 2,000 incidents into a SQLite file, then
measure the server-side render time of 预警台, one 事件详情 and one 信息检索 via AppTest.

    .venv/bin/python bench/console_bench.py [--mentions 100000] [--incidents 2000] [--db PATH]

Prints one JSON line per page with the median and the worst of several runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from rcops.operations.accounts import create_user  # noqa: E402
from rcops.plans.schema import load_rules_file  # noqa: E402
from rcops.plans.store_io import install_rules  # noqa: E402
from rcops.store.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from rcops.store.models import Incident, Mention, Source, Task, utcnow  # noqa: E402

APP = str(ROOT / "rcops" / "dashboard" / "app.py")
WORDS = ["征信", "泄露", "农户", "贷款", "逾期", "催收", "信用村", "村镇银行", "诈骗", "投诉", "授牌", "合作社", "保险", "理赔"]


def seed(url: str, n_mentions: int, n_incidents: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    rnd = random.Random(7)
    now = utcnow()
    with factory.begin() as s:
        install_rules(s, load_rules_file(), "system")
        create_user(s, "bench", "operator", "bench-password")
        sources = [Source(key=f"s{i}", name=f"信息源{i}", kind="rss", url=f"http://127.0.0.1/{i}") for i in range(20)]
        s.add_all(sources)
        s.flush()
        source_ids = [x.id for x in sources]
        tiers = ["I", "II", "III", "IV"]
        states = ["detected", "confirmed", "disposing", "resolved", "dismissed"]
        inc_rows = []
        for i in range(n_incidents):
            t = now - timedelta(hours=rnd.uniform(0, 24 * 30))
            tier = rnd.choices(tiers, weights=[1, 3, 6, 10])[0]
            inc_rows.append({"title": f"事件{i} " + "".join(rnd.sample(WORDS, 3)), "state": rnd.choice(states),
                             "tier_code": tier, "suggested_tier_code": tier, "tier_explanation": {},
                             "detected_at": t, "last_mention_at": t, "updated_at": t, "mention_count": 0,
                             "max_risk_score": rnd.random(), "total_reach": 0, "signature": "", "row_version": 1})
        s.execute(insert(Incident), inc_rows)
        inc_ids = list(s.scalars(select(Incident.id)))
        task_rows = [{"incident_id": iid, "position": p, "title": f"任务{p}", "role": "duty_officer",
                      "due_at": now + timedelta(minutes=rnd.randint(-600, 600)), "status": "open", "note": "",
                      "created_at": now} for iid in inc_ids for p in range(1, 5)]
        s.execute(insert(Task), task_rows)
        batch = []
        for n in range(n_mentions):
            when = now - timedelta(minutes=rnd.uniform(0, 60 * 24 * 30))
            graded = rnd.random() < 0.6
            batch.append({
                "source_id": rnd.choice(source_ids), "url": f"http://127.0.0.1/m/{n}",
                "canonical_url": f"http://127.0.0.1/m/{n}", "content_hash": f"{n:064d}",
                "title": "".join(rnd.sample(WORDS, 4)) + f" {n}",
                "text": "，".join(rnd.choices(WORDS, k=40)) + "。", "author": "", "crawled_at": when,
                "matched": {}, "reach": rnd.randint(0, 5000), "masked_count": 0,
                "risk_score": rnd.random() if graded else None,
                "tier_code": rnd.choice(tiers) if graded else None,
                "incident_id": rnd.choice(inc_ids) if graded and rnd.random() < 0.8 else None,
                "graded_at": when if graded else None,
            })
            if len(batch) == 5000:
                s.execute(insert(Mention), batch)
                batch = []
        if batch:
            s.execute(insert(Mention), batch)
        # incident counters as the engine would keep them
        counts: dict[int, int] = {}
        for (iid,) in s.execute(select(Mention.incident_id).where(Mention.incident_id.is_not(None))):
            counts[iid] = counts.get(iid, 0) + 1
        for inc in s.scalars(select(Incident)):
            inc.mention_count = counts.get(inc.id, 0)
    engine.dispose()


def measure(url: str, runs: int) -> list[dict[str, object]]:
    os.environ["RCOPS_DATABASE_URL"] = url
    from streamlit.testing.v1 import AppTest

    from rcops.store.settings import get_settings

    get_settings.cache_clear()
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        top = s.scalars(select(Incident.id).where(Incident.state == "detected", Incident.tier_code == "I")
                        .order_by(Incident.mention_count.desc())).first()
    engine.dispose()
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input(key="login_username").input("bench")
    at.text_input(key="login_password").input("bench-password")
    at.button(key="login_submit").click().run()
    assert not at.exception, at.exception
    results = []
    pages = [
        ("预警台", "views/alerts.py", None),
        ("事件详情", "views/incident.py", top),
        ("信息检索", "views/search.py", None),
    ]
    for name, path, incident in pages:
        times = []
        for _ in range(runs):
            if incident is not None:
                at.session_state["incident_id"] = incident
            t0 = time.perf_counter()
            at.switch_page(path).run()
            times.append(time.perf_counter() - t0)
            assert not at.exception, at.exception
        results.append({"page": name, "median_s": round(statistics.median(times), 3),
                        "worst_s": round(max(times), 3), "first_s": round(times[0], 3), "runs": runs})
    # a search with words, through the page's form
    at.switch_page("views/search.py").run()
    times = []
    for words in ["征信 泄露", "村镇银行", "理赔 农户 保险"]:
        at.text_input(key="q_words").input(words)
        t0 = time.perf_counter()
        at.button(key="q_submit").click().run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    results.append({"page": "信息检索（关键词）", "median_s": round(statistics.median(times), 3),
                    "worst_s": round(max(times), 3), "runs": len(times)})
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "bench.db"
    url = f"sqlite:///{path.as_posix()}"
    if not path.exists():
        t0 = time.perf_counter()
        seed(url, args.mentions, args.incidents)
        print(json.dumps({"seeded": str(path), "mentions": args.mentions, "incidents": args.incidents,
                          "seconds": round(time.perf_counter() - t0, 1)}, ensure_ascii=False), flush=True)
    for row in measure(url, args.runs):
        print(json.dumps(row, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
