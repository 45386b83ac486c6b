"""The scheme expression language: meaning, error positions, and hypothesis properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rcops.crawlers.expression import And, ExpressionError, Near, Not, Or, Term, parse
from rcops.crawlers.schemes import match_scheme
from rcops.crawlers.sources import validate_scheme
from rcops.crawlers.exceptions import SourceConfigError

TEXT = "河北某农信社出现挤兑传闻，多名储户反映遭遇暴力 催收，已向银保监投诉。"


@pytest.mark.parametrize(
    ("expression", "matches"),
    [
        ("农信社", True),
        ("农商行", False),
        ("农信社 AND 挤兑", True),
        ("农信社 挤兑", True),  # side by side: AND
        ("农商行 OR 挤兑", True),
        ("农信社 AND NOT 挤兑", False),
        ("农信社 and not 招聘", True),  # keywords in any case
        ('"暴力 催收"', True),
        ('"暴力  催收"', True),  # white space runs are one space
        ("“暴力催收”", False),
        ("(农商行 OR 农信社) AND (诈骗 OR 挤兑)", True),
        ("（农商行 OR 农信社） AND 诈骗", False),  # full-width parentheses
        ("储户 NEAR/10 暴力", True),
        ("挤兑 NEAR/3 投诉", False),
        ("投诉 NEAR/30 挤兑", True),  # either order
        ("NOT 招聘 AND 储户", True),
    ],
)
def test_meaning(expression: str, matches: bool) -> None:
    assert parse(expression).matches(TEXT) is matches


def test_near_counts_the_characters_between_the_terms() -> None:
    near = parse("逾期 NEAR/5 投诉")
    assert near.matches("逾期12345投诉")
    assert not near.matches("逾期123456投诉")
    assert near.matches("投诉12345逾期")


def test_match_lists_the_positive_terms_found() -> None:
    assert parse("(农信社 OR 农商行) AND 挤兑 AND NOT 招聘").match(TEXT) == ["农信社", "挤兑"]
    assert parse("农商行").match(TEXT) is None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("(农信社 OR 农商行", "第 12 个字符处：缺少右括号（与第 1 个字符处的左括号配对）"),
        ("农信社 OR 农商行)", "第 11 个字符处：多余的右括号"),
        ("农信社 AND", "第 8 个字符处：AND 后缺少词语"),
        ("OR 农信社", "第 1 个字符处：OR 前缺少词语"),
        ("农信社 AND OR 挤兑", "第 9 个字符处：AND 后缺少词语"),
        ('农信社 AND "挤兑', "第 9 个字符处：引号未闭合"),
        ('农信社 ""', "第 5 个字符处：引号内为空"),
        ("农信社 ()", "第 6 个字符处：括号内为空"),
        ("逾期 NEAR 投诉", "第 4 个字符处：NEAR 后需写距离"),
        ("逾期 NEAR/0 投诉", "第 4 个字符处：NEAR 的距离须在 1 到 1000"),
        ("(逾期 OR 欠款) NEAR/5 投诉", "第 1 个字符处：NEAR/5 两侧只能是词语或短语"),
        ("NOT 招聘", "第 1 个字符处：表达式只含 NOT 条件"),
        ("", "第 1 个字符处：表达式为空"),
        ("   ", "第 1 个字符处：表达式为空"),
    ],
)
def test_errors_point_at_the_position(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(expression)
    assert str(info.value).startswith(message)


def test_scheme_with_an_expression_needs_no_subject_words_and_must_match_it() -> None:
    scheme = validate_scheme({"name": "表达式方案", "expression": "农信社 NEAR/20 挤兑", "exclusion_words": ["招聘"]}, 0)
    assert scheme["subject_words"] == [] and scheme["expression"] == "农信社 NEAR/20 挤兑"
    assert match_scheme(scheme, TEXT.casefold()) == {"subject": [], "event": [], "region": [], "expression": ["农信社", "挤兑"]}
    assert match_scheme(scheme, "农信社招聘：挤兑演练".casefold()) is None  # exclusion words still apply
    both = {**scheme, "subject_words": ["农商行"]}
    assert match_scheme(both, TEXT.casefold()) is None  # word groups and expression must both match


def test_an_invalid_scheme_expression_is_refused_with_its_position() -> None:
    with pytest.raises(SourceConfigError, match=r"监测方案第 1 项（name=坏方案） 字段 expression：第 5 个字符处：缺少右括号"):
        validate_scheme({"name": "坏方案", "subject_words": ["农信社"], "expression": "(农信社"}, 0)
    with pytest.raises(SourceConfigError, match="subject_words：至少需要一个词"):
        validate_scheme({"name": "空方案"}, 0)


# --------------------------------------------------------------------------- properties

WORDS = st.sampled_from(["农信社", "农商行", "挤兑", "催收", "逾期", "投诉", "招聘", "abc", "信用村"])
ALPHABET = st.sampled_from(list("农信社挤兑催收逾期投诉 ()（）\"“”ANDORTEW/0123456789") + ["AND", "OR", "NOT", "NEAR/5", "NEAR"])


def trees(depth: int = 3) -> st.SearchStrategy:
    term = st.builds(Term, WORDS, st.booleans())
    near = st.builds(Near, term, term, st.integers(1, 50))
    leaf = st.one_of(term, near)
    return st.recursive(
        leaf,
        lambda kids: st.one_of(
            st.builds(Not, kids),
            st.builds(lambda c: And(tuple(c)), st.lists(kids, min_size=2, max_size=3)),
            st.builds(lambda c: Or(tuple(c)), st.lists(kids, min_size=2, max_size=3)),
        ),
        max_leaves=8,
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_any_text_either_parses_or_gives_a_positioned_error(text: str) -> None:
    try:
        expression = parse(text)
    except ExpressionError as exc:
        assert 1 <= exc.position <= len(text) + 1
        assert re.match(r"第 \d+ 个字符处：\S", str(exc))
    else:
        # what parses has a canonical form that parses to the same canonical form
        assert str(parse(str(expression))) == str(expression)
        expression.matches(text)


@settings(max_examples=400)
@given(st.lists(ALPHABET, max_size=12).map(" ".join))
def test_operator_soup_never_crashes(text: str) -> None:
    try:
        parse(text)
    except ExpressionError as exc:
        assert 1 <= exc.position <= len(text) + 1


@settings(max_examples=300)
@given(trees(), st.text(alphabet=st.sampled_from(list("农信社商行挤兑催收逾期投诉招聘abc信用村 ，。")), max_size=60))
def test_canonical_form_round_trips_and_keeps_the_meaning(tree, text: str) -> None:
    canonical = str(tree)
    try:
        parsed = parse(canonical)
    except ExpressionError as exc:
        # the only refusal of a well-formed tree: it matches the empty text (only NOT conditions)
        assert "只含 NOT" in str(exc)
        return
    assert str(parse(str(parsed))) == str(parsed)
    assert parsed.matches(text) == parse(str(parsed)).matches(text)


@settings(max_examples=300)
@given(trees(), st.sampled_from(["(", ")", "AND", "OR", "NOT", '"', "NEAR/3"]), st.booleans())
def test_damaged_expressions_are_never_silently_accepted(tree, damage: str, at_end: bool) -> None:
    canonical = str(tree)
    try:
        parse(canonical)
    except ExpressionError:
        assume(False)
    broken = f"{canonical} {damage}" if at_end else f"{damage} {canonical}"
    if damage == "NOT" and not at_end:
        return  # "NOT <expression>" is a valid expression
    with pytest.raises(ExpressionError):
        parse(broken)
