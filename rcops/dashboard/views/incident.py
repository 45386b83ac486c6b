"""事件详情: one incident with its mentions, tasks, the actions its state allows, and its audit trail.

Besides the life-cycle actions: comments on tasks, merging another incident into
this one and splitting mentions off into a new incident (``rcops.triage.merge``,
which checks the role and audits every incident involved).

Every action runs in its own transaction through ``rcops.triage.service`` with
the user's name as actor and the ``row_version`` shown on screen, so a change
made meanwhile by someone else is refused instead of overwritten.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from rcops.classifier.tiering import explain_text
from rcops.dashboard import common
from rcops.operations import accounts
from rcops.operations import desk as desk_queries
from rcops.plans.schema import ROLES, TierDef
from rcops.plans.store_io import tier_defs
from rcops.store.models import AuditEvent, Incident, Mention, Task
from rcops.store.models_disposal import TaskChecklistItem
from rcops.triage import merge, service
from rcops.triage.exceptions import TriageError
from rcops.triage.lifecycle import OPEN_STATES, STATE_LABELS, allowed_targets

AUDIT_ACTIONS: dict[str, str] = {
    "detected": "发现事件",
    "plan_applied": "启动预案",
    "regraded": "系统重新定级",
    "mention_attached": "新增信息",
    "tier_confirmed": "确认等级",
    "tier_corrected": "更正等级",
    "tier_lowered": "等级下调",
    "completed": "完成任务",
    "cancelled": "取消任务",
    "reopened": "恢复任务",
    "overdue": "任务超时",
    "assigned": "指派任务",
    "commented": "批注",
    "merged": "并入另一事件",
    "merged_into": "已并入其他事件",
    "split": "拆出新事件",
    "split_from": "由其他事件拆出",
    "downgrade_requested": "申请降级",
    "downgrade_rejected": "驳回降级",
    "checklist_ticked": "勾选检查事项",
    "checklist_unticked": "取消勾选检查事项",
    "followup_created": "生成当日续报任务",
    **{f"state:{k}": f"状态→{v}" for k, v in STATE_LABELS.items()},
}
DETAIL_KEYS: dict[str, str] = {
    "from_state": "原状态",
    "to_state": "新状态",
    "from_tier": "原等级",
    "to_tier": "新等级",
    "tier": "等级",
    "reason": "理由",
    "note": "备注",
    "on_time": "按时",
    "on_breach": "超时处置",
    "incident_id": "事件",
    "version": "版本",
    "steps": "步骤数",
    "explanation": "依据",
    "first_mention_id": "首条信息",
    "mention_id": "信息",
    "plan_id": "预案",
    "plan_version": "预案版本",
    "tasks_added": "新增任务",
    "due_at": "时限",
    "text": "内容",
    "target_id": "并入事件",
    "source_id": "来源事件",
    "source_tier": "来源事件等级",
    "mention_ids": "信息编号",
    "new_incident_id": "新事件",
    "split_from": "拆自事件",
    "from_assignee": "原负责人",
    "to_assignee": "负责人",
    "index": "序号",
    "item": "检查事项",
    "forced": "强制完成",
    "unticked": "未勾选",
    "day": "日期",
    "assignee": "负责人",
}


# --------------------------------------------------------------------------- actions (widget callbacks)


def _confirm(incident_id: int, version: int, label: str) -> None:
    common.run_action(
        lambda s, actor: service.confirm_tier(s, incident_id, actor, expected_version=version),
        f"已确认等级：{label}，事件已研判。",
    )


def _correct(incident_id: int, version: int, tiers_by_code: dict[str, str]) -> None:
    code = st.session_state.get("act_correct_tier")
    reason = st.session_state.get("act_correct_reason", "")
    outcome: dict[str, object] = {}

    def act(s, actor):  # type: ignore[no-untyped-def]
        outcome["pending"] = service.confirm_tier(s, incident_id, actor, tier_code=code, reason=reason,
                                                  expected_version=version).pending_tier_code

    if common.run_action(act, f"等级已更正为 {tiers_by_code.get(code, code)}。"):
        if outcome.get("pending"):
            st.session_state["_flash"] = [("warning", f"降级为 {tiers_by_code.get(code, code)} 的申请已提交，"
                                                      "待管理方审批；审批前维持原等级与预案。")]
        st.session_state["act_correct_reason"] = ""


def _decide(incident_id: int, version: int, approve: bool) -> None:
    reason = st.session_state.get("act_downgrade_reason", "")
    if common.run_action(
        lambda s, actor: service.decide_downgrade(s, incident_id, actor, approve, reason=reason,
                                                  expected_version=version),
        "已同意降级。" if approve else "已驳回降级申请，维持原等级。",
    ):
        st.session_state["act_downgrade_reason"] = ""


def _assign(task_id: int, title: str) -> None:
    who = st.session_state.get(f"task_assignee_{task_id}") or ""
    common.run_action(lambda s, actor: service.assign_task(s, task_id, actor, who), f"任务“{title}”已指派给 {who}。")


def _start(incident_id: int, version: int) -> None:
    common.run_action(
        lambda s, actor: service.start_disposal(s, incident_id, actor, expected_version=version),
        "已开始处置。",
    )


def _resolve(incident_id: int, version: int) -> None:
    note = st.session_state.get("act_resolve_note", "")
    if common.run_action(
        lambda s, actor: service.resolve(s, incident_id, actor, note=note, expected_version=version),
        "事件已标记为处置完成。",
    ):
        st.session_state["act_resolve_note"] = ""


def _dismiss(incident_id: int, version: int) -> None:
    reason = st.session_state.get("act_dismiss_reason", "")
    if common.run_action(
        lambda s, actor: service.dismiss(s, incident_id, actor, reason=reason, expected_version=version),
        "事件已排除，未完成的任务已取消。",
    ):
        st.session_state["act_dismiss_reason"] = ""


def _reopen(incident_id: int, version: int) -> None:
    reason = st.session_state.get("act_reopen_reason", "")
    if common.run_action(
        lambda s, actor: service.reopen(s, incident_id, actor, reason=reason, expected_version=version),
        "事件已重新打开。",
    ):
        st.session_state["act_reopen_reason"] = ""


def _complete(task_id: int, title: str) -> None:
    key = f"task_note_{task_id}"
    note = st.session_state.get(key, "")
    force = bool(st.session_state.get(f"task_force_{task_id}", False))
    if common.run_action(
        lambda s, actor: service.complete_task(s, task_id, actor, note=note, force=force),
        f"任务“{title}”已完成。",
    ):
        st.session_state[key] = ""


def _tick(task_id: int, index: int, text: str, version: int) -> None:
    key = f"task_check_{task_id}_{index}"
    done = bool(st.session_state.get(key))
    if not common.run_action(
        lambda s, actor: service.tick_checklist_item(s, actor, task_id, index, done=done, expected_version=version),
        f"已{'勾选' if done else '取消勾选'}检查事项“{text}”。",
    ):
        st.session_state.pop(key, None)  # refused (e.g. changed meanwhile): the box shows what is stored again


def _comment(task_id: int, title: str) -> None:
    key = f"task_comment_{task_id}"
    text = st.session_state.get(key, "")
    if common.run_action(lambda s, actor: merge.comment_task(s, task_id, actor, text), f"已批注任务“{title}”。"):
        st.session_state[key] = ""


def _merge(incident_id: int) -> None:
    other = st.session_state.get("act_merge_source")
    reason = st.session_state.get("act_merge_reason", "")
    if other is None:
        common.flash("error", "请选择要并入本事件的事件。")
        return
    if common.run_action(
        lambda s, actor: merge.merge_incidents(s, incident_id, [int(other)], actor, reason),
        f"事件 #{other} 已并入本事件：其信息已转入，原事件已排除（并入），未完成任务已取消。",
    ):
        st.session_state["act_merge_reason"] = ""
        st.session_state.pop("act_merge_source", None)


def _split(incident_id: int) -> None:
    picked = [int(m) for m in st.session_state.get("act_split_mentions") or []]
    reason = st.session_state.get("act_split_reason", "")
    if not picked:
        common.flash("error", "请选择要拆分出去的信息。")
        return
    made: dict[str, int] = {}

    def act(s, actor):  # type: ignore[no-untyped-def]
        made["id"] = merge.split_incident(s, incident_id, picked, actor, reason).id

    if common.run_action(act, f"已将 {len(picked)} 条信息拆分为新事件。"):
        st.session_state["_flash"] = [("success", f"已将 {len(picked)} 条信息拆分为新事件 #{made['id']}，"
                                                  "新事件按其信息定级并启动相应预案。")]
        st.session_state["act_split_reason"] = ""
        st.session_state["act_split_mentions"] = []


def _picked() -> None:
    st.session_state["incident_id"] = st.session_state["incident_picker"]


# --------------------------------------------------------------------------- rendering


def _detail_text(detail: dict[str, Any], tiers: list[TierDef]) -> str:
    parts = []
    for key, value in detail.items():
        if key in ("from_state", "to_state"):
            value = STATE_LABELS.get(value, value)
        elif key in ("tier", "from_tier", "to_tier"):
            value = common.tier_label(value, tiers)
        elif key == "explanation" and isinstance(value, dict):
            value = explain_text(value)
        elif key == "due_at":
            value = common.fmt_time(value)
        elif key == "on_time":
            value = "是" if value else "否"
        elif not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False)
        parts.append(f"{DETAIL_KEYS.get(key, key)}：{value}")
    return "；".join(parts)


def render_header(incident: Incident, tiers: list[TierDef]) -> None:
    st.subheader(f"{common.tier_badge_md(incident.tier_code, tiers)} {common.md_escape(incident.title)}",
                 anchor=False)
    facts = [
        f"状态：**{STATE_LABELS.get(incident.state, incident.state)}**",
        f"发现时间：{common.fmt_time(incident.detected_at)}",
        f"最近信息：{common.fmt_time(incident.last_mention_at)}",
        f"信息 {incident.mention_count} 条",
        f"最高风险分 {incident.max_risk_score:.2f}",
        f"传播量 {incident.total_reach}",
    ]
    if incident.suggested_tier_code != incident.tier_code:
        facts.append(f"系统建议：{common.md_escape(common.tier_label(incident.suggested_tier_code, tiers))}")
    if incident.tier_confirmed_by:
        facts.append(f"研判人：{common.md_escape(incident.tier_confirmed_by)}")
    st.markdown(" · ".join(facts))
    st.caption("定级依据：" + common.md_escape(explain_text(incident.tier_explanation)))
    if incident.dismissed_reason and incident.state == "dismissed":
        st.caption("排除理由：" + common.md_escape(incident.dismissed_reason))


def render_mentions(mentions: list[tuple[Mention, str]], tiers: list[TierDef]) -> None:
    if not mentions:
        st.info("该事件暂无信息。")
        return
    table = pd.DataFrame(
        [
            {
                "来源": source,
                "采集时间": common.fmt_time(m.crawled_at),
                "发布时间": common.fmt_time(m.published_at),
                "标题": m.title,
                "风险分": round(m.risk_score, 2) if m.risk_score is not None else None,
                "等级": common.tier_label(m.tier_code, tiers),
                "传播量": m.reach,
            }
            for m, source in mentions
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.markdown("**正文**")
    for m, source in mentions:
        with st.expander(f"{common.md_escape(m.title)} — {common.md_escape(source)} · {common.fmt_time(m.crawled_at)}"):
            # crawled text is untrusted: shown as plain text, never as HTML or markdown
            st.text(m.text, wrap=True)
            st.text(f"原文链接：{m.url}")


def render_checklist(incident: Incident, t: Task, items: list[TaskChecklistItem], editable: bool) -> None:
    """The task's checklist: one checkbox per item, ticked in its own transaction (optimistic locking)."""
    st.caption(f"检查清单（已完成 {sum(i.done for i in items)}/{len(items)} 项）")
    for i in items:
        who = f"（{i.done_by} {common.fmt_time(i.done_at)}）" if i.done and i.done_by else ""
        st.checkbox(common.md_escape(f"{i.position}. {i.text}{who}"), value=i.done, key=f"task_check_{t.id}_{i.position}",
                    disabled=not editable, on_change=_tick, args=(t.id, i.position, i.text, incident.row_version))


