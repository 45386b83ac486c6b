"""监测方案: the monitoring schemes and their word groups; administrators add, edit, enable
and disable them (``rcops.operations.monitoring``, audited).

An expression is checked by the scheme parser before saving; an error points at
the character it is about. The preview runs the draft expression over the newest
stored mentions (``rcops.crawlers.preview``) without saving anything.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from rcops.crawlers.expression import ExpressionError
from rcops.crawlers.expression import parse as parse_expression
from rcops.crawlers.preview import preview_scheme
from rcops.crawlers.schemes import enabled_schemes
from rcops.dashboard import common
from rcops.operations import monitoring

GROUPS = [("subject_words", "主体词"), ("region_words", "地域词"), ("event_words", "事件词"), ("exclusion_words", "排除词")]
NEW = "__new__"
_SPLIT = re.compile(r"[、，,；;\s]+")


def words(text: str) -> list[str]:
    """Words typed in one box, separated by 、，, ; or spaces."""
    return [w for w in _SPLIT.split(text or "") if w]


def pointer(expression: str, position: int) -> str:
    """The expression's line with the error and a caret under the character (CJK counts two columns)."""
    before = expression[: max(position - 1, 0)]
    line_start = before.rfind("\n") + 1
    line_end = expression.find("\n", line_start)
    line = expression[line_start: line_end if line_end >= 0 else len(expression)]
    width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in before[line_start:])
    return f"{line}\n{' ' * width}^"


# --------------------------------------------------------------------------- actions (widget callbacks)


def _load() -> None:
    """Fill the form from the scheme picked (empty for a new one)."""
    name = st.session_state.get("sch_pick", NEW)
    row: dict[str, Any] = {"name": "", "expression": "", "enabled": True}
    st.session_state.pop("sch_loaded_def", None)
    if name != NEW:
        with common.read_session() as s:
            found = [monitoring.scheme_definition(r) for r in monitoring.list_schemes(s) if r.name == name]
        row = found[0] if found else row
        if found:  # what a save is checked against: a colleague's change since is not overwritten
            st.session_state["sch_loaded_def"] = found[0]
    st.session_state["sch_name"] = row.get("name") or ""
    for key, _ in GROUPS:
        st.session_state[f"sch_{key}"] = "、".join(row.get(key) or [])
    st.session_state["sch_expression"] = row.get("expression") or ""
    st.session_state["sch_enabled"] = bool(row.get("enabled", True))
    st.session_state["sch_loaded"] = name
    st.session_state.pop("sch_preview", None)
    st.session_state.pop("sch_expr_error", None)


def _check_expression() -> bool:
    expression = (st.session_state.get("sch_expression") or "").strip()
    st.session_state.pop("sch_expr_error", None)
    if not expression:
        return True
    try:
        parse_expression(expression)
    except ExpressionError as exc:
        st.session_state["sch_expr_error"] = (str(exc), pointer(expression, exc.position))
        return False
    return True


def _preview() -> None:
    st.session_state.pop("sch_preview", None)
    expression = (st.session_state.get("sch_expression") or "").strip()
    if not expression:
        common.flash("warning", "预览需要表达式：请先填写高级表达式（AND/OR/NOT）。")
        return
    if not _check_expression():
        return
    with common.read_session() as s:
        st.session_state["sch_preview"] = preview_scheme(s, expression)


def _save() -> None:
    st.session_state.pop("sch_preview", None)
    if not _check_expression():
        return
    entry = {
        "name": st.session_state.get("sch_name", ""),
        **{key: words(st.session_state.get(f"sch_{key}", "")) for key, _ in GROUPS},
        "expression": (st.session_state.get("sch_expression") or "").strip() or None,
        "enabled": bool(st.session_state.get("sch_enabled", True)),
    }
    outcome: dict[str, str] = {}

    def act(s: Session, actor: str) -> None:
        try:
            outcome["what"] = monitoring.save_scheme(s, entry, actor, expected=st.session_state.get("sch_loaded_def"))
        except monitoring.StaleDefinition:
            outcome["what"] = "stale"
            raise

    if not common.run_action(act, f"监测方案“{str(entry['name']).strip()}”已保存。"):
        if outcome.get("what") == "stale":
            st.session_state["sch_loaded"] = None  # the form shows the stored scheme again
    else:
        if outcome["what"] == "unchanged":
            st.session_state["_flash"] = [("warning", "内容与已保存的方案相同，未作修改。")]
        st.session_state["sch_pick"] = str(entry["name"]).strip()
        st.session_state["sch_loaded"] = None


