"""Accounts: create users, sign in with lockout, sessions that expire.

Plain functions over the caller's session; the CLI (``rcops users …``) and the
console's sign-in page both call them. Every change writes an audit event in
the same transaction.

Errors: AccountError (base, Chinese message)
 ├── SessionExpired   the session token is unknown, ended or past its expiry
 └── (invalid input: duplicate user name, unknown role, weak password …)

Sign-in never raises for a wrong password or a locked account: the failure
must be stored (and audited) in the caller's transaction, so :func:`sign_in`
returns a :class:`SignInResult` carrying the Chinese message instead.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.store.access import ROLES, SYSTEM_ACTOR, require
from rcops.store.audit import record
from rcops.store.models import AuditEvent, utcnow
from rcops.store.models_accounts import User, UserSession

#: failed sign-ins within FAILURE_WINDOW that lock the account, and for how long
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
#: a session ends after this long without use, and at the latest this long after sign-in
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 8

#: one demo account per role (``make demo``); the passwords are printed in the README and the demo's log
DEMO_ACCOUNTS: list[tuple[str, str, str, str]] = [
    # username, role, password, display name
    ("admin", "admin", "admin-demo-2026", "演示管理员"),
    ("operator", "operator", "operator-demo-2026", "演示值班员"),
    ("bank", "institution", "bank-demo-2026", "演示农商行用户"),
    ("auditor", "auditor", "auditor-demo-2026", "演示审计员"),
]

_hasher = PasswordHasher()
#: compared against when the user does not exist, so timing does not reveal user names
_DUMMY_HASH = _hasher.hash("not-a-real-password")
_SHANGHAI = ZoneInfo("Asia/Shanghai")


class AccountError(Exception):
    """Base class of account errors; the message is Chinese and says what to do."""


class SessionExpired(AccountError):
    pass


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in, as the console needs it."""

    username: str
    display_name: str
    role: str
    institution: str = ""

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


@dataclass(frozen=True)
class SignInResult:
    user: SignedIn | None
    token: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.user is not None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _local(t: datetime) -> str:
    return t.astimezone(_SHANGHAI).strftime("%H:%M")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"未知的角色“{role}”，可选：{'、'.join(f'{k}（{v}）' for k, v in ROLES.items())}")


