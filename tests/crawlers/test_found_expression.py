"""Found in testing, now fixed: a mistyped NEAR distance silently becomes a search word instead of an error."""

from __future__ import annotations

import pytest

from rcops.crawlers.expression import ExpressionError, parse


@pytest.mark.parametrize("expression", ["征信 NEAR/-3 泄露", "征信 NEAR/abc 泄露", "征信 NEAR/3.5 泄露"])
def test_a_bad_near_distance_is_an_error(expression):
    with pytest.raises(ExpressionError, match="NEAR"):
        parse(expression)