def _toggle(name: str, enabled: bool) -> None:
    if common.run_action(lambda s, actor: monitoring.set_scheme_enabled(s, name, enabled, actor),
                         f"监测方案“{name}”已{'启用' if enabled else '停用'}。"):
        st.session_state["sch_loaded"] = None  # the form shows the stored scheme again


# --------------------------------------------------------------------------- page

st.title("监测方案")
common.show_flash()
admin = common.can("monitoring.edit")
with common.read_session() as s:
    _, problems = enabled_schemes(s)
    rows = [monitoring.scheme_definition(r) for r in monitoring.list_schemes(s)]
for p in problems:
    st.warning(p)
shown = rows if admin else [r for r in rows if r["enabled"]]
if not shown:
    st.info("没有启用的监测方案。")
for scheme in shown:
    with st.container(border=True):
        head, act = st.columns([6, 1], vertical_alignment="center")
        state = "" if scheme["enabled"] else " :gray-badge[已停用]"
        head.markdown(f"**{common.md_escape(scheme['name'])}**{state}")
        if admin:
            on = not scheme["enabled"]
            act.button("启用" if on else "停用", key=f"sch_toggle_{scheme['name']}", on_click=_toggle,
                       args=(scheme["name"], on), width="stretch")
        for key, label in GROUPS:
            ws = scheme.get(key) or []
            st.markdown(f"{label}：" + ("、".join(common.md_escape(w) for w in ws) if ws else "—"))
        if scheme.get("expression"):
            st.caption("高级表达式：")
            st.code(scheme["expression"], language=None)

if not admin:
    st.caption("只读。监测方案由管理方维护。")
    st.stop()

st.subheader("新增或修改监测方案（管理方）", anchor=False)
names = [NEW] + [r["name"] for r in rows]
st.selectbox("方案", options=names, format_func=lambda n: "＋ 新建方案" if n == NEW else n, key="sch_pick",
             on_change=_load)
if st.session_state.get("sch_loaded") != st.session_state.get("sch_pick", NEW):
    _load()
editing = st.session_state.get("sch_pick", NEW) != NEW
with st.form("scheme_form"):
    st.text_input("方案名称", key="sch_name", disabled=editing,
                  help="名称是方案的标识；改名请新建方案并停用旧方案。")
    c1, c2 = st.columns(2)
    for n, (key, label) in enumerate(GROUPS):
        (c1 if n % 2 == 0 else c2).text_input(f"{label}（用“、”或空格分隔）", key=f"sch_{key}")
    st.text_area("高级表达式（可选）", key="sch_expression", height=90,
                 placeholder='(农信社 OR 农商行) AND (挤兑 OR "暴力催收" OR 逾期 NEAR/10 投诉) AND NOT 招聘')
    st.checkbox("启用", key="sch_enabled")
    b1, b2, _ = st.columns([1, 1, 3])
    b1.form_submit_button("校验并预览", key="sch_preview_btn", on_click=_preview, icon=":material/preview:")
    b2.form_submit_button("保存", key="sch_save", type="primary", on_click=_save, icon=":material/save:")
st.caption("规则：主体词至少命中一个（有高级表达式时可不填主体词），填了事件词则至少命中一个事件词，"
           "命中任一排除词即不相关；地域词只记录，不决定相关性。")

error = st.session_state.get("sch_expr_error")
if error:
    message, where = error
    st.error(f"表达式有误：{message}")
    st.code(where, language=None)
preview = st.session_state.get("sch_preview")
if preview:
    st.markdown(f"**预览**：规范形式 {common.md_escape(preview['expression'])} · 已检查最近 {preview['scanned']} 条，"
                f"匹配 **{preview['matched']}** 条" + ("（仅检查了最近的部分信息）" if preview["truncated"] else ""))
    if preview["matches"]:
        st.dataframe(pd.DataFrame([
            {"来源": m["source_name"] or m["source"] or "人工", "标题": m["title"], "命中词": "、".join(m["hits"]),
             "片段": m["snippet"], "发布时间": common.fmt_time(m["published_at"]),
             "采集时间": common.fmt_time(m["crawled_at"])}
            for m in preview["matches"]
        ]), hide_index=True, width="stretch")
