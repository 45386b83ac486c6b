"""系统: users and roles (administrators), the duty roster (administrators), and the audit log with
filters (administrators, auditors)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from rcops.dashboard import common
from rcops.operations import accounts
from rcops.plans.schema import ROLES as PLAN_ROLES
from rcops.store.access import ROLES, PermissionDenied
from rcops.store.models import utcnow
from rcops.triage import roster

ENTITY_NAMES = {"incident": "事件", "task": "任务", "user": "用户", "tier": "等级", "response_plan": "预案",
                "mention": "信息", "source": "信息源", "monitoring_scheme": "监测方案", "duty_shift": "值班表"}
ACTION_NAMES = {"login": "登录", "logout": "退出登录", "login_failed": "登录失败", "login_refused": "拒绝登录（已锁定）",
                "password_changed": "修改密码", "password_change_failed": "修改密码失败（原密码错误）",
                "password_change_refused": "拒绝修改密码（已锁定）",
                "locked": "锁定账户", "unlocked": "解除锁定", "created": "新建", "updated": "修改",
                "role_changed": "变更角色", "activated": "启用", "deactivated": "停用", "exported": "导出",
                "completed": "完成任务", "assigned": "指派任务", "tier_confirmed": "确认等级", "tier_corrected": "更正等级",
                "downgrade_requested": "申请降级", "downgrade_rejected": "驳回降级", "plan_applied": "启动预案",
                "detected": "发现事件", "removed": "撤销"}


def _create() -> None:
    name = st.session_state.get("new_username", "")
    role = st.session_state.get("new_role", "operator")
    password = st.session_state.get("new_password", "")
    display = st.session_state.get("new_display", "")
    org = st.session_state.get("new_institution", "")

    def act(session: Session, actor: str) -> None:
        accounts.create_user(session, name, role, password, actor, display_name=display, institution=org)

    if common.run_action(act, f"已创建用户“{name.strip()}”（{ROLES.get(role, role)}）。"):
        for key in ("new_username", "new_password", "new_display", "new_institution"):
            st.session_state[key] = ""
    else:
        st.session_state["new_password"] = ""


def _change(username: str) -> None:
    role = st.session_state.get(f"role_{username}")
    active = st.session_state.get(f"active_{username}")

    def act(session: Session, actor: str) -> None:
        accounts.set_role(session, username, role, actor)
        accounts.set_active(session, username, bool(active), actor)

    common.run_action(act, f"用户“{username}”已更新。")


def _unlock(username: str) -> None:
    common.run_action(lambda s, actor: accounts.unlock(s, username, actor), f"用户“{username}”已解锁。")


def render_users() -> None:
    with common.read_session() as s:
        users = accounts.list_users(s)
    now = datetime.now(common.display_zone())
    st.dataframe(pd.DataFrame([
        {"用户名": u.username, "显示名": u.display_name, "角色": ROLES.get(u.role, u.role), "所属机构": u.institution,
         "状态": ("停用" if not u.active else "锁定中" if u.locked_until and u.locked_until > now else "启用"),
         "最近登录": common.fmt_time(u.last_login_at), "创建人": u.created_by}
        for u in users
    ]), hide_index=True, width="stretch")
    with st.expander("新建用户", icon=":material/person_add:"):
        with st.form("new_user_form"):
            c1, c2 = st.columns(2)
            c1.text_input("用户名（登录名）", key="new_username")
            c2.selectbox("角色", options=list(ROLES), format_func=ROLES.__getitem__, key="new_role")
            c1.text_input("显示名（姓名）", key="new_display")
            c2.text_input("所属金融机构（金融机构用户填写）", key="new_institution")
            st.text_input("初始密码（至少 8 个字符）", key="new_password", type="password")
            st.form_submit_button("创建", key="new_user_submit", type="primary", on_click=_create)
    with st.expander("修改角色、停用或解锁", icon=":material/manage_accounts:"):
        names = [u.username for u in users]
        picked = st.selectbox("用户", options=names, key="edit_user")
        user = next((u for u in users if u.username == picked), None)
        if user is not None:
            with st.form(f"edit_form_{user.username}"):
                st.selectbox("角色", options=list(ROLES), format_func=ROLES.__getitem__,
                             index=list(ROLES).index(user.role), key=f"role_{user.username}")
                st.checkbox("启用", value=user.active, key=f"active_{user.username}")
                st.form_submit_button("保存", key="edit_user_submit", on_click=_change, args=(user.username,))
            st.button("解除锁定", key="unlock_user", on_click=_unlock, args=(user.username,))


def _add_shift() -> None:
    zone = common.display_zone()
    user = st.session_state.get("roster_user")
    role = st.session_state.get("roster_role")
    start = datetime.combine(st.session_state["roster_start_day"], st.session_state["roster_start_time"], zone)
    end = datetime.combine(st.session_state["roster_end_day"], st.session_state["roster_end_time"], zone)
    common.run_action(lambda s, actor: roster.add_shift(s, actor, user or "", role or "", start, end),
                      f"已排班：{user} 担任{PLAN_ROLES.get(role or '', role)}，{start:%m-%d %H:%M} 至 {end:%m-%d %H:%M}。")


def _remove_shift() -> None:
    shift_id = st.session_state.get("roster_remove_id")
    if shift_id is not None:
        common.run_action(lambda s, actor: roster.remove_shift(s, actor, int(shift_id)), f"已撤销值班 {shift_id}。")


def render_roster() -> None:
    """值班表: who is on duty for each plan role; new tasks of the role are assigned to them."""
    show_all = st.checkbox("包括已结束的值班", key="roster_all")
    with common.read_session() as s:
        shifts = roster.list_shifts(s, since=None if show_all else utcnow())
        users = [u.username for u in accounts.list_users(s) if u.active and u.role in ("admin", "operator")]
    st.caption("新生成的任务按值班表指派：任务生成时某角色有人值班，即由其负责。时间为北京时间。")
    if shifts:  # a short list: a static table
        st.table(pd.DataFrame([
            {"编号": sh.id, "值班人员": sh.username, "角色": PLAN_ROLES.get(sh.role, sh.role),
             "开始": common.fmt_time(sh.starts_at), "结束": common.fmt_time(sh.ends_at), "登记人": sh.created_by}
            for sh in shifts
        ]).set_index("编号"))
    else:
        st.info("值班表为空：新任务只按角色分派，不指定负责人。")
    today = datetime.now(common.display_zone()).date()
    with st.expander("排班", icon=":material/event_available:"):
        with st.form("roster_form"):
            c1, c2 = st.columns(2)
            c1.selectbox("值班人员", options=users, key="roster_user")
            c2.selectbox("角色", options=list(PLAN_ROLES), format_func=PLAN_ROLES.__getitem__, key="roster_role")
            c1.date_input("开始日期", value=today, key="roster_start_day", format="YYYY-MM-DD")
            c2.time_input("开始时间", value=time(8, 0), key="roster_start_time", step=timedelta(minutes=30))
            c1.date_input("结束日期", value=today, key="roster_end_day", format="YYYY-MM-DD")
            c2.time_input("结束时间（不含）", value=time(20, 0), key="roster_end_time", step=timedelta(minutes=30))
            st.form_submit_button("排班", key="roster_submit", type="primary", on_click=_add_shift)
    if shifts:
        with st.expander("撤销值班", icon=":material/event_busy:"):
            st.selectbox("值班", options=[sh.id for sh in shifts], key="roster_remove_id",
                         format_func=lambda i: next(f"#{sh.id} {sh.username} {PLAN_ROLES.get(sh.role, sh.role)} "
                                                    f"{common.fmt_time(sh.starts_at)}" for sh in shifts if sh.id == i))
            st.button("撤销", key="roster_remove", on_click=_remove_shift)


def render_audit() -> None:
    with common.read_session() as s:
        kinds = accounts.audit_entity_types(s)
    c1, c2, c3, c4 = st.columns(4)
    actor = c1.text_input("操作人", key="audit_actor")
    kind = c2.selectbox("对象", options=[""] + kinds, format_func=lambda k: ENTITY_NAMES.get(k, k) if k else "全部",
                        key="audit_kind")
    action = c3.text_input("动作包含", key="audit_action", placeholder="例如 login、state")
    today = datetime.now(common.display_zone()).date()
    dates = c4.date_input("日期范围", value=(today - timedelta(days=7), today), key="audit_dates",
                          format="YYYY-MM-DD")
    zone = common.display_zone()
    since = until = None
    if isinstance(dates, (tuple, list)) and dates:
        since = datetime.combine(dates[0], time.min, zone)
        until = datetime.combine((dates[1] if len(dates) > 1 else dates[0]) + timedelta(days=1), time.min, zone)
    try:
        with common.read_session() as s:
            events = accounts.audit_log(s, common.current_actor(), actor=actor, entity_type=kind, action=action,
                                        since=since, until=until)
    except PermissionDenied as exc:
        st.error(str(exc))
        return
    st.caption(f"最新 {len(events)} 条（最多 500 条）")
    st.dataframe(pd.DataFrame([
        {"时间": common.fmt_time(e.at), "操作人": e.actor, "对象": ENTITY_NAMES.get(e.entity_type, e.entity_type),
         "编号": e.entity_id, "动作": ACTION_NAMES.get(e.action, e.action),
         "详情": "；".join(f"{k}：{v}" for k, v in (e.detail or {}).items())}
        for e in events
    ], columns=["时间", "操作人", "对象", "编号", "动作", "详情"]), hide_index=True, width="stretch")


st.title("系统")
common.show_flash()
tabs = []
if common.can("users.manage"):
    tabs.append(("用户与角色", render_users))
if common.can("audit.view"):
    tabs.append(("审计日志", render_audit))
if common.can("roster.manage"):
    tabs.append(("值班表", render_roster))
if not tabs:
    st.info("您的角色无权查看此页。")
    st.stop()
for tab, (_, render) in zip(st.tabs([name for name, _ in tabs]), tabs):
    with tab:
        render()
