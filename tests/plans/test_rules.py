import copy

import pytest
import yaml
from sqlalchemy import select

from rcops.plans.exceptions import PlanValidationError
from rcops.plans.schema import DEFAULT_RULES_FILE, load_rules_file, parse_rules
from rcops.plans.store_io import current_plan, current_rules, install_rules
from rcops.store.models import AuditEvent, ResponsePlan, Tier
from tests.triage.test_roster import seed_users


def default_doc():
    return yaml.safe_load(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))


def test_default_rules_have_four_tiers_each_with_a_plan():
    rules = load_rules_file()
    assert [t.code for t in rules.tiers] == ["I", "II", "III", "IV"]
    assert [t.name for t in rules.tiers] == ["特别重大", "重大", "较大", "一般"]
    for t in rules.tiers:
        plan = rules.plan(t.code)
        assert plan.steps and all(s.deadline_minutes > 0 for s in plan.steps)
    # tier I: phone report within 30 minutes, written flash report within an hour
    first = rules.plan("I").steps
    assert first[0].deadline_minutes == 30 and first[1].deadline_minutes == 60


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["plans"][0]["steps"][0].pop("deadline_minutes"), "缺少时限"),
        (lambda d: d["plans"][0]["steps"][0].update(role="janitor"), "未知角色 'janitor'"),
        (lambda d: d["plans"][0]["steps"][0].update(deadline_minutes=-5), "应为正整数"),
        (lambda d: d["tiers"][1].update(rank=1), "多个等级使用了同一 rank"),
        (lambda d: d["tiers"][0]["any_of"][0].update(risk_score_min=7), "0 到 1"),
        (lambda d: d["tiers"][0]["any_of"][0].update(moon_phase=3), "未知条件“moon_phase”"),
        (lambda d: d["plans"].pop(), "等级 IV：缺少预案"),
        (lambda d: d["plans"].append(copy.deepcopy(d["plans"][0])), "定义了多套预案"),
    ],
)
def test_invalid_rules_are_refused_with_a_clear_message(mutate, message):
    doc = default_doc()
    mutate(doc)
    with pytest.raises(PlanValidationError) as err:
        parse_rules(doc)
    assert message in str(err.value)


