"""Disposal commands as a user runs them (in this process, tests/support/cli.py; the escalation loop as a real
process that is killed), a real database, a real HTTP receiver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from rcops.plans.schema import load_rules_file
from rcops.plans.store_io import install_rules
from rcops.store.models import Incident, Task, utcnow
from rcops.store.models_disposal import Escalation, Notification, NotificationAttempt
from rcops.triage.engine import process_pending
from tests.support.cli import rcops
from tests.triage.receivers import HTTPReceiver
from tests.triage.test_engine import ACTORS, STORY, WordScorer, add_mention
from tests.triage.test_roster import seed_users

RCOPS = [sys.executable, "-m", "rcops.pipeline.cli"]


def env_for(settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCOPS_")}
    env.update({"RCOPS_DATABASE_URL": settings.db_url, "RCOPS_DATA_DIR": str(settings.data_dir)})
    env.update(extra)
    return env


def seeded(session_factory) -> int:
    from rcops.store.models import Source

    with session_factory.begin() as s:
        seed_users(s, ACTORS)  # every --actor is an account: without accounts only ``system`` may act
        install_rules(s, load_rules_file(), "admin")
        s.add(Source(key="news", name="县融媒体", kind="rss", url="http://127.0.0.1/feed", media_level="municipal"))
        s.flush()
        add_mention(s, 1, "村镇银行泄露客户信息", STORY, reach=10, when=utcnow() - timedelta(minutes=10))
        process_pending(s, WordScorer())
        return s.scalars(select(Incident.id)).one()


@pytest.mark.sqlite_only
def test_incident_carried_from_detection_to_archive_by_commands(settings, session_factory, tmp_path):
    inc_id = seeded(session_factory)
    env = env_for(settings)
    r = rcops(env, "incidents", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(x["id"], x["tier"], x["state"]) for x in rows] == [(inc_id, "II", "detected")]
    r = rcops(env, "incident", str(inc_id), "--json")
    d = json.loads(r.stdout)
    assert d["tier_history"][0]["change"] == "初定 II 级" and d["mentions_list"][0]["source"] == "县融媒体"
    first_task = d["tasks"][0]
    # due times shown in Beijing time: detection + 60 min, +08:00
    with session_factory() as s:
        due = s.get(Task, first_task["id"]).due_at
    assert first_task["due_at"] == (due + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert [a["action"] for a in d["audit"]][:2] == ["detected", "plan_applied"]

    r = rcops(env, "incident", "confirm", str(inc_id), "--tier", "I", "--actor", "op1")
    assert r.returncode == 1 and "理由" in r.stderr
    r = rcops(env, "incident", "confirm", str(inc_id), "--tier", "I", "--reason", "涉及征信数据", "--actor", "op1",
              "--expect-version", str(d["version"]))
    assert r.returncode == 0 and "已研判" in r.stdout, r.stderr
    r = rcops(env, "incident", "confirm", str(inc_id), "--expect-version", str(d["version"]), "--actor", "op2")
    assert r.returncode == 1 and "已被他人修改" in r.stderr
    assert rcops(env, "incident", "dispose", str(inc_id), "--actor", "op1").returncode == 0
    task_id = str(first_task["id"])
    r = rcops(env, "incident", "assign", task_id, "张三", "--actor", "lead")
    assert r.returncode == 0 and "张三" in r.stdout
    r = rcops(env, "incident", "complete", task_id, "--note", "已电话报告", "--actor", "张三")
    assert r.returncode == 0 and "按时" in r.stdout
    r = rcops(env, "incident", "report", str(inc_id), "--actor", "op1")
    assert r.returncode == 1 and "处置完毕" in r.stderr
    assert rcops(env, "incident", "resolve", str(inc_id), "--actor", "op1", "--note", "已处置").returncode == 0
    r = rcops(env, "incident", "report", str(inc_id), "--actor", "op1", "--template", str(tmp_path / "none.j2"))
    assert r.returncode == 1 and "找不到分析报告模板" in r.stderr and "Traceback" not in r.stderr
    r = rcops(env, "incident", "report", str(inc_id), "--actor", "op1", "--json")
    rep = json.loads(r.stdout)
    assert rep["status"] == "draft"
    rid = str(rep["report_id"])
    assert rcops(env, "incident", "submit", rid, "--actor", "op1").returncode == 0
    r = rcops(env, "incident", "archive", rid, "--actor", "admin", "--json")
    assert r.returncode == 0 and len(json.loads(r.stdout)["sha256"]) == 64
    r = rcops(env, "incident", "verify", rid)
    assert r.returncode == 0 and "校验通过" in r.stdout
    pdf = tmp_path / "report.pdf"
    r = rcops(env, "incident", "export", rid, "--format", "pdf", "--out", str(pdf))
    assert r.returncode == 0 and pdf.read_bytes()[:5] == b"%PDF-"
    d = json.loads(rcops(env, "incident", "show", str(inc_id), "--json").stdout)
    assert d["state"] == "archived" and d["reports"][0]["status"] == "archived"
    assert any(h["change"] == "II → I 级" and h["why"] == "涉及征信数据" for h in d["tier_history"])
    assert next(t for t in d["tasks"] if t["id"] == int(task_id))["assignee"] == "张三"
    r = rcops(env, "incident", "dismiss", str(inc_id), "--reason", "误报", "--actor", "op1")
    assert r.returncode == 1 and "已归档" in r.stderr
    r = rcops(env, "incident", "999")
    assert r.returncode == 1 and "找不到编号为 999" in r.stderr


def test_escalation_timer_survives_a_killed_process_and_fires_once(settings, session_factory):
    inc_id = seeded(session_factory)
    with session_factory.begin() as s:  # the first task falls due in 4 seconds
        first = s.scalars(select(Task).where(Task.incident_id == inc_id).order_by(Task.position)).first()
        s.execute(update(Task).where(Task.id == first.id).values(due_at=utcnow() + timedelta(seconds=4)))
        task_id = first.id
    with HTTPReceiver() as http:
        targets = json.dumps({"administrator": [f"webhook:{http.url('/hook')}"], "operator_lead": []})
        env = env_for(settings, RCOPS_NOTIFY_TARGETS=targets, RCOPS_NOTIFY_ESCALATE_ROLES="[]")

        def start():
            return subprocess.Popen([*RCOPS, "escalate", "--loop", "0.5"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)

        p = start()
        time.sleep(2)
        assert p.poll() is None
        p.send_signal(signal.SIGKILL)  # the scheduler dies before the deadline
        p.wait()
        with session_factory() as s:
            assert not s.scalars(select(Escalation)).all()
        time.sleep(3)  # the deadline passes while nothing runs
        p = start()
        deadline = time.time() + 30
        while time.time() < deadline and not http.received:
            time.sleep(0.2)
        time.sleep(1.5)
        p.send_signal(signal.SIGKILL)
        p.wait()
        p = start()  # a third run must not repeat it
        time.sleep(2)
        p.send_signal(signal.SIGTERM)
        p.wait()
        assert len(http.received) == 1
        assert http.received[0][2]["title"].startswith("【舆情督办·1级】")
    with session_factory() as s:
        escs = s.scalars(select(Escalation).where(Escalation.task_id == task_id)).all()
        assert sorted((e.level, e.status) for e in escs) == [(1, "fired"), (2, "pending")]
        assert [n.status for n in s.scalars(select(Notification))] == ["sent"]
        assert len(s.scalars(select(NotificationAttempt)).all()) == 1
    r = rcops(env, "notifications", "--json")
    assert json.loads(r.stdout)[0]["log"][0]["ok"] is True


@pytest.mark.sqlite_only
def test_rules_and_downgrade_sign_off_by_commands(settings, session_factory, tmp_path):
    inc_id = seeded(session_factory)
    env = env_for(settings)
    bad = tmp_path / "bad.yaml"
    bad.write_text("tiers:\n  - {code: I, rank: 1, name: 特别重大, any_of: [{risk_score_min: 0.5}]}\n"
                   "plans:\n  - tier: I\n    steps:\n      - {title: 报告, role: janitor}\n", encoding="utf-8")
    r = rcops(env, "rules", "check", str(bad))
    assert r.returncode == 1 and "未知角色 'janitor'" in r.stderr and "缺少时限" in r.stderr
    r = rcops(env, "incident", "confirm", str(inc_id), "--tier", "IV", "--reason", "未经证实", "--actor", "op1")
    assert r.returncode == 0, r.stderr
    d = json.loads(rcops(env, "incident", str(inc_id), "--json").stdout)
    assert d["tier"] == "II" and d["pending_downgrade"]["to_tier"] == "IV"
    r = rcops(env, "incident", "approve-downgrade", str(inc_id), "--actor", "admin1", "--reason", "同意")
    assert r.returncode == 0 and "当前等级 IV 级" in r.stdout, r.stderr
    r = rcops(env, "rules", "show", "--json")
    assert [t["tier"] for t in json.loads(r.stdout)] == ["I", "II", "III", "IV"]


@pytest.mark.sqlite_only
def test_an_action_without_an_actor_is_refused_and_rcops_actor_names_one(settings, session_factory):
    inc_id = seeded(session_factory)
    env = env_for(settings)
    r = rcops(env, "incident", "confirm", str(inc_id))
    assert r.returncode == 1 and "未指明操作人" in r.stderr and "--actor" in r.stderr
    with session_factory() as s:
        assert s.get(Incident, inc_id).state == "detected"  # nothing changed
    r = rcops(env_for(settings, RCOPS_ACTOR="op1"), "incident", "confirm", str(inc_id), "--json")
    assert r.returncode == 0, r.stderr
    with session_factory() as s:
        assert s.get(Incident, inc_id).state == "confirmed"


@pytest.mark.sqlite_only
def test_edit_report_from_a_gbk_file_says_so_in_chinese_and_changes_nothing(settings, session_factory, tmp_path):
    from rcops.store.models_disposal import AnalysisReport
    from rcops.triage import report as rp
    from rcops.triage import service

    inc_id = seeded(session_factory)
    with session_factory.begin() as s:
        service.resolve(s, service.start_disposal(s, service.confirm_tier(s, inc_id, "op1").id, "op1").id, "op1")
        rid = rp.draft_report(s, inc_id, "op1").id
        before = s.get(AnalysisReport, rid).content_html
    gbk = tmp_path / "report.html"
    gbk.write_bytes("<p>经验与改进：加强培训</p>".encode("gbk"))
    r = rcops(env_for(settings), "incident", "edit-report", str(rid), "--file", str(gbk), "--actor", "op1")
    said = "".join(r.stderr.split())  # the console wraps long lines at its width
    assert r.returncode == 1 and "不是UTF-8编码" in said and "可能是GBK" in said and "报告未修改" in said, r.stderr
    assert "codec" not in said and "Traceback" not in said
    with session_factory() as s:
        assert s.get(AnalysisReport, rid).content_html == before


@pytest.mark.sqlite_only
def test_edit_report_and_submit_with_a_stale_expect_version_are_refused(settings, session_factory, tmp_path):
    from rcops.store.models_disposal import AnalysisReport
    from rcops.triage import report as rp
    from rcops.triage import service

    inc_id = seeded(session_factory)
    with session_factory.begin() as s:
        service.resolve(s, service.start_disposal(s, service.confirm_tier(s, inc_id, "op1").id, "op1").id, "op1")
        rep = rp.draft_report(s, inc_id, "op1")
        rid, loaded = rep.id, rep.row_version
    page = tmp_path / "report.html"
    page.write_text("<p>经验与改进：加强培训</p>", encoding="utf-8")
    env = env_for(settings, RCOPS_ACTOR="op1")
    r = rcops(env, "incident", "edit-report", str(rid), "--file", str(page), "--expect-version", str(loaded), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["row_version"] == loaded + 1
    for args in (("edit-report", str(rid), "--file", str(page)), ("submit", str(rid))):
        r = rcops(env, "incident", *args, "--expect-version", str(loaded))
        assert r.returncode == 1 and f"报告已被他人修改（版本 {loaded} → {loaded + 1}）" in r.stderr, r.stderr
    with session_factory() as s:
        assert s.get(AnalysisReport, rid).status == "draft"
    assert rcops(env, "incident", "submit", str(rid), "--expect-version", str(loaded + 1)).returncode == 0
