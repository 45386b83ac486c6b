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

from rcops.plans.schema import ROMAN, TierDef
from rcops.store.db import check_schema, make_engine, make_sessionmaker
from rcops.store.exceptions import DatabaseUnavailable, StoreError
from rcops.store.settings import get_settings
from rcops.triage.exceptions import TriageError

#: Seconds between automatic refreshes of the alert desk.
REFRESH_SECONDS = 15

#: How the sidebar names the two kinds of users.
USER_ROLES: dict[str, str] = {"operator": "运营方", "administrator": "管理方"}
DEFAULT_USER = "值班员"

TASK_STATUS_LABELS: dict[str, str] = {"open": "待办", "done": "已完成", "cancelled": "已取消"}
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


def render_sidebar() -> None:
    """User name and role (real sign-in comes later); kept in ``st.session_state``."""
    st.session_state.setdefault("user_name", DEFAULT_USER)
    st.session_state.setdefault("user_role", "operator")
    with st.sidebar:
        st.markdown("**当前用户**")
        st.text_input("姓名", key="user_name", help="每次操作都以此姓名记入审计日志")
        st.selectbox("角色", options=list(USER_ROLES), format_func=USER_ROLES.__getitem__, key="user_role")
        if not current_actor():
            st.warning("请填写姓名，否则无法执行操作。")
        st.caption("农村信用信息系统 · 运营后台")


def current_actor() -> str:
    return str(st.session_state.get("user_name", DEFAULT_USER) or "").strip()


def current_role() -> str:
    return str(st.session_state.get("user_role", "operator"))


# --------------------------------------------------------------------------- actions and messages


def flash(kind: str, message: str) -> None:
    """Keep a message for the next run of the page (``kind``: success, error, warning)."""
    st.session_state.setdefault("_flash", []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop("_flash", []):
        {"success": st.success, "error": st.error}.get(kind, st.warning)(message)


def run_action(action: Callable[[Session, str], Any], success: str) -> bool:
    """Run one user action in its own transaction with the current user as actor.

    Meant for widget callbacks: the page reruns right after, and the outcome is
    shown there (``st.success`` or the Chinese ``st.error`` of the triage error).
    """
    actor = current_actor()
    if not actor:
        flash("error", "请先在左侧边栏填写姓名，再执行操作。")
        return False
    try:
        with write_session() as session:
            action(session, actor)
    except TriageError as exc:
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
    "current_actor",
    "current_role",
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
