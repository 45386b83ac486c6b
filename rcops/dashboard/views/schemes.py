"""监测方案: the enabled monitoring schemes and their word groups (read-only)."""

from __future__ import annotations

import streamlit as st

from rcops.crawlers.schemes import enabled_schemes
from rcops.dashboard import common

GROUPS = [("subject_words", "主体词"), ("region_words", "地域词"), ("event_words", "事件词"), ("exclusion_words", "排除词")]

st.title("监测方案")
with common.read_session() as s:
    schemes, problems = enabled_schemes(s)
for p in problems:
    st.warning(p)
if not schemes:
    st.info("没有启用的监测方案。")
    st.stop()
for scheme in schemes:
    with st.container(border=True):
        st.markdown(f"**{common.md_escape(scheme['name'])}**")
        for key, label in GROUPS:
            words = scheme.get(key) or []
            st.markdown(f"{label}：" + ("、".join(common.md_escape(w) for w in words) if words else "—"))
        if scheme.get("expression") is not None:
            st.caption("另有高级表达式（AND/OR/NOT），可用 `rcops schemes test` 预览匹配结果。")
st.caption("只读。监测方案由管理方在配置文件中维护，用 `rcops init` 或 `rcops sources add` 载入。")
