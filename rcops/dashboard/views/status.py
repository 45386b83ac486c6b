"""运行状态: what the system holds and how the last crawl of each source went."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rcops.dashboard import common
from rcops.plans.store_io import tier_defs
from rcops.triage import service
from rcops.triage.lifecycle import STATE_LABELS

st.title("运行状态")

with common.read_session() as s:
    tiers = tier_defs(s)
    stat = service.status(s)

cols = st.columns(6)
cols[0].metric("信息源", stat.sources, border=True)
cols[1].metric("信息总数", stat.mentions, border=True)
cols[2].metric("已评分信息", stat.mentions_graded, border=True)
cols[3].metric("舆情事件", sum(stat.incidents_by_state.values()), border=True)
cols[4].metric("任务", sum(stat.tasks_by_status.values()), border=True)
cols[5].metric("超时任务", stat.tasks_overdue, border=True, help="已过时限仍未完成的任务")

by_state, by_tier, by_task = st.columns(3)
with by_state:
    st.markdown("**事件（按状态）**")
    st.dataframe(
        pd.DataFrame(
            [{"状态": label, "事件数": stat.incidents_by_state.get(code, 0)} for code, label in STATE_LABELS.items()]
        ),
        hide_index=True,
        width="stretch",
    )
with by_tier:
    st.markdown("**事件（按等级）**")
    codes = [t.code for t in tiers] + sorted(set(stat.incidents_by_tier) - {t.code for t in tiers})
    st.dataframe(
        pd.DataFrame(
            [{"等级": common.tier_label(c, tiers), "事件数": stat.incidents_by_tier.get(c, 0)} for c in codes]
        ),
        hide_index=True,
        width="stretch",
    )
with by_task:
    st.markdown("**任务（按状态）**")
    st.dataframe(
        pd.DataFrame(
            [{"状态": label, "任务数": stat.tasks_by_status.get(code, 0)}
             for code, label in common.TASK_STATUS_LABELS.items()]
        ),
        hide_index=True,
        width="stretch",
    )

st.subheader("各信息源最近一次采集", anchor=False)
if not stat.last_runs:
    st.info("尚无采集记录。运行 `rcops run` 或 `rcops demo` 开始采集。")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "信息源": r["name"],
                    "代码": r["source"],
                    "状态": common.CRAWL_STATUS_LABELS.get(r["status"], r["status"]),
                    "开始时间": common.fmt_time(r["started_at"]),
                    "结束时间": common.fmt_time(r["finished_at"]),
                    "发现条数": r["items_seen"],
                    "入库条数": r["items_stored"],
                    "重复条数": r["items_duplicate"],
                    "累计采集次数": r["runs_total"],
                    "错误": r["error"] or "",
                }
                for r in stat.last_runs
            ]
        ),
        hide_index=True,
        width="stretch",
    )
