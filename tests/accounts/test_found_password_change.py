"""Found in testing, now fixed: the 账户 page lets anyone at a signed-in screen guess the old password without limit, unrecorded."""

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
    for i in range(n):  # one transaction per attempt, rolled back on the error
        expected = "原密码不正确" if i < accounts.MAX_FAILURES else "账户已锁定"
        with pytest.raises(accounts.AccountError, match=expected):
            with db.begin() as s:
                accounts.change_password(s, "张三", f"guess-{i}-xxxx", "zhangsan-new-1")


def test_wrong_old_passwords_count_towards_the_lockout(db):
    wrong_tries(db, accounts.MAX_FAILURES + 5)
    with pytest.raises(accounts.AccountError, match="账户已锁定"):  # the right one no longer helps
        with db.begin() as s:
            accounts.change_password(s, "张三", "zhangsan-pass", "zhangsan-new-1")
    with db.begin() as s:  # the same lockout as sign-in's
        result = accounts.sign_in(s, "张三", "zhangsan-pass")
    assert not result.ok and "锁定" in (result.error or "")
    with db() as s:
        acts = list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == "张三")))
    assert "locked" in acts and acts.count("password_change_refused") >= 5, acts


def test_console_records_a_wrong_old_password_and_still_changes_a_right_one(db):
    with db.begin() as s:  # the console's form: the refusal is returned and commits with the transaction
        refusal = accounts.attempt_password_change(s, "张三", "guess-xxxx", "zhangsan-new-1")
    assert refusal is not None and "原密码不正确" in refusal and f"再错 {accounts.MAX_FAILURES - 1} 次" in refusal
    with db.begin() as s:
        assert accounts.attempt_password_change(s, "张三", "zhangsan-pass", "zhangsan-new-1") is None
    with db.begin() as s:
        assert accounts.sign_in(s, "张三", "zhangsan-new-1").ok
    with db() as s:
        acts = list(s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "张三")))
    assert acts.count("password_change_failed") == 1 and "password_changed" in acts, acts


def test_wrong_old_passwords_are_audited(db):
    wrong_tries(db, 3)
    with db() as s:
        acts = list(s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "张三")))
    assert acts.count("password_change_failed") == 3, acts