def render_tasks(incident: Incident, tasks: list[Task], assignees: list[str],
                 checklists: dict[int, list[TaskChecklistItem]] | None = None) -> None:
    if not tasks:
        st.info("该事件暂无任务。")
        return
    incident_open = incident.state in OPEN_STATES
    checklists = checklists or {}
    for t in tasks:
        with st.container(border=True):
            info, due, act = st.columns([5, 3, 4], vertical_alignment="center")
            with info:
                st.markdown(f"**{t.position}. {common.md_escape(t.title)}**")
                status = common.TASK_STATUS_LABELS.get(t.status, t.status)
                st.caption(f"责任角色：{ROLES.get(t.role, t.role)} · 状态：{status}")
            with due:
                st.caption(f"时限 {common.fmt_time(t.due_at)}")
                if t.status == "open":
                    st.markdown(common.countdown_md(t.due_at))
                elif t.status == "done":
                    st.caption(f"{common.md_escape(t.completed_by or '')} 完成于 {common.fmt_time(t.completed_at)}")
                if checklists.get(t.id):
                    render_checklist(incident, t, checklists[t.id], editable=t.status == "open" and incident_open
                                     and common.can("task.complete"))
            with act:
                for line in (t.note or "").splitlines():
                    st.caption("备注：" + common.md_escape(line))
                if t.assignee:
                    st.caption("负责人：" + common.md_escape(t.assignee))
                if t.status == "open" and incident_open and common.can("task.assign"):
                    with st.popover("指派", icon=":material/person_add:"):
                        st.selectbox("负责人", options=assignees, key=f"task_assignee_{t.id}",
                                     index=assignees.index(t.assignee) if t.assignee in assignees else None,
                                     placeholder="选择负责人")
                        st.button("确定指派", key=f"task_assign_{t.id}", on_click=_assign, args=(t.id, t.title))
                if t.status == "open" and incident_open and common.can("task.complete"):
                    with st.form(f"task_form_{t.id}", border=False):
                        note_col, btn_col = st.columns([3, 1], vertical_alignment="bottom")
                        note_col.text_input("备注（可选）", key=f"task_note_{t.id}", placeholder="处理情况")
                        btn_col.form_submit_button("完成", key=f"task_done_{t.id}", on_click=_complete,
                                                   args=(t.id, t.title), width="stretch")
                        if any(not i.done for i in checklists.get(t.id, [])):
                            st.checkbox("检查清单未全部勾选，仍强制完成（须在备注中说明理由）", key=f"task_force_{t.id}")
                if common.can("task.comment"):
                    with st.popover("批注", icon=":material/comment:"):
                        st.text_area("批注内容", key=f"task_comment_{t.id}", placeholder="进展、协调情况、提醒……")
                        st.button("添加批注", key=f"task_comment_btn_{t.id}", on_click=_comment,
                                  args=(t.id, t.title))


