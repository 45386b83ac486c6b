"""Accounts: users with one role each, sign-in sessions, and failed sign-ins.

Roles (see :mod:`rcops.store.access` for what each may do): ``admin`` 管理方,
``operator`` 运营方, ``institution`` 金融机构用户, ``auditor`` 审计（只读）.
Passwords are stored as argon2 hashes only; session tokens are stored as
SHA-256 digests only, so a copy of the database signs nobody in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rcops.store.models import Base, utcnow


class User(Base):
    """A person who signs in to the console (用户)."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    #: admin / operator / institution / auditor
    role: Mapped[str] = mapped_column(String(20))
    #: bank or insurer of an institution user
    institution: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: failed sign-ins in the current window, and when that window started
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="system")

    sessions: Mapped[list[UserSession]] = relationship(back_populates="user")


class UserSession(Base):
    """One sign-in (登录会话): expires after idle time and after an absolute lifetime."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="sessions")
