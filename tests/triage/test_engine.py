from datetime import timedelta

import pytest
from sqlalchemy import select

from rcops.plans.schema import load_rules_file
from rcops.plans.store_io import install_rules
from rcops.store.access import PermissionDenied
from rcops.store.models import AuditEvent, GradeLabel, Incident, Mention, Source, Task, utcnow
from rcops.triage import service
from rcops.triage.engine import check_deadlines, process_pending
from rcops.triage.exceptions import ConcurrentUpdate, IllegalTransition, InvalidAction


class WordScorer:
    """A transparent stand-in for the trained model: risky words give a high score."""

    version = "test-words"
    RISKY = ("跑路", "催收", "诈骗", "泄露", "逾期", "投诉")

    def score(self, texts):
        return [0.9 if any(w in t for w in self.RISKY) else 0.1 for t in texts]


STORY = "某村镇银行工作人员涉嫌泄露信用户个人信息，多名农户接到诈骗电话，当地已立案调查，银行称正在配合警方处理此事。"


#: the accounts the triage tests act as (a database without accounts lets only ``system`` act)
ACTORS = {"admin": "admin", "admin1": "admin", "op1": "operator", "op2": "operator", "lead": "operator",
          "张三": "operator", "李四": "operator", "王五": "operator", "赵六": "operator"}


@pytest.fixture
def db(session_factory):
    from .test_roster import seed_users

    with session_factory.begin() as s:
        seed_users(s, ACTORS)
        install_rules(s, load_rules_file(), "admin")
        s.add(Source(key="news", name="县融媒体", kind="rss", url="http://127.0.0.1/feed", media_level="municipal"))
    return session_factory


def add_mention(s, n, title, text, reach=0, when=None):
    src = s.scalars(select(Source)).first()
    m = Mention(source_id=src.id, url=f"http://127.0.0.1/{n}", canonical_url=f"http://127.0.0.1/{n}",
                content_hash=f"h{n}", title=title, text=text, reach=reach, crawled_at=when or utcnow())
    s.add(m)
    s.flush()
    return m


def test_risky_mention_opens_a_graded_incident_with_its_plan_tasks(db):
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        add_mention(s, 2, "县里举办信用村授牌仪式", "今天县里为十个信用村授牌，农户可凭信用获得贷款。")
        r = process_pending(s, WordScorer())
        assert (r.graded, r.incidents_created) == (2, 1)
    with db() as s:
        inc = s.scalars(select(Incident)).one()
        assert inc.state == "detected" and inc.tier_code == "II"  # 泄露/诈骗 + score ≥ 0.6
        fired = {c["condition"]: c["value"] for c in inc.tier_explanation["conditions"]}
        assert fired["risk_score_min"] == 0.9
        assert {"诈骗", "立案", "泄露"} <= set(fired["keywords_any"])
        tasks = s.scalars(select(Task).where(Task.incident_id == inc.id).order_by(Task.position)).all()
        assert [t.role for t in tasks][:2] == ["duty_officer", "analyst"]
        assert tasks[0].due_at == inc.detected_at + timedelta(minutes=60)
        benign = s.scalars(select(Mention).where(Mention.content_hash == "h2")).one()
        assert benign.tier_code is None and benign.incident_id is None and benign.risk_score == pytest.approx(0.1)
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "incident"))]
        assert actions == ["detected", "plan_applied"]


def test_repost_attaches_to_the_incident_and_refreshes_metrics(db):
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY, reach=10)
        process_pending(s, WordScorer())
    with db.begin() as s:
        add_mention(s, 2, "转发：村镇银行泄露客户信息", "转发微博 " + STORY + " 希望严查！", reach=30)
        r = process_pending(s, WordScorer())
        assert (r.incidents_created, r.attached) == (0, 1)
    with db() as s:
        inc = s.scalars(select(Incident)).one()
        assert inc.mention_count == 2 and inc.total_reach == 40
        assert len(s.scalars(select(Mention).where(Mention.incident_id == inc.id)).all()) == 2


def test_growing_incident_is_regraded_upward_and_gets_the_stronger_plan(db):
    with db.begin() as s:
        add_mention(s, 1, "农户投诉贷款逾期被催收", "有农户投诉说贷款逾期后被反复催收电话骚扰，影响生活。")
        process_pending(s, WordScorer())
        inc = s.scalars(select(Incident)).one()
        assert inc.tier_code == "III"
        n_tasks = len(inc.tasks)
    with db.begin() as s:
        add_mention(s, 2, "农户投诉贷款逾期被催收 转载", "有农户投诉说贷款逾期后被反复催收电话骚扰，影响生活。", reach=20000)
        r = process_pending(s, WordScorer())
        assert r.incidents_regraded == 1
    with db() as s:
        inc = s.scalars(select(Incident)).one()
        assert inc.tier_code == "II" and inc.tier_explanation["tier"] == "II"
        tasks = s.scalars(select(Task).where(Task.incident_id == inc.id)).all()
        assert len(tasks) > n_tasks and any(t.title == "对外回应或约谈涉事机构" for t in tasks)
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "regraded")).one().detail["from_tier"] == "III"