def test_broken_yaml_file_is_refused(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("tiers: [code: I\n  - ]]", encoding="utf-8")
    with pytest.raises(PlanValidationError, match="不是有效的 YAML"):
        load_rules_file(bad)
    with pytest.raises(PlanValidationError, match="找不到"):
        load_rules_file(tmp_path / "missing.yaml")


def test_installing_twice_changes_nothing_and_an_edit_makes_a_new_plan_version(session_factory):
    rules = load_rules_file()
    with session_factory.begin() as s:
        seed_users(s, {"admin": "admin", "admin2": "admin"})  # only ``system`` acts without accounts
        assert install_rules(s, rules, "admin") == {"tiers": 4, "plans": 4}
    with session_factory.begin() as s:
        assert install_rules(s, rules, "admin") == {"tiers": 0, "plans": 0}
        v1_id = current_plan(s, "II").id
    doc = default_doc()
    doc["plans"][1]["steps"][0]["deadline_minutes"] = 45
    with session_factory.begin() as s:
        assert install_rules(s, parse_rules(doc), "admin2") == {"tiers": 0, "plans": 1}
    with session_factory() as s:
        plans = s.scalars(select(ResponsePlan).where(ResponsePlan.tier_code == "II").order_by(ResponsePlan.version)).all()
        assert [(p.version, p.is_current) for p in plans] == [(1, False), (2, True)]
        assert plans[0].id == v1_id and plans[0].steps[0].deadline_minutes == 60  # old version intact
        assert plans[1].steps[0].deadline_minutes == 45
        assert current_rules(s).plan("II").steps[0].deadline_minutes == 45
        assert s.scalars(select(AuditEvent).where(AuditEvent.actor == "admin2")).one().action == "created"
        assert len(s.scalars(select(Tier)).all()) == 4


@pytest.mark.parametrize(
    "mutate, message",
    [
        # a tier-III group identical to a tier-II group
        (lambda d: d["tiers"][2]["any_of"].append(dict(d["tiers"][1]["any_of"][1])), "完全相同（规则重叠）"),
        # every mention meeting this tier-IV group (score ≥ 0.9, reach ≥ 20000) meets tier II's {0.8, 10000}
        (lambda d: d["tiers"][3]["any_of"].append({"risk_score_min": 0.9, "reach_min": 20000}), "永远不会生效"),
        # keywords: a subset of a higher tier's words
        (lambda d: d["tiers"][2]["any_of"].append({"risk_score_min": 0.6, "keywords_any": ["诈骗", "跑路"]}),
         "等级 III 规则组 5：凡满足它的信息也满足更高的等级 II 规则组 1"),
        (lambda d: d["plans"][0]["steps"][0].update(after_previous_minutes=10), "只能填一个"),
        (lambda d: d["plans"][0]["steps"][0].pop("deadline_minutes") and d["plans"][0]["steps"][0].update(
            after_previous_minutes=10), "第一步没有上一步"),
    ],
)
def test_overlapping_criteria_and_bad_relative_deadlines_are_refused(mutate, message):
    doc = default_doc()
    mutate(doc)
    with pytest.raises(PlanValidationError) as err:
        parse_rules(doc)
    assert message in str(err.value)


def test_a_looser_lower_tier_group_is_not_an_overlap():
    doc = default_doc()
    doc["tiers"][3]["any_of"].append({"risk_score_min": 0.5, "reach_min": 500})  # weaker than every higher group
    parse_rules(doc)


def test_step_deadline_relative_to_the_previous_step(session_factory):
    from datetime import timedelta

    from rcops.store.models import Incident, utcnow
    from rcops.triage.engine import apply_plan

    doc = default_doc()
    steps = doc["plans"][3]["steps"]  # tier IV
    steps.append({"title": "复核登记", "role": "analyst", "after_previous_minutes": 120})
    steps.append({"title": "回访", "role": "department", "after_previous_minutes": 60})
    rules = parse_rules(doc)
    assert [s.relative_to for s in rules.plan("IV").steps] == ["detection"] * 3 + ["previous"] * 2
    with session_factory.begin() as s:
        seed_users(s, {"admin": "admin"})
        install_rules(s, rules, "admin")
        assert current_rules(s).plan("IV") == rules.plan("IV")  # round trip through the store
        inc = Incident(title="t", tier_code="IV", suggested_tier_code="IV", detected_at=utcnow(),
                       last_mention_at=utcnow())
        s.add(inc)
        s.flush()
        apply_plan(s, inc, "IV")
        dues = [t.due_at - inc.detected_at for t in sorted(inc.tasks, key=lambda t: t.position)]
        # 1440, 2880, 4320 after detection; then 120 after the previous deadline, then 60 after that
        assert dues == [timedelta(minutes=m) for m in (1440, 2880, 4320, 4440, 4500)]
        install_rules(s, rules, "admin")  # unchanged: no new version
        assert current_plan(s, "IV").version == 1


def test_default_plans_carry_checklists_and_a_daily_followup_for_tiers_i_and_ii():
    rules = load_rules_file()
    daily = {t.code: [s.title for s in rules.plan(t.code).steps if s.daily] for t in rules.tiers}
    assert daily == {"I": ["续报：报送当日处置进展"], "II": ["续报：报送当日处置进展"], "III": [], "IV": []}
    tier_i = {s.title: s.checklist for s in rules.plan("I").steps}
    assert {"核实信息来源与首发时间", "通知法务"} <= set(tier_i["书面快报（初报）报送管理方"])
    assert any(item.startswith("截图留证") for item in tier_i["书面快报（初报）报送管理方"])
    assert tier_i["电话报告管理方分管负责人"] == ()  # a phone call: nothing to tick


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["plans"][0]["steps"][1].update(checklist="核实信息来源"), "checklist 应为检查事项的列表"),
        (lambda d: d["plans"][0]["steps"][1].update(checklist=["核实信息来源", ""]), "checklist 第 2 项应为非空文字"),
        (lambda d: d["plans"][0]["steps"][1].update(checklist=[{"item": "截图"}]), "checklist 第 1 项应为非空文字"),
        (lambda d: d["plans"][0]["steps"][1].update(checklist=["截图留证", "截图留证 "]), "第 2 项“截图留证”重复"),
        (lambda d: d["plans"][0]["steps"][1].update(checklist=["长" * 301]), "过长"),
        (lambda d: d["plans"][0]["steps"][1].update(daily="yes"), "daily 只能是 true 或 false"),
        (lambda d: d["plans"][0]["steps"][1].update(daily=True), "最多只能有一个每日步骤"),
        (lambda d: d["plans"][3]["steps"][1].update(daily=True, after_previous_minutes=60,
                                                    deadline_minutes=None), "不能用 after_previous_minutes"),
    ],
)
def test_bad_checklists_and_daily_steps_are_refused_in_chinese(mutate, message):
    doc = default_doc()
    mutate(doc)
    with pytest.raises(PlanValidationError) as err:
        parse_rules(doc)
    assert message in str(err.value)


def test_checklists_and_daily_steps_round_trip_through_the_store_and_version_the_plan(session_factory):
    from tests.triage.test_roster import seed_users

    rules = load_rules_file()
    with session_factory.begin() as s:
        seed_users(s, {"admin": "admin"})
        install_rules(s, rules, "admin")
        assert current_rules(s).plans == rules.plans
        step = next(st for st in current_plan(s, "I").steps if st.daily)
        assert step.title == "续报：报送当日处置进展" and len(step.checklist) == 3
    doc = default_doc()
    doc["plans"][2]["steps"][0]["checklist"] = ["核实信息来源"]  # tier III: only the checklist changes
    with session_factory.begin() as s:
        assert install_rules(s, parse_rules(doc), "admin") == {"tiers": 0, "plans": 1}
        assert current_plan(s, "III").version == 2 and current_plan(s, "III").steps[0].checklist == ["核实信息来源"]
