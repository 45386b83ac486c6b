"""Accounts over the real store: hashing, lockout, session expiry, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rcops.operations import accounts
from rcops.store.access import PermissionDenied
from rcops.store.models import AuditEvent, utcnow
from rcops.store.models_accounts import User


def _make(session_factory, name="zhang", role="operator", password="correct-horse"):  # type: ignore[no-untyped-def]
    with session_factory.begin() as s:
        accounts.create_user(s, name, role, password)


def test_password_is_stored_as_argon2_hash_and_creation_is_audited(session_factory) -> None:
    _make(session_factory)
    with session_factory() as s:
        user = s.scalars(select(User)).one()
        assert user.password_hash.startswith("$argon2id$") and "correct-horse" not in user.password_hash
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user")).one()
        assert (event.actor, event.action, event.detail["role"]) == ("system", "created", "operator")


def test_the_product_hashes_with_argon2id_at_full_cost() -> None:
    """Tests swap in a cheap hasher (tests/conftest.py); the product's own stays at argon2's defaults."""
    import tests.conftest as shared

    product = shared.PRODUCTION_HASHER
    assert product is not None and product is not accounts._hasher
    assert (product.time_cost, product.memory_cost) >= (3, 64 * 1024)
    stored = product.hash("correct-horse")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3")
    assert product.verify(stored, "correct-horse")


@pytest.mark.parametrize(("name", "role", "password", "message"), [
    ("li", "boss", "long-enough-pw", "未知的角色"),
    ("li", "operator", "short", "密码至少 8 个字符"),
    ("system", "operator", "long-enough-pw", "系统保留名"),
    ("zhang", "operator", "long-enough-pw", "已存在"),
])
def test_invalid_accounts_are_refused_in_chinese(session_factory, name, role, password, message) -> None:
    _make(session_factory)
    with pytest.raises(accounts.AccountError, match=message), session_factory.begin() as s:
        accounts.create_user(s, name, role, password)


def test_only_administrators_create_users_once_accounts_exist(session_factory) -> None:
    _make(session_factory, "boss", "admin")
    _make(session_factory, "op", "operator")
    with pytest.raises(PermissionDenied, match="无权管理用户与角色"), session_factory.begin() as s:
        accounts.create_user(s, "new", "operator", "long-enough-pw", actor="op")
    with session_factory.begin() as s:
        accounts.create_user(s, "new", "institution", "long-enough-pw", actor="boss")
        assert [u.username for u in accounts.list_users(s)] == ["boss", "new", "op"]


def test_sign_in_gives_a_session_that_expires_when_idle_and_ends_on_sign_out(session_factory) -> None:
    _make(session_factory)
    now = utcnow()
    with session_factory.begin() as s:
        result = accounts.sign_in(s, "zhang", "correct-horse", now=now)
    assert result.ok and result.user is not None and result.user.role == "operator" and result.token
    with session_factory.begin() as s:
        assert accounts.session_user(s, result.token, now=now + timedelta(minutes=29)).username == "zhang"
    # used at +29 min, so still valid at +58 min; idle 31 min after that it is gone
    with session_factory.begin() as s:
        accounts.session_user(s, result.token, now=now + timedelta(minutes=58))
    with pytest.raises(accounts.SessionExpired, match="登录已过期"), session_factory.begin() as s:
        accounts.session_user(s, result.token, now=now + timedelta(minutes=58 + 31))
    with session_factory.begin() as s:
        second = accounts.sign_in(s, "zhang", "correct-horse")
    assert second.token
    with session_factory.begin() as s:
        accounts.sign_out(s, second.token)
    with pytest.raises(accounts.SessionExpired, match="已退出登录"), session_factory.begin() as s:
        accounts.session_user(s, second.token)


def test_absolute_session_lifetime_even_when_active(session_factory) -> None:
    _make(session_factory)
    now = utcnow()
    with session_factory.begin() as s:
        token = accounts.sign_in(s, "zhang", "correct-horse", now=now).token
    assert token
    for minutes in range(20, 12 * 60, 20):
        with session_factory.begin() as s:
            accounts.session_user(s, token, now=now + timedelta(minutes=minutes))
    with pytest.raises(accounts.SessionExpired), session_factory.begin() as s:
        accounts.session_user(s, token, now=now + timedelta(hours=12, minutes=1))


def test_five_wrong_passwords_within_15_minutes_lock_the_account(session_factory) -> None:
    _make(session_factory)
    now = utcnow()
    messages = []
    for i in range(5):
        with session_factory.begin() as s:
            r = accounts.sign_in(s, "zhang", "wrong", now=now + timedelta(minutes=i))
        assert not r.ok
        messages.append(r.error)
    assert messages[0] == "用户名或密码错误（再错 4 次账户将被锁定 15 分钟）"
    assert messages[4] is not None and "账户已锁定至" in messages[4]
    with session_factory.begin() as s:  # even the right password is refused while locked
        r = accounts.sign_in(s, "zhang", "correct-horse", now=now + timedelta(minutes=10))
    assert not r.ok and r.error is not None and r.error.startswith("账户已锁定")
    with session_factory.begin() as s:
        assert accounts.sign_in(s, "zhang", "correct-horse", now=now + timedelta(minutes=20)).ok
    with session_factory() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user")
                                               .order_by(AuditEvent.id))]
    assert actions == ["created"] + ["login_failed"] * 5 + ["locked", "login_refused", "login"]


def test_failures_spread_over_more_than_15_minutes_do_not_lock(session_factory) -> None:
    _make(session_factory)
    now = utcnow()
    for i in range(8):
        with session_factory.begin() as s:
            accounts.sign_in(s, "zhang", "wrong", now=now + timedelta(minutes=4 * i))
    with session_factory.begin() as s:
        assert accounts.sign_in(s, "zhang", "correct-horse", now=now + timedelta(minutes=33)).ok


def test_unknown_and_deactivated_users_get_the_same_message(session_factory) -> None:
    _make(session_factory, "boss", "admin")
    _make(session_factory)
    with session_factory.begin() as s:
        token = accounts.sign_in(s, "zhang", "correct-horse").token
        assert accounts.sign_in(s, "nobody", "correct-horse").error == "用户名或密码错误"
    with session_factory.begin() as s:
        accounts.set_active(s, "zhang", False, actor="boss")
    with session_factory.begin() as s:
        assert accounts.sign_in(s, "zhang", "correct-horse").error == "用户名或密码错误"
    assert token
    with pytest.raises(accounts.SessionExpired), session_factory.begin() as s:
        accounts.session_user(s, token)


def test_demo_accounts_are_created_once(session_factory) -> None:
    for _ in range(2):
        with session_factory.begin() as s:
            shown = accounts.ensure_demo_accounts(s)
    assert {r for _, r, _ in shown} == {"admin", "operator", "institution", "auditor"}
    for username, _, password in shown:
        with session_factory.begin() as s:
            assert accounts.sign_in(s, username, password).ok
    with session_factory() as s:
        assert len(accounts.list_users(s)) == 4
