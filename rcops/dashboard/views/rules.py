"""分级与预案: everyone reads the tiers and the plans in force; administrators edit the rules
document (YAML), which is validated by the plans package and installed as new versions."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
import yaml
from sqlalchemy.orm import Session

from rcops.dashboard import common
from rcops.plans.exceptions import PlanValidationError
from rcops.plans.schema import ROLES, Rules, StepDef, parse_rules
from rcops.plans.store_io import current_plan, current_rules, install_rules

CONDITIONS = {
    "risk_score_min": "风险分≥", "keywords_any": "命中关键词", "reach_min": "传播量≥", "mentions_min": "信息条数≥",
    "sources_min": "信息源数≥", "media_levels": "媒体级别", "growth_per_hour_min": "每小时新增≥",
    "categories_any": "风险类别",
}


def step_doc(s: StepDef) -> dict[str, Any]:
    """A step as the rules document writes it, every option kept (so saving unchanged changes nothing)."""
    deadline = "after_previous_minutes" if getattr(s, "relative_to", "detection") == "previous" else "deadline_minutes"
    doc: dict[str, Any] = {"title": s.title, "role": s.role, deadline: s.deadline_minutes,
                           "notify": list(s.notify), "on_breach": s.on_breach}
    if getattr(s, "checklist", ()):
        doc["checklist"] = list(s.checklist)
    if getattr(s, "daily", False):
        doc["daily"] = True
    return doc


def rules_doc(rules: Rules) -> dict[str, Any]:
    return {
        "tiers": [{"code": t.code, "rank": t.rank, "name": t.name, "color": t.color,
                   "any_of": [dict(g) for g in t.any_of]} for t in rules.tiers],
        "plans": [{"tier": p.tier, "name": p.name, "steps": [step_doc(s) for s in p.steps]} for p in rules.plans],
    }


def group_text(group: dict[str, Any]) -> str:
    parts = []
    for key, value in group.items():
        shown = "、".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        parts.append(f"{CONDITIONS.get(key, key)}{'' if CONDITIONS.get(key, '').endswith('≥') else '：'}{shown}")
    return " 且 ".join(parts)


def _install() -> None:
    text = st.session_state.get("rules_yaml", "")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        common.flash("error", f"不是有效的 YAML：{exc}")
        return
    try:
        rules = parse_rules(doc)
    except PlanValidationError as exc:
        common.flash("error", str(exc))
        return
    changed: dict[str, int] = {}

    def act(session: Session, actor: str) -> None:
        changed.update(install_rules(session, rules, actor))

    if common.run_action(act, "分级与预案已保存。"):
        st.session_state.pop("_flash", None)
        if changed.get("tiers") or changed.get("plans"):
            common.flash("success", f"已保存为新版本：等级变更 {changed['tiers']} 个，预案新版本 {changed['plans']} 个。")
        else:
            common.flash("warning", "内容与现行版本相同，未产生新版本。")
        st.session_state.pop("rules_yaml", None)


st.title("分级与预案")
common.show_flash()

with common.read_session() as s:
    rules = current_rules(s)
    versions = {t.code: current_plan(s, t.code) for t in rules.tiers}
    plan_meta = {code: (p.version, p.created_by, p.created_at) for code, p in versions.items() if p is not None}

tab_read, tab_edit = st.tabs(["现行分级与预案", "修改（管理方）"])
with tab_read:
    st.markdown("**分级标准**（任一规则组的全部条件满足即达到该等级；取满足的最高等级）")
    st.dataframe(pd.DataFrame([
        {"等级": t.label, "规则组": "\n".join(f"{n}. {group_text(g)}" for n, g in enumerate(t.any_of, 1))}
        for t in rules.tiers
    ]), hide_index=True, width="stretch")
    for p in rules.plans:
        tier = rules.tier(p.tier)
        version, by, at = plan_meta.get(p.tier, (0, "", None))
        st.markdown(f"{common.tier_badge_md(p.tier, rules.tiers)} **{common.md_escape(p.name)}**")
        st.caption(f"第 {version} 版 · {common.md_escape(by)} 于 {common.fmt_time(at)} 发布 · 等级 {tier.label}")
        st.dataframe(pd.DataFrame([
            {"步骤": n, "任务": s.title, "责任角色": ROLES.get(s.role, s.role), "时限（分钟）": s.deadline_minutes,
             "超时处置": s.on_breach}
            for n, s in enumerate(p.steps, 1)
        ]), hide_index=True, width="stretch")

with tab_edit:
    if not common.can("plans.edit"):
        st.info("只有管理方可以修改分级标准与预案；您可以查看现行版本。")
    else:
        st.caption("修改下方 YAML 后保存：系统先校验（逐条列出问题），通过后保存为新版本；"
                   "已有事件仍按原版本预案处置。")
        st.session_state.setdefault("rules_yaml", yaml.safe_dump(rules_doc(rules), allow_unicode=True,
                                                                 sort_keys=False, width=120))
        with st.form("rules_form"):
            st.text_area("分级与预案（YAML）", key="rules_yaml", height=480)
            st.form_submit_button("校验并保存为新版本", key="rules_save", type="primary", on_click=_install)
