"""预警台: open incidents, gravest first, with counts, charts and the next deadline.

Refreshes itself every few seconds while open. "查看" opens the incident page.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import altair as alt
import pandas as pd
import streamlit as st

from rcops.dashboard import common
from rcops.operations import desk as desk_queries
from rcops.plans.schema import ROLES, TierDef
from rcops.plans.store_io import tier_defs
from rcops.store.models import Incident, Task
from rcops.store.settings import get_settings
from rcops.triage import service
from rcops.triage.lifecycle import OPEN_STATES, STATE_LABELS

OPEN = sorted(OPEN_STATES)
CHART_HOURS = 24


#: open incidents listed on the desk (the counts above cover all of them)
DESK_ROWS = 50


@st.cache_data(ttl=60, show_spinner=False)
def mentions_per_hour(db_url: str, key: tuple[tuple[str, int], ...]) -> list[dict[str, object]]:
    """Mentions of the open incidents in the last hours, per hour and tier (one query, cached briefly).

    ``key`` (open incidents per tier) changes the cache key when incidents come, go or are regraded.
    """
    zone = common.display_zone()
    this_hour = datetime.now(zone).replace(minute=0, second=0, microsecond=0)
    since = this_hour - timedelta(hours=CHART_HOURS - 1)
    counts: Counter[tuple[datetime, str]] = Counter()
    with common.read_session() as s:  # counted per hour in the database, not per mention here
        for hour, tier_code, n in desk_queries.mentions_per_hour(s, since, incident_states=OPEN):
            counts[(hour.astimezone(zone).replace(tzinfo=None), tier_code or "")] += n
    return [{"hour": h, "tier": code, "count": n} for (h, code), n in sorted(counts.items())]


def next_task(incident: Incident) -> Task | None:
    pending = [t for t in incident.tasks if t.status == "open"]
    return min(pending, key=lambda t: t.due_at) if pending else None


def render_counts(per_tier: dict[str, int], tiers: list[TierDef], overdue: int) -> None:
    cols = st.columns(len(tiers) + 2)
    for col, t in zip(cols, tiers):
        col.metric(t.label, per_tier.get(t.code, 0), border=True)
    cols[-2].metric("在办事件", sum(per_tier.values()), border=True, help="待研判、已研判、处置中的事件")
    cols[-1].metric("超时任务", overdue, border=True, help="已过时限仍未完成的任务")


def render_charts(per_tier: dict[str, int], tiers: list[TierDef]) -> None:
    labels = [t.label for t in tiers]
    colors = [common.tier_chart_color(t.code, tiers) for t in tiers]
    scale = alt.Scale(domain=labels, range=colors)
    left, right = st.columns(2)
    with left:
        st.markdown("**在办事件等级分布**")
        df = pd.DataFrame({"等级": labels, "事件数": [per_tier.get(t.code, 0) for t in tiers]})
        chart = (
            alt.Chart(df)
            .mark_bar()
            .encode(
                x=alt.X("等级:N", sort=labels, axis=alt.Axis(labelAngle=0, title=None)),
                y=alt.Y("事件数:Q", axis=alt.Axis(tickMinStep=1)),
                color=alt.Color("等级:N", scale=scale, legend=None),
                tooltip=["等级", "事件数"],
            )
            .properties(height=220)
        )
        st.altair_chart(chart, width="stretch")
    with right:
        st.markdown(f"**近 {CHART_HOURS} 小时在办事件的信息量（每小时）**")
        rows = mentions_per_hour(get_settings().db_url, tuple(sorted(per_tier.items())))
        if not rows:
            st.caption("近期没有新的信息。")
            return
        df = pd.DataFrame(rows)
        df["等级"] = [common.tier_label(c, tiers) for c in df["tier"]]
        df["时段"] = [h.strftime("%d日%H时") for h in df["hour"]]
        end = datetime.now(common.display_zone()).replace(minute=0, second=0, microsecond=0, tzinfo=None)
        hours = [(end - timedelta(hours=n)).strftime("%d日%H时") for n in range(CHART_HOURS - 1, -1, -1)]
        chart = (
            alt.Chart(df)
            .mark_bar()
            .encode(
                x=alt.X("时段:O", scale=alt.Scale(domain=hours), title=None,
                        axis=alt.Axis(labelAngle=0, values=hours[::4])),
                y=alt.Y("sum(count):Q", title="信息条数", axis=alt.Axis(tickMinStep=1)),
                color=alt.Color("等级:N", scale=scale, legend=alt.Legend(title=None, orient="top")),
                order=alt.Order("tier:N"),
                tooltip=["时段", "等级", alt.Tooltip("sum(count):Q", title="条数")],
            )
            .properties(height=220)
        )
        st.altair_chart(chart, width="stretch")


def render_row(incident: Incident, tiers: list[TierDef]) -> None:
    with st.container(border=True):
        badge, body, deadline, action = st.columns([1.3, 6, 3.2, 0.9], vertical_alignment="center")
        with badge:
            common.tier_badge(incident.tier_code, tiers)
        with body:
            st.markdown(f"**{common.md_escape(incident.title)}**")
            st.caption(
                f"{STATE_LABELS.get(incident.state, incident.state)} · 信息 {incident.mention_count} 条 · "
                f"最高风险分 {incident.max_risk_score:.2f} · 最近信息 {common.fmt_time(incident.last_mention_at)}"
            )
        with deadline:
            task = next_task(incident)
            if task is None:
                st.caption("无待办任务")
            else:
                st.markdown(common.countdown_md(task.due_at))
                st.caption(f"{common.md_escape(task.title)}（{ROLES.get(task.role, task.role)}）· "
                           f"时限 {common.fmt_time(task.due_at)}")
        with action:
            if st.button("查看", key=f"view_{incident.id}", type="primary", width="stretch"):
                st.session_state["incident_id"] = incident.id
                st.switch_page("views/incident.py")


@st.fragment(run_every=common.REFRESH_SECONDS)
def desk() -> None:
    with common.read_session() as s:
        tiers = tier_defs(s)
        per_tier = desk_queries.incident_counts_by_tier(s, OPEN)
        incidents = desk_queries.top_incidents(s, OPEN, {t.code: t.rank for t in tiers}, DESK_ROWS)
        overdue = service.status(s).tasks_overdue
    total = sum(per_tier.values())
    render_counts(per_tier, tiers, overdue)
    if total:
        render_charts(per_tier, tiers)
    st.subheader(f"在办事件（{total}）")
    if not incidents:
        st.info("当前没有待研判或处置中的舆情事件。")
    if total > len(incidents):
        st.caption(f"按等级与时间显示前 {len(incidents)} 件；其余请在“事件详情”中选择或用“信息检索”查找。")
    for incident in incidents:
        render_row(incident, tiers)
    st.caption(f"每 {common.REFRESH_SECONDS} 秒自动刷新 · 更新于 {common.fmt_time(datetime.now(timezone.utc))}")


st.title("预警台")
desk()