def test_operator_confirms_corrects_and_carries_the_incident_through(db):
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        process_pending(s, WordScorer())
        inc_id = s.scalars(select(Incident.id)).one()
    with db.begin() as s:
        with pytest.raises(InvalidAction, match="理由"):
            service.confirm_tier(s, inc_id, "op1", tier_code="I")
    with db.begin() as s:
        inc = service.confirm_tier(s, inc_id, "op1", tier_code="I", reason="涉及征信数据，从严")
        assert inc.state == "confirmed" and inc.tier_code == "I" and inc.suggested_tier_code == "II"
        assert any(t.title == "电话报告管理方分管负责人" for t in inc.tasks)
    with db.begin() as s:
        service.start_disposal(s, inc_id, "op1")
        task = s.scalars(select(Task).where(Task.incident_id == inc_id).order_by(Task.position)).first()
        service.complete_task(s, task.id, "op1", note="已电话报告")
        service.resolve(s, inc_id, "op1")
    with db.begin() as s:
        with pytest.raises(IllegalTransition, match="已处置"):
            service.dismiss(s, inc_id, "op1", reason="误报")
    with db() as s:
        inc = s.get(Incident, inc_id)
        assert inc.state == "resolved"
        label = s.scalars(select(GradeLabel)).one()
        assert (label.kind, label.suggested_tier_code, label.tier_code, label.actor) == ("correct", "II", "I", "op1")
        trail = [e.action for e in service.incident_audit(s, inc_id)]
        assert trail.index("state:confirmed") < trail.index("state:disposing") < trail.index("state:resolved")
        assert "completed" in trail


def test_dismiss_cancels_tasks_without_deleting_them_and_reopen_restores_them(db):
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        process_pending(s, WordScorer())
        inc_id = s.scalars(select(Incident.id)).one()
    with db.begin() as s:
        service.dismiss(s, inc_id, "op1", reason="旧闻转载，已处理完毕")
    with db() as s:
        statuses = {t.status for t in s.scalars(select(Task).where(Task.incident_id == inc_id))}
        assert statuses == {"cancelled"}
    with db.begin() as s:
        service.reopen(s, inc_id, "op2", reason="出现新的投诉")
    with db() as s:
        inc = s.get(Incident, inc_id)
        assert inc.state == "detected" and {t.status for t in inc.tasks} == {"open"}


def test_stale_version_is_refused_and_nothing_is_written(db):
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        process_pending(s, WordScorer())
        inc = s.scalars(select(Incident)).one()
        seen = inc.row_version
    with db.begin() as s:
        service.confirm_tier(s, inc.id, "op1", expected_version=seen)
    with pytest.raises(ConcurrentUpdate, match="已被他人修改"):
        with db.begin() as s:
            service.dismiss(s, inc.id, "op2", reason="误报", expected_version=seen)
    with db() as s:
        assert s.get(Incident, inc.id).state == "confirmed"


def test_overdue_tasks_are_flagged_once(db):
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY, when=utcnow() - timedelta(hours=5))
        process_pending(s, WordScorer())
    with db.begin() as s:
        assert check_deadlines(s) == 2  # 60 min and 240 min steps of tier II
    with db.begin() as s:
        assert check_deadlines(s) == 0
    with db() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "overdue")).all()
        assert len(events) == 2 and events[0].detail["on_breach"]


def test_lowering_a_tier_waits_for_an_administrators_sign_off(db):
    from rcops.triage.report import tier_history

    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY)
        process_pending(s, WordScorer())
        inc_id = s.scalars(select(Incident.id)).one()
        n_tasks = len(s.get(Incident, inc_id).tasks)
    with db.begin() as s:
        inc = service.confirm_tier(s, inc_id, "op1", tier_code="IV", reason="仅个别网友转述，未经证实")
        assert inc.tier_code == "II" and inc.pending_tier_code == "IV" and inc.state == "confirmed"
    with db.begin() as s:
        with pytest.raises(PermissionDenied, match="无权修改分级与预案"):  # operators never approve
            service.decide_downgrade(s, inc_id, "op1", approve=True)
        with pytest.raises(InvalidAction, match="系统不能代为审批"):
            service.decide_downgrade(s, inc_id, "system", approve=True)
    with db.begin() as s:
        service.decide_downgrade(s, inc_id, "admin1", approve=False, reason="已有立案信息，维持")
        inc = s.get(Incident, inc_id)
        assert inc.tier_code == "II" and inc.pending_tier_code is None
        with pytest.raises(InvalidAction, match="没有待审批"):
            service.decide_downgrade(s, inc_id, "admin1", approve=True)
    with db.begin() as s:
        service.confirm_tier(s, inc_id, "admin", tier_code="III", reason="经核实影响范围小")
        with pytest.raises(InvalidAction, match="不能自己审批"):  # nor does the administrator who asked
            service.decide_downgrade(s, inc_id, "admin", approve=True)
        inc = service.decide_downgrade(s, inc_id, "admin1", approve=True, reason="同意")
        assert inc.tier_code == "III" and len(inc.tasks) == n_tasks  # lowering keeps the tasks
    with db() as s:
        changes = [h["change"] for h in tier_history(s, inc_id)]
        assert changes == ["初定 II 级", "申请降为 IV 级（待管理方审批）", "驳回降为 IV 级，维持 II 级",
                           "申请降为 III 级（待管理方审批）", "II → III 级"]
        label = s.scalars(select(GradeLabel).where(GradeLabel.incident_id == inc_id)).all()
        assert [(gl.kind, gl.tier_code, gl.actor) for gl in label] == [("correct", "III", "admin")]
