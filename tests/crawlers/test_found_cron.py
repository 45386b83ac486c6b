"""Found in testing: a cron expression that can never fire was accepted, and the source silently never crawled;
now it is refused when the source is added."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from rcops.crawlers.schedule import CronError, check_cron, cron_trigger


@pytest.mark.parametrize("expression", ["30 8 31 2 *", "0 0 30 2 *", "0 9 31 4,6,9,11 *"])
def test_a_cron_that_never_fires_is_refused(expression):
    assert cron_trigger(expression, "Asia/Shanghai").get_next_fire_time(None, datetime.now(timezone.utc)) is None
    with pytest.raises(CronError, match="永远不会触发"):
        check_cron(expression)
    assert check_cron("30 8 28 2 *") == "30 8 28 2 *"  # a real date still passes