def check_password_policy(password: str) -> None:
    """The password policy of every account (new accounts and changed passwords)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符")


def create_user(session: Session, username: str, role: str, password: str, actor: str = SYSTEM_ACTOR,
                display_name: str = "", institution: str = "") -> User:
    """A new account. ``actor`` must be allowed ``users.manage`` (an administrator, or ``system`` from the CLI)."""
    require(session, actor, "users.manage")
    username = username.strip()
    if not username or len(username) > 100:
        raise AccountError("用户名不能为空，且不超过 100 个字符")
    if username == SYSTEM_ACTOR:
        raise AccountError("“system”是系统保留名，不能用作用户名")
    _check_role(role)
    check_password_policy(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"用户名“{username}”已存在")
    user = User(username=username, role=role, password_hash=hash_password(password),
                display_name=display_name.strip() or username, institution=institution.strip(), created_by=actor)
    session.add(user)
    session.flush()
    record(session, actor, "user", username, "created", role=role)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.username)))


def _get(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"找不到用户“{username}”")
    return user


def set_role(session: Session, username: str, role: str, actor: str) -> User:
    require(session, actor, "users.manage")
    _check_role(role)
    user = _get(session, username)
    if user.role != role:
        before, user.role = user.role, role
        record(session, actor, "user", username, "role_changed", from_role=before, to_role=role)
    session.flush()
    return user


def set_active(session: Session, username: str, active: bool, actor: str) -> User:
    """Deactivate (or reactivate) an account; deactivation ends its sessions."""
    require(session, actor, "users.manage")
    user = _get(session, username)
    if username == actor and not active:
        raise AccountError("不能停用自己的账户")
    if user.active != active:
        user.active = active
        if not active:
            now = utcnow()
            for s in user.sessions:
                if s.ended_at is None:
                    s.ended_at = now
        record(session, actor, "user", username, "activated" if active else "deactivated")
    session.flush()
    return user


def unlock(session: Session, username: str, actor: str) -> User:
    require(session, actor, "users.manage")
    user = _get(session, username)
    user.failed_count, user.first_failed_at, user.locked_until = 0, None, None
    record(session, actor, "user", username, "unlocked")
    session.flush()
    return user


def _count_failure(session: Session, user: User, now: datetime, action: str) -> str | None:
    """Count a wrong password of ``user`` (sign-in or password change, the same lockout); audited as
    ``action``. Returns the lock message when this failure locks the account, else None."""
    if user.first_failed_at is None or now - user.first_failed_at > FAILURE_WINDOW:
        user.failed_count, user.first_failed_at = 0, now
    user.failed_count += 1
    record(session, user.username, "user", user.username, action, reason="password", count=user.failed_count)
    if user.failed_count >= MAX_FAILURES:
        user.locked_until = now + LOCK_DURATION
        user.failed_count, user.first_failed_at = 0, None
        record(session, SYSTEM_ACTOR, "user", user.username, "locked", until=user.locked_until.isoformat())
        return f"密码错误次数过多，账户已锁定至 {_local(user.locked_until)}；请稍后再试或联系管理方解锁"
    return None


def _locked_message(user: User) -> str:
    assert user.locked_until is not None
    return (f"账户已锁定：连续 {MAX_FAILURES} 次密码错误，请于 {_local(user.locked_until)} 后再试，"
            "或联系管理方解锁")


def _password_refusal(session: Session, user: User, old_password: str, now: datetime) -> str | None:
    """Why ``user`` may not change the password with ``old_password`` (locked, wrong: both stored
    and audited in ``session``), or None."""
    if user.locked_until is not None and user.locked_until > now:  # no guessing while locked
        record(session, user.username, "user", user.username, "password_change_refused", reason="locked")
        return f"{_locked_message(user)}；密码未修改"
    try:
        _hasher.verify(user.password_hash, old_password)
    except (VerificationError, InvalidHashError):
        locked = _count_failure(session, user, now, "password_change_failed")
        session.flush()
        if locked:
            return f"原密码不正确，密码未修改；{locked}"
        left = MAX_FAILURES - user.failed_count
        return f"原密码不正确，密码未修改（再错 {left} 次账户将被锁定 {LOCK_DURATION.seconds // 60} 分钟）"
    return None


def _active_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise AccountError(f"用户“{username}”不存在或已停用")
    return user


def attempt_password_change(session: Session, username: str, old_password: str, new_password: str,
                            keep_token: str | None = None, now: datetime | None = None) -> str | None:
    """Change one's own password the way :func:`sign_in` signs in: a wrong old password counts toward
    the lockout (the same as sign-in's) and a locked account is refused, both stored and audited in
    the caller's transaction and returned as the Chinese message (None: changed). Invalid input
    (the password policy) raises AccountError.

    Every other open session of the account ends (``keep_token``, the caller's own session, stays
    open). Audited as ``password_changed``; the hashes never are.
    """
    now = now or utcnow()
    user = _active_user(session, username)
    refusal = _password_refusal(session, user, old_password, now)
    if refusal is not None:
        return refusal
    check_password_policy(new_password)
    if new_password == old_password:
        raise AccountError("新密码不能与原密码相同")
    user.password_hash = hash_password(new_password)
    user.failed_count, user.first_failed_at = 0, None
    kept = _token_hash(keep_token) if keep_token else None
    ended = 0
    for s in user.sessions:
        if s.ended_at is None and s.token_hash != kept:
            s.ended_at = now
            ended += 1
    record(session, username, "user", username, "password_changed", other_sessions_ended=ended)
    session.flush()
    return None


def change_password(session: Session, username: str, old_password: str, new_password: str,
                    keep_token: str | None = None) -> User:
    """:func:`attempt_password_change` raising AccountError instead of returning the refusal.

    The caller's transaction is rolled back on the error, so a refusal (wrong old password,
    locked account) is stored and audited in a transaction of its own, committed before raising.
    Meant for callers that have written nothing yet (on SQLite a pending write of theirs would
    block that transaction); the console uses :func:`attempt_password_change`.
    """
    now = utcnow()
    user = _active_user(session, username)
    locked = user.locked_until is not None and user.locked_until > now
    try:
        wrong = locked or not _hasher.verify(user.password_hash, old_password)
    except (VerificationError, InvalidHashError):
        wrong = True
    if wrong:
        with Session(session.get_bind()) as own, own.begin():  # the refusal survives the caller's rollback
            refusal = _password_refusal(own, _active_user(own, username), old_password, now)
        raise AccountError(refusal or "账户状态已变化，密码未修改，请重试")
    refusal = attempt_password_change(session, username, old_password, new_password, keep_token, now)
    if refusal is not None:  # pragma: no cover - locked by a concurrent attempt in between
        raise AccountError(refusal)
    return user


def sign_in(session: Session, username: str, password: str, now: datetime | None = None) -> SignInResult:
    """Check the password; on success start a session and return its token (shown to nobody but the browser)."""
    now = now or utcnow()
    username = username.strip()
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        try:  # same work as for a real user
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        record(session, username or "（空）", "user", username or "（空）", "login_failed", reason="unknown_or_inactive")
        return SignInResult(None, None, "用户名或密码错误")
    if user.locked_until is not None and user.locked_until > now:
        record(session, username, "user", username, "login_refused", reason="locked")
        return SignInResult(None, None, _locked_message(user))
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        locked = _count_failure(session, user, now, "login_failed")
        if locked:
            return SignInResult(None, None, locked)
        left = MAX_FAILURES - user.failed_count
        return SignInResult(None, None, f"用户名或密码错误（再错 {left} 次账户将被锁定 {LOCK_DURATION.seconds // 60} 分钟）")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_count, user.first_failed_at, user.locked_until = 0, None, None
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, token_hash=_token_hash(token), created_at=now, last_seen_at=now,
                            expires_at=min(now + IDLE_TIMEOUT, now + ABSOLUTE_TIMEOUT)))
    record(session, username, "user", username, "login")
    session.flush()
    return SignInResult(SignedIn(user.username, user.display_name, user.role, user.institution), token, None)


def session_user(session: Session, token: str, now: datetime | None = None) -> SignedIn:
    """Who holds ``token``; extends the idle timeout. Raises SessionExpired with a Chinese message."""
    now = now or utcnow()
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is None or row.ended_at is not None:
        raise SessionExpired("您已退出登录，请重新登录")
    if row.expires_at <= now:
        row.ended_at = row.expires_at
        raise SessionExpired("登录已过期（超过 30 分钟未操作或登录超过 12 小时），请重新登录")
    user = row.user
    if not user.active:
        raise SessionExpired("账户已停用，请联系管理方")
    row.last_seen_at = now
    row.expires_at = min(now + IDLE_TIMEOUT, row.created_at + ABSOLUTE_TIMEOUT)
    return SignedIn(user.username, user.display_name, user.role, user.institution)


def sign_out(session: Session, token: str) -> None:
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        record(session, row.user.username, "user", row.user.username, "logout")


def audit_log(session: Session, viewer: str, actor: str = "", entity_type: str = "", action: str = "",
              since: datetime | None = None, until: datetime | None = None, limit: int = 500) -> list[AuditEvent]:
    """审计日志, newest first, filtered; ``viewer`` must be allowed ``audit.view``."""
    require(session, viewer, "audit.view")
    q = select(AuditEvent)
    if actor.strip():
        q = q.where(AuditEvent.actor == actor.strip())
    if entity_type:
        q = q.where(AuditEvent.entity_type == entity_type)
    if action.strip():
        q = q.where(AuditEvent.action.like(f"%{action.strip()}%"))
    if since is not None:
        q = q.where(AuditEvent.at >= since)
    if until is not None:
        q = q.where(AuditEvent.at < until)
    return list(session.scalars(q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))


def audit_entity_types(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type)))


def ensure_demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo accounts that do not exist yet (idempotent); returns (username, role, password) of all."""
    for username, role, password, display in DEMO_ACCOUNTS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, role, password, SYSTEM_ACTOR, display_name=display,
                        institution="演示农村商业银行" if role == "institution" else "")
    return [(u, r, p) for u, r, p, _ in DEMO_ACCOUNTS]


__all__ = [
    "AccountError", "SessionExpired", "SignedIn", "SignInResult", "DEMO_ACCOUNTS", "MAX_FAILURES",
    "FAILURE_WINDOW", "LOCK_DURATION", "IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT", "hash_password", "create_user",
    "list_users", "set_role", "set_active", "unlock", "sign_in", "session_user", "sign_out",
    "check_password_policy", "change_password", "attempt_password_change",
    "ensure_demo_accounts", "audit_log", "audit_entity_types",
]
