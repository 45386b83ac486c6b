"""Found in testing, now fixed: the category explanation says "未命中关键词" for a text that does contain a category keyword."""

from __future__ import annotations

import pytest

from rcops.classifier.category import categorize, rule_hits

TEXT = "某县农商行员工批量倒卖全村农户的征信信息，涉及上万条"


class LeaningOther:
    """A model as the trained one behaved on this text (rcops grade --json: 其他, probability 0.50)."""

    def proba(self, texts):  # type: ignore[no-untyped-def]
        return [{"其他": 0.501, "信息泄露/隐私": 0.30, "非法集资/诈骗": 0.10, "工作人员违规": 0.099} for _ in texts]


def test_the_explanation_does_not_deny_a_keyword_that_is_in_the_text():
    assert rule_hits(TEXT) == {"信息泄露/隐私": ["倒卖"]}
    result = categorize([TEXT], model=LeaningOther(), risk_scores=[0.32])[0]
    assert "未命中关键词" not in result.reason(), result.reason()
    assert "另命中“信息泄露/隐私”的关键词 倒卖" in result.reason(), result.reason()
