"""信息检索: stored mentions by words, time, source, tier and risk; export CSV and Excel.

Results come from :mod:`rcops.operations.search` (which checks the role);
crawled text is shown in a table and as plain text, never as HTML.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from rcops.dashboard import common
from rcops.operations import search
from rcops.plans.store_io import tier_defs
from rcops.store.access import PermissionDenied

UNGRADED = "__none__"

st.title("信息检索")

with common.read_session() as s:
    tiers = tier_defs(s)
    sources = search.list_sources(s)
source_names = dict(sources)
tier_options = [t.code for t in tiers] + [UNGRADED]
tier_names = {t.code: t.label for t in tiers} | {UNGRADED: "未分级"}

with st.form("search_form"):
    st.text_input("关键词（空格分隔，须全部出现在标题或正文中）", key="q_words", placeholder="例如：征信 泄露")
    c1, c2, c3 = st.columns(3)
    today = datetime.now(common.display_zone()).date()
    c1.date_input("采集时间范围", value=(today - timedelta(days=30), today), key="q_dates", format="YYYY-MM-DD")
    c2.multiselect("来源", options=list(source_names), format_func=source_names.__getitem__, key="q_sources",
                   placeholder="全部来源")
    c3.multiselect("等级", options=tier_options, format_func=tier_names.__getitem__, key="q_tiers",
                   placeholder="全部等级")
    st.slider("风险分（负面倾向）", min_value=0.0, max_value=1.0, value=(0.0, 1.0), step=0.05, key="q_risk")
    st.form_submit_button("检索", key="q_submit", type="primary", icon=":material/search:")


def build_query() -> search.MentionQuery:
    zone = common.display_zone()
    dates = st.session_state.get("q_dates") or ()
    since = until = None
    if isinstance(dates, (tuple, list)) and len(dates) >= 1 and isinstance(dates[0], date):
        since = datetime.combine(dates[0], time.min, zone)
        end = dates[1] if len(dates) > 1 else dates[0]
        until = datetime.combine(end + timedelta(days=1), time.min, zone)
    picked = list(st.session_state.get("q_tiers") or [])
    risk = st.session_state.get("q_risk") or (0.0, 1.0)
    return search.MentionQuery(
        words=st.session_state.get("q_words", ""),
        since=since,
        until=until,
        source_ids=list(st.session_state.get("q_sources") or []),
        tier_codes=[c for c in picked if c != UNGRADED] or (["__none_only__"] if picked else []),
        include_ungraded=UNGRADED in picked,
        risk_min=risk[0] if risk[0] > 0 else None,
        risk_max=risk[1] if risk[1] < 1 else None,
    )


query = build_query()
try:
    with common.read_session() as s:
        total, rows = search.search_mentions(s, query, common.current_actor())
except PermissionDenied as exc:
    st.error(str(exc))
    st.stop()

st.markdown(f"共 **{total}** 条" + (f"，显示最新 {len(rows)} 条" if total > len(rows) else ""))
if rows:
    table = pd.DataFrame([
        {"采集时间": common.fmt_time(r["crawled_at"]), "来源": r["source"], "标题": r["title"],
         "风险分": round(r["risk_score"], 2) if r["risk_score"] is not None else None,
         "等级": common.tier_label(r["tier"], tiers) if r["tier"] else "未分级", "传播量": r["reach"],
         "事件": f"#{r['incident_id']}" if r["incident_id"] else "", "链接": r["url"]}
        for r in rows
    ])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"链接": st.column_config.LinkColumn("链接", display_text="原文")})
    with st.expander("查看正文（前 20 条）"):
        for r in rows[:20]:
            st.markdown(f"**{common.md_escape(r['title'])}** — {common.md_escape(r['source'])} · "
                        f"{common.fmt_time(r['crawled_at'])}")
            st.text(r["text"][:1000], wrap=True)  # untrusted: plain text only
else:
    st.info("没有符合条件的信息。")

if common.can("mentions.export") and total:
    st.markdown("**导出**（以“'”开头的单元格为防止公式注入而加的前缀）")

    def _export(fmt: str) -> bytes:
        with common.write_session() as s:
            return search.export_mentions(s, query, common.current_actor(), fmt, common.display_zone())

    c1, c2, _ = st.columns([1, 1, 4])
    stamp = datetime.now(common.display_zone()).strftime("%Y%m%d-%H%M")
    c1.download_button("导出 CSV", data=lambda: _export("csv"), file_name=f"信息检索-{stamp}.csv",
                       mime="text/csv", key="export_csv", icon=":material/download:", on_click="ignore")
    c2.download_button("导出 Excel", data=lambda: _export("xlsx"), file_name=f"信息检索-{stamp}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="export_xlsx",
                       icon=":material/download:", on_click="ignore")
