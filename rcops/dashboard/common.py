"""What every console page shares: the cached engine, sessions, the user in the
sidebar, and how tiers, times and deadlines are shown.

Pages call the package functions (``rcops.triage.service`` and friends) with a
session from :func:`read_session` or :func:`write_session`; nothing here holds
SQL or a business rule. The console never migrates the database: a missing or
outdated schema is reported with the command that fixes it (``rcops init``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from rcops.crawlers.exceptions import CrawlerError
from rcops.operations import accounts
from rcops.plans.schema import ROMAN, TierDef
from rcops.store.access import ROLES, PermissionDenied, allowed
from rcops.store.db import check_schema, make_engine, make_sessionmaker
from rcops.store.exceptions import DatabaseUnavailable, StoreError
from rcops.store.settings import get_settings
from rcops.triage.exceptions import TriageError
from rcops.triage.lifecycle import TASK_STATUS_LABELS  # re-exported for the pages

#: Seconds between automatic refreshes of the alert desk.
REFRESH_SECONDS = 15

#: How the console names the roles.
USER_ROLES: dict[str, str] = ROLES

CRAWL_STATUS_LABELS: dict[str, str] = {"running": "运行中", "ok": "成功", "failed": "失败"}

#: Tier colour names of the rules document → Streamlit badge colours and chart colours.
BADGE_COLORS = {"red", "orange", "yellow", "blue", "green", "violet", "gray", "grey"}
CHART_COLORS: dict[str, str] = {
    "red": "#d93025",
    "orange": "#f28c28",
    "yellow": "#e8b400",
    "blue": "#1a73e8",
    "green": "#188038",
    "violet": "#8e44ad",
    "gray": "#80868b",
    "grey": "#80868b",
}


# --------------------------------------------------------------------------- engine and sessions


def _dispose(engine: Engine) -> None:
    engine.dispose()


@st.cache_resource(show_spinner=False, on_release=_dispose)
def engine_for(url: str) -> Engine:
    """One engine per database URL for the whole server, schema checked once.

    Raises StoreError (not cached, so the next rerun checks again) when the
    database is missing, unreachable or not at the latest migration.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.exists():
            raise DatabaseUnavailable(f"数据库文件 {path} 不存在；请先运行 `rcops init` 建立数据库。")
    engine = make_engine(url)
    try:
        check_schema(engine)
    except StoreError:
        engine.dispose()
        raise
    return engine


def get_engine() -> Engine:
    """The engine of the configured database; stops the page with a Chinese message if unusable."""
    try:
        return engine_for(get_settings().db_url)
    except StoreError as exc:
        st.error(f"数据库不可用：{exc}", icon=":material/database:")
        st.info("运维人员请在服务器上运行 `rcops init` 建立或升级数据库结构，然后刷新本页。")
        st.stop()
        raise  # pragma: no cover - st.stop() does not return


def get_sessionmaker() -> sessionmaker[Session]:
    return make_sessionmaker(get_engine())


@contextmanager
def read_session() -> Iterator[Session]:
    """A short session for reading; objects stay usable (loaded attributes) after it closes."""
    with get_sessionmaker()() as session:
        yield session


@contextmanager
def write_session() -> Iterator[Session]:
    """One transaction for one user action: commit on success, roll back on error."""
    with get_sessionmaker().begin() as session:
        yield session


# --------------------------------------------------------------------------- the user


def sign_in(username: str, password: str) -> str | None:
    """Check the password; on success keep the session token and user; else return the Chinese message."""
    with write_session() as session:
        result = accounts.sign_in(session, username, password)
    if not result.ok:
        return result.error
    st.session_state["auth_token"] = result.token
    st.session_state["auth_user"] = result.user
    return None


def sign_out() -> None:
    token = st.session_state.pop("auth_token", None)
    st.session_state.pop("auth_user", None)
    if token:
        with write_session() as session:
            accounts.sign_out(session, token)
    st.session_state["auth_notice"] = "您已退出登录。"


def current_user() -> accounts.SignedIn | None:
    """The signed-in user, checked against the store once per run (sessions expire and accounts get disabled)."""
    token = st.session_state.get("auth_token")
    if not token:
        return None
    try:
        with write_session() as session:
            user = accounts.session_user(session, token)
    except accounts.SessionExpired as exc:
        st.session_state.pop("auth_token", None)
        st.session_state.pop("auth_user", None)
        st.session_state["auth_notice"] = str(exc)
        return None
    st.session_state["auth_user"] = user
    return user


def current_actor() -> str:
    user = st.session_state.get("auth_user")
    return user.username if user is not None and st.session_state.get("auth_token") else ""


def current_role() -> str:
    user = st.session_state.get("auth_user")
    return user.role if user is not None and st.session_state.get("auth_token") else ""


def can(action: str) -> bool:
    """Whether the signed-in user's role allows ``action`` (the functions check again)."""
    return bool(current_role()) and allowed(current_role(), action)


def render_sidebar() -> None:
    """Who is signed in, with a sign-out button."""
    user = st.session_state.get("auth_user")
    with st.sidebar:
        if user is not None:
            st.markdown("**当前用户**")
            same = user.display_name in ("", user.username)
            st.markdown(md_escape(user.username) if same else f"{md_escape(user.display_name)}（{md_escape(user.username)}）")
            st.caption(ROLES.get(user.role, user.role) + (f" · {md_escape(user.institution)}" if user.institution else ""))
            st.button("退出登录", key="sign_out", on_click=sign_out, icon=":material/logout:")
        st.caption("农村信用信息系统 · 运营后台")


