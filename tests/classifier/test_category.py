"""Risk category: the written seed set, keyword rules, the model, cross-validation."""

from __future__ import annotations

from collections import Counter

import pytest

from rcops.classifier.category import (
    CATEGORIES,
    OTHER,
    CategoryModel,
    categorize,
    cross_validate,
    rule_category,
    seed_examples,
)


@pytest.fixture(scope="module")
def cv() -> dict:
    return cross_validate()


def test_seed_set_has_at_least_40_written_examples_per_category() -> None:
    examples = seed_examples()
    counts = Counter(c for _, c in examples)
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 40, counts
    texts = [t for t, _ in examples]
    assert len(set(texts)) == len(texts)  # no copy-paste duplicates


def test_rules_pick_the_category_with_most_hits() -> None:
    assert rule_category("催收员半夜打电话威胁，还爆通讯录") == ("暴力催收", ["催收", "爆通讯录", "通讯录", "威胁", "半夜打电话"])
    assert rule_category("APP闪退，验证码收不到")[0] == "系统故障"
    assert rule_category("今年的油菜花开得特别好") == (None, [])


def test_cross_validation_model_and_rules_together_beat_each_alone(cv: dict) -> None:
    assert cv["n"] == len(seed_examples()) and cv["folds"] == 5
    assert cv["combined"]["macro_f1"] > cv["rules"]["macro_f1"]
    assert cv["combined"]["macro_f1"] >= cv["model"]["macro_f1"]
    assert cv["combined"]["macro_f1"] >= 0.8
    assert set(cv["combined"]["per_category_f1"]) == set(CATEGORIES)


def test_categorize_explains_with_keywords_or_probability() -> None:
    model = CategoryModel.fit()
    texts = [
        "村民接到冒充农商行客服的电话，被要求先交解冻金才能放款",
        "贷款合同里的年利率和网点说的不一样，问了三次都没人解释清楚，感觉被坑了",
        "今年的油菜花开得特别好，游客很多",
    ]
    fraud, unclear, benign = categorize(texts, model, [0.9, 0.9, 0.1])
    assert fraud.category == "非法集资/诈骗" and fraud.keywords == ["冒充", "解冻金"]
    assert "解冻金" in fraud.reason() and fraud.probability is not None
    assert unclear.category in CATEGORIES and unclear.probability is not None
    assert benign.category == OTHER
    # without a model the keyword rules alone decide
    assert [c.category for c in categorize(texts)] == ["非法集资/诈骗", OTHER, OTHER]
