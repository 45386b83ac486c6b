"""Found in testing: a mistyped NEAR distance silently becomes a search word instead of an error."""

from __future__ import annotations

import pytest

from rcops.crawlers.expression import ExpressionError, parse


@pytest.mark.xfail(strict=True, reason="“征信 NEAR/-3 泄露”“NEAR/abc”“NEAR/3.5”被当成普通词 near/-3 与前后 AND，"
                                       "方案从此几乎不匹配任何信息；NEAR/0、NEAR/ 却会报错，应同样指出距离无效")
@pytest.mark.parametrize("expression", ["征信 NEAR/-3 泄露", "征信 NEAR/abc 泄露", "征信 NEAR/3.5 泄露"])
def test_a_bad_near_distance_is_an_error(expression):
    with pytest.raises(ExpressionError, match="NEAR"):
        parse(expression)