def render_actions(incident: Incident, tiers: list[TierDef]) -> None:
    state, iid, version = incident.state, incident.id, incident.row_version
    targets = allowed_targets(state)
    label = common.tier_label(incident.tier_code, tiers)
    shown = False
    who = common.md_escape(common.current_actor())
    role = common.USER_ROLES.get(common.current_role(), "")
    if not common.can("incident.confirm"):
        st.info(f"您的角色（{role}）只能查看事件，不能研判或处置。")
        return
    st.caption(f"以“{who}”（{role}）的身份操作，所有操作记入审计日志。")
    if incident.pending_tier_code:
        asked = common.tier_label(incident.pending_tier_code, tiers)
        st.warning(f"{common.md_escape(incident.pending_tier_by or '')} 申请降级为 {asked}："
                   f"{common.md_escape(incident.pending_tier_reason or '')}。管理方审批前维持原等级。")
        if common.can("plans.edit"):
            with st.form("act_downgrade_form"):
                st.text_input("审批意见（可选）", key="act_downgrade_reason")
                c1, c2 = st.columns(2)
                c1.form_submit_button("同意降级", key="act_downgrade_approve", on_click=_decide,
                                      args=(iid, version, True))
                c2.form_submit_button("驳回", key="act_downgrade_reject", on_click=_decide,
                                      args=(iid, version, False))
    if state in OPEN_STATES:
        shown = True
        st.markdown("**研判等级**")
        left, right = st.columns(2)
        with left:
            if "confirmed" in targets:
                st.write(f"系统定级为 {common.tier_badge_md(incident.tier_code, tiers)}，核实无误后确认。")
                st.button(f"确认等级（{label}）", key="act_confirm", type="primary", on_click=_confirm,
                          args=(iid, version, label))
            else:
                who = common.md_escape(incident.tier_confirmed_by or "—")
                st.write(f"当前等级 {common.tier_badge_md(incident.tier_code, tiers)}，研判人：{who}。"
                         "如需调整，请在右侧更正并填写理由。")
        with right:
            others = [t for t in tiers if t.code != incident.tier_code]
            by_code = {t.code: t.label for t in tiers}
            with st.form("act_correct_form"):
                st.selectbox("更正为", options=[t.code for t in others], format_func=by_code.__getitem__,
                             key="act_correct_tier")
                st.text_input("更正理由（必填）", key="act_correct_reason")
                st.form_submit_button("更正等级", key="act_correct", on_click=_correct, args=(iid, version, by_code))
    if state in OPEN_STATES and "disposing" in targets:
        shown = True
        st.markdown("**处置**")
        st.button("开始处置", key="act_start", on_click=_start, args=(iid, version))
    if "resolved" in targets:
        shown = True
        st.markdown("**处置完成**")
        with st.form("act_resolve_form"):
            st.text_input("处置结果说明（可选）", key="act_resolve_note")
            st.form_submit_button("标记为已处置", key="act_resolve", on_click=_resolve, args=(iid, version))
    if "dismissed" in targets:
        shown = True
        st.markdown("**排除**")
        with st.form("act_dismiss_form"):
            st.text_input("排除理由（必填，例如：旧闻转载、与本系统无关）", key="act_dismiss_reason")
            st.form_submit_button("排除事件", key="act_dismiss", on_click=_dismiss, args=(iid, version))
    if state not in OPEN_STATES and any(t in OPEN_STATES for t in targets):
        shown = True
        st.markdown("**重新打开**")
        with st.form("act_reopen_form"):
            st.text_input("重新打开的理由（必填）", key="act_reopen_reason")
            st.form_submit_button("重新打开", key="act_reopen", on_click=_reopen, args=(iid, version))
    if not shown:
        st.info(f"事件状态为“{STATE_LABELS.get(state, state)}”，当前没有可执行的操作。")


