"""Console benchmark: seed 100,000 mentions and 2,000 incidents into a SQLite file, then
measure each page twice — server-side render time via AppTest, and in a real headless
Chromium from the click in the sidebar until the page is drawn and Streamlit is idle —
next to the same pages on a small baseline database (1,000 mentions, 20 incidents)
measured in the same run.

    .venv/bin/python bench/console_bench.py [--mentions 100000] [--incidents 2000] [--no-browser]

Prints a table: median per page and store size, the ratio large/small, and whether the
page meets the 1.5 s target on the large store.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
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
        ("统计", "views/stats.py", None),
        ("报告", "views/reports.py", None),
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


CHROMIUM = Path("/usr/bin/chromium")
TARGET_S = 1.5
#: sidebar label → a text that shows the page has drawn its content
BROWSER_PAGES = [("预警台", "在办事件等级分布"), ("事件详情", "状态："), ("信息检索", "检索"), ("统计", "统计"),
                 ("报告", "报告")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure_browser(url: str, runs: int) -> list[dict[str, object]]:
    """Real console server + headless Chromium: click each page in the sidebar, time until its
    content is visible and Streamlit's "running" indicator has been gone for 0.3 s."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCOPS_")}
    env.update(RCOPS_DATABASE_URL=url, RCOPS_DATA_DIR=tempfile.mkdtemp(), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", APP, "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    idle_js = """() => { const w = document.querySelector('[data-testid="stStatusWidget"]');
        const busy = w && /Running|Stop|运行/.test(w.innerText || '');
        if (busy) { window.__idleSince = 0; return false; }
        window.__idleSince = window.__idleSince || performance.now();
        return performance.now() - window.__idleSince > 300; }"""
    results: list[dict[str, object]] = []
    try:
        import urllib.request

        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("控制台 90 秒内没有就绪") from None
                time.sleep(0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page.set_default_timeout(60_000)
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_label("用户名").fill("bench")
            page.get_by_label("密码").fill("bench-password")
            page.get_by_role("button", name="登录", exact=True).click()
            page.get_by_role("heading", name="预警台").wait_for()
            page.wait_for_function(idle_js, polling=50)
            results.append({"page": "登录→预警台", "times": [time.perf_counter() - t0]})
            for name, marker in BROWSER_PAGES:
                times = []
                for _ in range(runs):
                    link = page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True)
                    page.evaluate("() => { window.__idleSince = 0; }")
                    t0 = time.perf_counter()
                    link.click()
                    page.get_by_role("heading", name=name).first.wait_for()
                    page.get_by_text(marker).first.wait_for()
                    page.wait_for_timeout(50)
                    page.wait_for_function(idle_js, polling=50)
                    times.append(time.perf_counter() - t0 - 0.3)  # the quiet 0.3 s is not the page's
                results.append({"page": name, "times": times})
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return [{"page": r["page"], "median_s": round(statistics.median(r["times"]), 3),  # type: ignore[arg-type]
             "worst_s": round(max(r["times"]), 3)} for r in results]  # type: ignore[arg-type]


def _seeded(n_mentions: int, n_incidents: int, db: str = "") -> str:
    path = Path(db) if db else Path(tempfile.mkdtemp()) / f"bench-{n_mentions}.db"
    url = f"sqlite:///{path.as_posix()}"
    if not path.exists():
        t0 = time.perf_counter()
        seed(url, n_mentions, n_incidents)
        print(f"已写入 {n_mentions:,} 条信息、{n_incidents:,} 个事件：{time.perf_counter() - t0:.1f} 秒（{path}）",
              flush=True)
    return url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default="", help="an already seeded large database to reuse")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    small = _seeded(1_000, 20)
    large = _seeded(args.mentions, args.incidents, args.db)
    rows: list[tuple[str, str, dict[str, object], dict[str, object]]] = []
    by_small = {r["page"]: r for r in measure(small, args.runs)}
    for r in measure(large, args.runs):
        rows.append(("AppTest 服务端", str(r["page"]), by_small[r["page"]], r))
    if not args.no_browser and CHROMIUM.exists():
        by_small = {r["page"]: r for r in measure_browser(small, args.runs)}
        for r in measure_browser(large, args.runs):
            rows.append(("Chromium 到空闲", str(r["page"]), by_small[r["page"]], r))
    elif not args.no_browser:
        print("（没有 /usr/bin/chromium：跳过浏览器测量）")
    print()
    print(f"{'测量':<14}{'页面':<14}{'1千条 中位':>12}{'10万条 中位':>12}{'10万条 最差':>12}{'倍数':>8}  目标 ≤{TARGET_S}s")
    for kind, page, s_row, l_row in rows:
        ratio = float(l_row["median_s"]) / max(float(s_row["median_s"]), 1e-3)  # type: ignore[arg-type]
        ok = "达到" if float(l_row["median_s"]) <= TARGET_S else "未达到"  # type: ignore[arg-type]
        print(f"{kind:<14}{page:<14}{s_row['median_s']:>12}{l_row['median_s']:>12}{l_row['worst_s']:>12}"
              f"{ratio:>8.2f}  {ok}")


if __name__ == "__main__":
    main()
