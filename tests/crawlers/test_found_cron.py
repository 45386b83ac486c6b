"""Found in testing: a cron expression that can never fire is accepted, and the source is silently never crawled."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from rcops.crawlers.schedule import CronError, check_cron, cron_trigger


@pytest.mark.xfail(strict=True, reason="cron “30 8 31 2 *”（2 月 31 日）永不触发，却被接受；信息源从此不会被抓取，且无任何提示")
@pytest.mark.parametrize("expression", ["30 8 31 2 *", "0 0 30 2 *", "0 9 31 4,6,9,11 *"])
def test_a_cron_that_never_fires_is_refused(expression):
    assert cron_trigger(expression, "Asia/Shanghai").get_next_fire_time(None, datetime.now(timezone.utc)) is None
    with pytest.raises(CronError):
        check_cron(expression)