def render_regroup(incident: Incident, mentions: list[tuple[Mention, str]], others: dict[int, str]) -> None:
    """合并 (another incident into this one) and 拆分 (mentions off into a new incident)."""
    if incident.state not in OPEN_STATES:
        st.info(f"事件状态为“{STATE_LABELS.get(incident.state, incident.state)}”，已结束处置，不能再合并或拆分。")
        return
    if not (common.can("incident.dismiss") or common.can("incident.confirm")):
        st.info("您的角色只能查看事件，不能合并或拆分。")
        return
    left, right = st.columns(2)
    with left:
        st.markdown("**合并：把另一事件并入本事件**")
        st.caption("同一舆情被分成了两个事件时使用。被并入事件的信息转入本事件，该事件以“并入”排除，"
                   "其未完成任务取消（不删除）；如被并入事件等级更高，本事件从高定级。")
        with st.form("act_merge_form"):
            st.selectbox("被并入的事件（待研判或已研判）", options=list(others), format_func=others.__getitem__,
                         index=None, key="act_merge_source", placeholder="选择事件")
            st.text_input("合并理由（必填）", key="act_merge_reason")
            st.form_submit_button("并入本事件", key="act_merge", on_click=_merge, args=(incident.id,))
    with right:
        st.markdown("**拆分：把部分信息拆为新事件**")
        st.caption("本事件混入了另一舆情的信息时使用。选中的信息转入新事件（待研判），新事件按其信息定级并启动预案；"
                   "本事件至少保留一条信息。")
        names = {m.id: f"#{m.id} {m.title[:40]} — {source} · {common.fmt_time(m.crawled_at)}" for m, source in mentions}
        with st.form("act_split_form"):
            st.multiselect("要拆出的信息", options=list(names), format_func=names.__getitem__, key="act_split_mentions",
                           placeholder="选择信息")
            st.text_input("拆分理由（必填）", key="act_split_reason")
            st.form_submit_button("拆分为新事件", key="act_split", on_click=_split, args=(incident.id,))