# --------------------------------------------------------------------------- actions and messages


def flash(kind: str, message: str) -> None:
    """Keep a message for the next run of the page (``kind``: success, error, warning)."""
    st.session_state.setdefault("_flash", []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop("_flash", []):
        {"success": st.success, "error": st.error}.get(kind, st.warning)(message)


def run_action(action: Callable[[Session, str], Any], success: str) -> bool:
    """Run one user action in its own transaction with the signed-in user as actor.

    The session token is checked in the same transaction (an expired sign-in
    does nothing), and the function called checks the role itself. Meant for
    widget callbacks: the page reruns right after, and the outcome is shown
    there (``st.success`` or the Chinese error).
    """
    token = st.session_state.get("auth_token")
    if not token:
        flash("error", "登录已失效，请重新登录后再操作。")
        return False
    try:
        with write_session() as session:
            user = accounts.session_user(session, token)
            action(session, user.username)
    except accounts.SessionExpired as exc:
        st.session_state.pop("auth_token", None)
        st.session_state.pop("auth_user", None)
        st.session_state["auth_notice"] = str(exc)
        return False
    except (TriageError, PermissionDenied, accounts.AccountError, CrawlerError) as exc:
        flash("error", str(exc))
        return False
    except StaleDataError:
        flash("error", "事件已被他人修改，请刷新后重试。")
        return False
    flash("success", success)
    return True


# --------------------------------------------------------------------------- tiers


def tier_label(code: str | None, tiers: Sequence[TierDef]) -> str:
    """Chinese label of a tier, e.g. "Ⅱ级 重大"."""
    for t in tiers:
        if t.code == code:
            return t.label
    if not code:
        return "未分级"
    return f"{ROMAN.get(code, code)}级"


def tier_color(code: str | None, tiers: Sequence[TierDef]) -> str:
    """Streamlit badge colour of a tier (gray when unknown)."""
    for t in tiers:
        if t.code == code:
            color = t.color.strip().lower()
            return color if color in BADGE_COLORS else "gray"
    return "gray"


def tier_chart_color(code: str | None, tiers: Sequence[TierDef]) -> str:
    return CHART_COLORS[tier_color(code, tiers)]


def tier_badge_md(code: str | None, tiers: Sequence[TierDef]) -> str:
    """Markdown of a coloured tier badge, for use inside other markdown."""
    return f":{tier_color(code, tiers)}-badge[{md_escape(tier_label(code, tiers))}]"


def tier_badge(code: str | None, tiers: Sequence[TierDef]) -> None:
    st.badge(tier_label(code, tiers), color=tier_color(code, tiers))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- text, times, deadlines

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&])")


def md_escape(text: str) -> str:
    """Untrusted text (crawled titles) made inert inside Streamlit markdown."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("\n", " "))


def display_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def fmt_time(value: datetime | str | None) -> str:
    """A stored (UTC) time in the display zone, e.g. "2026-12-03 21:05"."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(display_zone()).strftime("%Y-%m-%d %H:%M")


def _span(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} 小时" + (f" {mins} 分钟" if mins else "")
    days, hours = divmod(hours, 24)
    return f"{days} 天" + (f" {hours} 小时" if hours else "")


def countdown(due: datetime, now: datetime | None = None) -> str:
    """Time left before a deadline ("剩余 35 分钟") or past it ("已超时 2 小时").

    Time left is rounded down and time past rounded up, so a deadline is never
    shown as having more time left, or less delay, than it really has.
    """
    now = now or datetime.now(timezone.utc)
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        minutes = int(seconds // 60)
        return f"剩余 {_span(minutes)}" if minutes else "剩余不足 1 分钟"
    return f"已超时 {_span(math.ceil(-seconds / 60))}"


def is_overdue(due: datetime, now: datetime | None = None) -> bool:
    return due < (now or datetime.now(timezone.utc))


def countdown_md(due: datetime, now: datetime | None = None) -> str:
    """The count-down as markdown, red when overdue and orange within the last half hour."""
    now = now or datetime.now(timezone.utc)
    text = countdown(due, now)
    seconds = (due - now).total_seconds()
    if seconds < 0:
        return f":red[**{text}**]"
    if seconds < 30 * 60:
        return f":orange[**{text}**]"
    return text


__all__ = [
    "REFRESH_SECONDS",
    "USER_ROLES",
    "TASK_STATUS_LABELS",
    "CRAWL_STATUS_LABELS",
    "engine_for",
    "get_engine",
    "get_sessionmaker",
    "read_session",
    "write_session",
    "render_sidebar",
    "sign_in",
    "sign_out",
    "current_user",
    "current_actor",
    "current_role",
    "can",
    "flash",
    "show_flash",
    "run_action",
    "tier_label",
    "tier_color",
    "tier_chart_color",
    "tier_badge_md",
    "tier_badge",
    "md_escape",
    "fmt_time",
    "countdown",
    "countdown_md",
    "is_overdue",
]
