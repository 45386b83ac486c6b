"""The risk category in the tier criteria (``categories_any``), on incidents, and
operators' category corrections as labels for the category model."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from rcops.classifier.labels import category_examples, operator_examples
from rcops.classifier.model import RiskModel
from rcops.classifier.taxonomy import dominant_category
from rcops.classifier.tiering import Signals, assign_tier, explain_text
from rcops.classifier.training import train_version
from rcops.operations.accounts import create_user
from rcops.plans.exceptions import PlanValidationError
from rcops.plans.schema import CONDITIONS, load_rules_file, parse_rules
from rcops.plans.store_io import install_rules
from rcops.store.models import AuditEvent, GradeLabel, Incident, Mention, Source, Task
from rcops.store.settings import Settings
from rcops.triage import service
from rcops.triage.engine import process_pending
from rcops.triage.exceptions import InvalidAction
from tests.classifier.test_labels import add_mention

LEAK_TITLE = "县农商行被曝泄露上万农户征信信息"
LEAK_TEXT = "有村民反映，县农商行系统里上万农户的个人信息和征信记录被倒卖，接到大量推销电话和骚扰电话。"
FRAUD_TITLE = "村民被冒充农商行的人骗走解冻金"
FRAUD_TEXT = "多名村民接到冒充农商行客服的电话，被要求先交解冻金和保证金才能放款，交钱后对方失联，涉嫌诈骗。"
ODD_TITLE = "合作社仓库门口的萝卜摊又被挪走了"
ODD_TEXT = "合作社仓库门口的萝卜摊第三次被挪到路对面，摊主找了两回都没有下文，大家议论纷纷。"


# ----------------------------------------------------------------- rules, without a database


def test_categories_any_is_a_validated_condition_with_a_chinese_label() -> None:
    assert CONDITIONS["categories_any"] == ("风险类别", "categories")
    doc = {"tiers": [{"code": "I", "rank": 1, "name": "特别重大", "any_of": [{"categories_any": ["暴力催收", "打架"]}]}],
           "plans": [{"tier": "I", "steps": [{"title": "报告", "role": "duty_officer", "deadline_minutes": 30}]}]}
    with pytest.raises(PlanValidationError, match="categories_any 只能包含"):
        parse_rules(doc)
    doc["tiers"][0]["any_of"] = [{"categories_any": []}]
    with pytest.raises(PlanValidationError, match="categories_any 不能为空，应列出至少一项"):
        parse_rules(doc)
    doc["tiers"][0]["any_of"] = [{"categories_any": ["暴力催收"], "risk_score_min": 0.5}]
    assert parse_rules(doc).tiers[0].any_of == ({"categories_any": ["暴力催收"], "risk_score_min": 0.5},)


def test_default_criteria_make_grave_categories_grave_with_a_modest_score() -> None:
    tiers = load_rules_file().tiers
    modest = 0.55  # below every keyword rule group's 0.6
    assert assign_tier(Signals(risk_score=modest, text="某事"), tiers).tier_code is None
    fraud = assign_tier(Signals(risk_score=modest, text="某事", category="非法集资/诈骗"), tiers)
    assert fraud.tier_code == "II"
    assert {"condition": "categories_any", "label": "风险类别", "value": ["非法集资/诈骗"],
            "threshold": ["信息泄露/隐私", "非法集资/诈骗", "暴力催收"]} in fraud.explanation["conditions"]
    assert "风险类别命中：非法集资/诈骗" in explain_text(fraud.explanation)
    # a leak of credit data is grave on its own: Ⅰ with the same modest score
    leak = assign_tier(Signals(risk_score=modest, text=LEAK_TITLE + LEAK_TEXT, category="信息泄露/隐私"), tiers)
    assert leak.tier_code == "I"
    assert "风险类别命中：信息泄露/隐私" in explain_text(leak.explanation)
    assert "关键词命中：征信" in explain_text(leak.explanation)
    # a category only raises: a mild category never lowers what the other criteria reach
    for category in (None, "其他", "政策误解"):
        assert assign_tier(Signals(risk_score=0.65, text="平台跑路了", category=category), tiers).tier_code == "II"
        assert assign_tier(Signals(risk_score=modest, text="某事", category=category), tiers).tier_code is None


def test_incident_category_is_the_most_frequent_risky_one() -> None:
    assert dominant_category(["其他", "暴力催收", "暴力催收", "信息泄露/隐私"]) == "暴力催收"
    assert dominant_category(["其他", "其他", "系统故障"]) == "系统故障"  # 其他 is no category to win with
    assert dominant_category(["暴力催收", "信息泄露/隐私"]) == "信息泄露/隐私"  # a tie goes to the graver
    assert dominant_category(["其他", None]) == "其他"
    assert dominant_category([None]) is None


# ----------------------------------------------------------------- with the store


class ForcedModel(RiskModel):
    """The real seed model (category model included) with one forced risk score."""

    def __init__(self, model: RiskModel, forced: float) -> None:
        super().__init__(model.pipeline, model.version, model.metadata, model.extras)
        self.forced = forced

    def score(self, texts):  # type: ignore[no-untyped-def]
        return [self.forced for _ in texts]


@pytest.fixture
def store(session_factory):  # type: ignore[no-untyped-def]
    with session_factory.begin() as s:
        create_user(s, "admin", "admin", "admin-password-1")
        create_user(s, "张三", "operator", "operator-password-1")
    with session_factory.begin() as s:
        install_rules(s, load_rules_file(), "admin")
        s.add(Source(key="news", name="县融媒体", kind="rss", url="http://127.0.0.1/feed", media_level="municipal"))
    return session_factory


def test_grading_passes_the_category_into_the_tier_and_onto_the_incident(store, seed_trained) -> None:  # type: ignore[no-untyped-def]
    _, model, _ = seed_trained
    with store.begin() as s:
        add_mention(s, 1, LEAK_TITLE, LEAK_TEXT)
        add_mention(s, 2, FRAUD_TITLE, FRAUD_TEXT)
        process_pending(s, ForcedModel(model, 0.55))
    with store() as s:
        leak, fraud = s.scalars(select(Mention).order_by(Mention.id)).all()
        assert (leak.category, leak.tier_code) == ("信息泄露/隐私", "I")
        assert (fraud.category, fraud.tier_code) == ("非法集资/诈骗", "II")
        used = {c["condition"]: c["value"] for c in leak.grade_explanation["conditions"]}
        assert used["categories_any"] == ["信息泄露/隐私"]
        incidents = s.scalars(select(Incident).order_by(Incident.id)).all()
        assert [(i.tier_code, i.category) for i in incidents] == [("I", "信息泄露/隐私"), ("II", "非法集资/诈骗")]
        assert incidents[0].category_corrected_by is None


def test_category_correction_raises_never_lowers_and_teaches_the_category_model(  # type: ignore[no-untyped-def]
    store, seed_trained
) -> None:
    settings, model, _ = seed_trained
    with store.begin() as s:
        add_mention(s, 1, ODD_TITLE, ODD_TEXT)
        process_pending(s, ForcedModel(model, 0.65))  # Ⅳ on the score alone
    with store() as s:
        inc = s.scalars(select(Incident)).one()
        incident_id = inc.id
        assert (inc.tier_code, inc.category) == ("IV", "其他")
    with store.begin() as s, pytest.raises(InvalidAction, match="未知的风险类别"):
        service.correct_category(s, incident_id, actor="张三", category="打架斗殴")

    with store.begin() as s:  # a grave category raises the tier by the criteria, and its plan applies
        inc = service.correct_category(s, incident_id, actor="张三", category="暴力催收", reason="村民反映被上门催收")
        assert (inc.tier_code, inc.category, inc.category_corrected_by) == ("II", "暴力催收", "张三")
        assert inc.tier_explanation["conditions"][1]["condition"] == "categories_any"
    with store.begin() as s:  # a mild one never lowers it
        inc = service.correct_category(s, incident_id, actor="张三", category="政策误解")
        assert (inc.tier_code, inc.category) == ("II", "政策误解")
    with store.begin() as s:  # a later mention of the story no longer changes a corrected category
        add_mention(s, 2, ODD_TITLE, ODD_TEXT + "今天又挪了一次。")
        process_pending(s, ForcedModel(model, 0.65))
    with store() as s:
        inc = s.get(Incident, incident_id)
        assert inc.mention_count == 2 and inc.category == "政策误解"
        assert s.scalars(select(Task).where(Task.incident_id == incident_id)).all()
        labels = s.scalars(select(GradeLabel).order_by(GradeLabel.id)).all()
        assert [(g.kind, g.category, g.actor) for g in labels] == [("category", "暴力催收", "张三"),
                                                                    ("category", "政策误解", "张三")]
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "incident"))]
        assert actions.count("category_corrected") == 2 and "regraded" in actions
        # category labels are no risk labels, and the latest one of the incident counts
        assert operator_examples(s) == []
        examples = category_examples(s)
    assert [(e.category, e.actor, e.incident_id) for e in examples] == [("政策误解", "张三", incident_id)] * 2
    assert examples[0].text == f"{ODD_TITLE}。{ODD_TEXT}"

    result = train_version(settings, category_examples=examples * 10, make_current=False)
    before, after = model.metadata["category"], result.model.metadata["category"]
    assert after["sources"] == {"seed": before["sources"]["seed"], "operator_labels": 20}
    assert after["sha256"] != before["sha256"] and len(after["sha256"]) == 64
    assert after["examples"] == before["examples"] + 20
    assert result.model.metadata["operator_category_labels"]["count"] == 20
    assert result.model.metadata["data"]["sha256"] == model.metadata["data"]["sha256"]  # the risk set is unchanged
    odd = f"{ODD_TITLE}。{ODD_TEXT}"
    assert model.category.predict([odd]) != ["政策误解"]
    assert result.model.category.predict([odd]) == ["政策误解"]
    assert Path(result.path).is_file()