def render_audit(events: list[AuditEvent], tiers: list[TierDef]) -> None:
    if not events:
        st.info("暂无审计记录。")
        return
    table = pd.DataFrame(
        [
            {
                "时间": common.fmt_time(e.at),
                "操作人": e.actor,
                "对象": {"incident": "事件", "task": "任务"}.get(e.entity_type, e.entity_type) + f" #{e.entity_id}",
                "动作": AUDIT_ACTIONS.get(e.action, e.action),
                "详情": _detail_text(e.detail or {}, tiers),
            }
            for e in events
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")


# --------------------------------------------------------------------------- page

st.title("事件详情")
common.show_flash()

with common.read_session() as s:
    tiers = tier_defs(s)
    # open incidents first, gravest and newest first; then the closed ones, newest first
    choices = desk_queries.incident_choices(s, {t.code: t.rank for t in tiers}, sorted(OPEN_STATES))
    wanted = st.session_state.get("incident_id")
    if wanted is not None and wanted not in {c[0] for c in choices}:
        try:
            extra = service.get_incident(s, int(wanted))
            choices.insert(0, (extra.id, extra.title, extra.tier_code, extra.state))
        except TriageError:
            wanted = None

if not choices:
    st.info("暂无舆情事件。")
    st.stop()

names = {
    iid: f"#{iid} {common.tier_label(code, tiers)} · {title[:40]}（{STATE_LABELS.get(state, state)}）"
    for iid, title, code, state in choices
}
chosen = wanted if wanted in names else choices[0][0]
st.session_state["incident_id"] = chosen
st.session_state["incident_picker"] = chosen
st.selectbox("选择事件", options=list(names), format_func=names.__getitem__, key="incident_picker",
             on_change=_picked)

with common.read_session() as s:
    incident = service.get_incident(s, chosen)
    tasks = list(incident.tasks)
    mentions = service.incident_mentions(s, chosen)
    audit = service.incident_audit(s, chosen)
    assignees = [u.username for u in accounts.list_users(s) if u.active and u.role in ("admin", "operator")]
    checklists = {t.id: service.task_checklist(s, t.id) for t in tasks}

render_header(incident, tiers)
open_tasks = sum(1 for t in tasks if t.status == "open")
mergeable = {iid: names[iid] for iid, _, _, state in choices if iid != chosen and state in ("detected", "confirmed")}
tab_info, tab_tasks, tab_actions, tab_regroup, tab_audit = st.tabs(
    [f"信息（{len(mentions)}）", f"任务（{open_tasks}/{len(tasks)} 待办）", "操作", "合并与拆分", "审计"]
)
with tab_info:
    render_mentions(mentions, tiers)
with tab_tasks:
    render_tasks(incident, tasks, assignees, checklists)
with tab_actions:
    render_actions(incident, tiers)
with tab_regroup:
    render_regroup(incident, mentions, mergeable)
with tab_audit:
    render_audit(audit, tiers)
