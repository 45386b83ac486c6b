"""信息源: every source with its health; administrators add, edit, enable and disable sources.

A source is edited as its definition in the ``rcops sources add`` file format
(YAML), validated and saved by ``rcops.operations.monitoring`` (audited); the
validation message names the field that is wrong.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd
import streamlit as st
import yaml
from sqlalchemy.orm import Session

from rcops.crawlers.health import source_health
from rcops.dashboard import common
from rcops.operations import monitoring

KINDS = {"rss": "RSS", "html": "网页列表/详情", "api": "JSON 接口", "sitemap": "站点地图"}
MEDIA = {"central": "中央", "provincial": "省级", "municipal": "地市", "industry": "行业", "self_media": "自媒体"}
STATUS = {"ok": "成功", "failed": "失败", "running": "运行中", None: "—"}
NEW_SOURCE = """key: city_daily             # 标识：小写字母、数字、_.-
name: 市日报
kind: rss                  # rss | html | json | sitemap
url: https://example.org/feed.xml
interval_seconds: 600      # 抓取周期（秒）
media_level: municipal     # central | provincial | municipal | industry | self_media
region: ""
enabled: true
config: {}                 # html 类须配置 list.link 等选择器，见 rcops/crawlers/README.md
"""


def dump(entry: dict[str, Any]) -> str:
    return yaml.safe_dump(entry, allow_unicode=True, sort_keys=False, width=100)


def _save(state_key: str) -> None:
    text = st.session_state.get(state_key, "")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        common.flash("error", f"不是有效的 YAML：{exc}")
        return
    if isinstance(doc, dict) and "sources" not in doc:
        doc = {"sources": [doc]}
    elif isinstance(doc, list):
        doc = {"sources": doc}
    outcome: dict[str, Any] = {}
    loaded = st.session_state.get(_loaded_key(state_key))  # the definition the editor started from

    def act(s: Session, actor: str) -> None:
        try:
            outcome.update(monitoring.save_sources(s, doc, actor, expected=loaded)["sources"])
        except monitoring.StaleDefinition:
            outcome["stale"] = True
            raise

    if not common.run_action(act, "信息源已保存。"):
        if outcome.get("stale"):  # show what is stored now
            st.session_state.pop(state_key, None)
    else:
        done = [f"新增 {'、'.join(outcome['created'])}" if outcome["created"] else "",
                f"更新 {'、'.join(outcome['updated'])}" if outcome["updated"] else ""]
        text = "；".join(d for d in done if d) or "内容与已保存的相同，未作修改"
        st.session_state["_flash"] = [("success" if any(done) else "warning", f"信息源已保存：{text}。")]
        st.session_state.pop(state_key, None)


def _loaded_key(state_key: str) -> str:
    return f"{state_key}_loaded"


def _toggle(key: str, enabled: bool) -> None:
    if common.run_action(lambda s, actor: monitoring.set_source_enabled(s, key, enabled, actor),
                         f"信息源 {key} 已{'启用' if enabled else '停用'}。"):
        st.session_state.pop(f"src_yaml_{key}", None)  # the editor shows the stored definition again


def render_editor(rows: list[dict[str, Any]]) -> None:
    st.subheader("维护信息源（管理方）", anchor=False)
    tab_switch, tab_edit, tab_new = st.tabs(["启用与停用", "修改", "新增"])
    names = {r["key"]: f"{r['name']}（{r['key']}）" + ("" if r["enabled"] else " · 已停用") for r in rows}
    with tab_switch:
        if not rows:
            st.caption("尚无信息源。")
        for r in rows:
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            c1.markdown(f"**{common.md_escape(r['name'])}**（{common.md_escape(r['key'])}）· "
                        + ("启用中" if r["enabled"] else ":gray-badge[已停用]"))
            c2.button("停用" if r["enabled"] else "启用", key=f"src_toggle_{r['key']}", on_click=_toggle,
                      args=(r["key"], not r["enabled"]), width="stretch")
    with tab_edit:
        if rows:
            key = st.selectbox("信息源", options=list(names), format_func=names.__getitem__, key="src_pick")
            state_key = f"src_yaml_{key}"
            if state_key not in st.session_state:  # (re)load the stored definition, kept to check a save against
                with common.read_session() as s:
                    definition = monitoring.source_definition(s, key)
                st.session_state[_loaded_key(state_key)] = {key: definition}
                st.session_state[state_key] = dump(definition)
            with st.form(f"src_edit_form_{key}"):
                st.text_area("信息源定义（YAML，与 `rcops sources add` 文件格式相同）", key=state_key, height=320)
                st.form_submit_button("校验并保存", key="src_save", type="primary", on_click=_save, args=(state_key,))
    with tab_new:
        st.session_state.setdefault("src_new_yaml", NEW_SOURCE)
        with st.form("src_new_form"):
            st.text_area("新信息源定义（YAML）", key="src_new_yaml", height=300)
            st.form_submit_button("校验并新增", key="src_new", type="primary", on_click=_save, args=("src_new_yaml",))
        st.caption("保存前整体校验（类型、地址、选择器、编码、抓取周期……），有误时指出字段，不写入任何内容；"
                   "指向本机的地址只能由运维人员用命令行添加。")


st.title("信息源")
common.show_flash()
admin = common.can("monitoring.edit")
with common.read_session() as s:
    rows = source_health(s, datetime.now(timezone.utc))
if not rows:
    st.info("尚未配置信息源。" + ("请在下方新增。" if admin else "信息源由管理方维护。"))
    if admin:
        render_editor(rows)
    st.stop()

bad = [r for r in rows if r["state"] == "异常"]
c1, c2, c3 = st.columns(3)
c1.metric("信息源", len(rows), border=True)
c2.metric("正常", sum(1 for r in rows if r["state"] == "正常"), border=True)
c3.metric("异常", len(bad), border=True, help="静默、乱码或连续失败")
for r in bad:
    st.warning(f"{r['name']}：{'、'.join(r['flags'])}" + (f"（最近错误：{r['last_error']}）" if r["last_error"] else ""))
for r in rows:  # a blocked source: until when the scheduler leaves it alone, and what to do
    alert = r.get("alert")
    if alert:
        until = (f"定时抓取暂停至 {common.fmt_time(alert['retry_at'])}" if alert["backing_off"]
                 else "退避已到期，下次定时抓取将重试")
        st.error(f"信息源告警 · {r['name']}：{alert['label']}（自 {common.fmt_time(alert['opened_at'])} 起连续 "
                 f"{alert['blocks']} 次），{until}。{alert['advice']}", icon=":material/block:")

st.dataframe(pd.DataFrame([
    {
        "信息源": r["name"], "类型": KINDS.get(r["kind"], r["kind"]), "媒体级别": MEDIA.get(r["media_level"], r["media_level"]),
        "状态": r["state"], "标记": "、".join(r["flags"]), "最近抓取": common.fmt_time(r["last_run_at"]),
        "结果": STATUS.get(r["last_status"], r["last_status"]), "最近成功": common.fmt_time(r["last_success_at"]),
        "连续失败": r["consecutive_failures"], "本次/通常条数": f"{r['last_yield'] if r['last_yield'] is not None else '—'}"
        f" / {r['usual_yield'] if r['usual_yield'] is not None else '—'}",
        "最新信息": common.fmt_time(r["newest_item_at"]), "抓取周期": r["schedule"],
        "启用": "是" if r["enabled"] else "否", "地址": r["url"],
    }
    for r in rows
]), hide_index=True, width="stretch")
st.caption("健康度按最近 20 次抓取计算。" + ("" if admin else "只读；信息源由管理方维护。"))
if admin:
    render_editor(rows)
