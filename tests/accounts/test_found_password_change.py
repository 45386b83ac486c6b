"""Found in testing: the 账户 page lets anyone at a signed-in screen guess the old password without limit, unrecorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rcops.operations import accounts
from rcops.store.models import AuditEvent


@pytest.fixture
def db(session_factory):
    with session_factory.begin() as s:
        accounts.create_user(s, "张三", "operator", "zhangsan-pass")
    return session_factory


def wrong_tries(db, n: int) -> None:
    for i in range(n):  # as the console does: one transaction per attempt, rolled back on the error
        with pytest.raises(accounts.AccountError, match="原密码不正确"):
            with db.begin() as s:
                accounts.change_password(s, "张三", f"guess-{i}-xxxx", "zhangsan-new-1")


@pytest.mark.xfail(strict=True, reason="修改密码时原密码可无限次试错：不计入连续错误、不锁定（登录却是 5 次锁定 15 分钟）")
def test_wrong_old_passwords_count_towards_the_lockout(db):
    wrong_tries(db, accounts.MAX_FAILURES + 5)
    with db.begin() as s:
        with pytest.raises(accounts.AccountError):
            accounts.change_password(s, "张三", "zhangsan-pass", "zhangsan-new-1")


@pytest.mark.xfail(strict=True, reason="修改密码时原密码错误不写审计日志（登录失败会记 login_failed）")
def test_wrong_old_passwords_are_audited(db):
    wrong_tries(db, 3)
    with db() as s:
        acts = list(s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "张三")))
    assert len([a for a in acts if "fail" in a or "refused" in a]) >= 3, acts
