"""统计: mention volume per hour (or day), and mentions by tier, source and category, over a window.

Every figure is counted in the database (GROUP BY, :mod:`rcops.operations.desk`)
and cached briefly, so the page stays fast with 100,000 mentions; the charts get
a few hundred aggregated rows at most.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import altair as alt
import pandas as pd
import streamlit as st

from rcops.classifier.category import CATEGORIES
from rcops.dashboard import common
from rcops.operations import desk as desk_queries
from rcops.plans.schema import TierDef
from rcops.plans.store_io import tier_defs
from rcops.store.settings import get_settings

#: window label → hours (None: everything stored)
WINDOWS: dict[str, int | None] = {"近 24 小时": 24, "近 7 天": 24 * 7, "近 30 天": 24 * 30, "全部": None}
UNGRADED = "未分级"
UNCLASSIFIED = "未分类"


@st.cache_data(ttl=60, show_spinner=False)
def figures(db_url: str, hours: int | None) -> dict[str, object]:
    """The page's aggregates for a window ending now (cached for a minute per window)."""
    since = datetime.now(timezone.utc) - timedelta(hours=hours) if hours else None
    with common.read_session() as s:
        return {
            "per_hour": desk_queries.mentions_per_hour(s, since),
            "by_tier": desk_queries.mentions_by_tier(s, since),
            "by_source": desk_queries.mentions_by_source(s, since),
            "by_category": desk_queries.mentions_by_category(s, since),
        }


def volume_frame(per_hour: list[tuple[datetime, str | None, int]], tiers: list[TierDef], daily: bool) -> pd.DataFrame:
    """Aggregated (hour, tier, count) rows in the display zone, rolled up to days for long windows."""
    zone = common.display_zone()
    counts: Counter[tuple[datetime, str]] = Counter()
    for hour, code, n in per_hour:
        local = hour.astimezone(zone).replace(tzinfo=None)
        if daily:
            local = local.replace(hour=0)
        counts[(local, common.tier_label(code, tiers) if code else UNGRADED)] += n
    return pd.DataFrame([{"时段": t, "等级": label, "信息条数": n} for (t, label), n in sorted(counts.items())])


def tier_scale(tiers: list[TierDef]) -> alt.Scale:
    return alt.Scale(domain=[t.label for t in tiers] + [UNGRADED],
                     range=[common.tier_chart_color(t.code, tiers) for t in tiers] + [common.CHART_COLORS["gray"]])


def bar(df: pd.DataFrame, category: str, value: str, sort: list[str] | str = "-x", color: alt.Color | None = None,
        height: int = 260) -> alt.Chart:
    enc = {"y": alt.Y(f"{category}:N", sort=sort, title=None), "x": alt.X(f"{value}:Q", axis=alt.Axis(tickMinStep=1)),
           "tooltip": [category, value]}
    if color is not None:
        enc["color"] = color
    return alt.Chart(df).mark_bar().encode(**enc).properties(height=height)


st.title("统计")
window = st.segmented_control("时间范围", options=list(WINDOWS), default="近 7 天", key="stats_window")
hours = WINDOWS[window or "近 7 天"]
with common.read_session() as s:
    tiers = tier_defs(s)
data = figures(get_settings().db_url, hours)
total = sum(data["by_tier"].values())  # type: ignore[attr-defined]
st.metric("信息条数", total, border=True, help="时间范围内采集入库的信息（含人工录入）")
if not total:
    st.info("该时间范围内没有信息。")
    st.stop()

daily = hours is None or hours > 48
st.markdown(f"**信息量走势（每{'日' if daily else '小时'}，按信息等级）**")
volume = volume_frame(data["per_hour"], tiers, daily)  # type: ignore[arg-type]
st.altair_chart(
    alt.Chart(volume).mark_bar().encode(
        x=alt.X("时段:T", title=None, axis=alt.Axis(format="%m-%d" if daily else "%d日%H时", labelAngle=0,
                                                    tickCount=8)),
        y=alt.Y("sum(信息条数):Q", title="信息条数", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("等级:N", scale=tier_scale(tiers), legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("时段:T", format="%Y-%m-%d %H:00"), "等级", alt.Tooltip("sum(信息条数):Q", title="条数")],
    ).properties(height=240),
    width="stretch",
)

left, right = st.columns(2)
with left:
    st.markdown("**信息等级分布**")
    by_tier = data["by_tier"]
    labels = [t.label for t in tiers] + [UNGRADED]
    df = pd.DataFrame({"等级": labels,
                       "信息条数": [by_tier.get(t.code, 0) for t in tiers] + [by_tier.get(None, 0)]})  # type: ignore[attr-defined]
    st.altair_chart(bar(df, "等级", "信息条数", sort=labels,
                        color=alt.Color("等级:N", scale=tier_scale(tiers), legend=None)), width="stretch")
with right:
    st.markdown("**信息类别分布**")
    by_cat = data["by_category"]
    cats = list(CATEGORIES) + sorted(c for c in by_cat if c and c not in CATEGORIES) + [UNCLASSIFIED]  # type: ignore[attr-defined]
    df = pd.DataFrame({"类别": cats, "信息条数": [by_cat.get(None if c == UNCLASSIFIED else c, 0) for c in cats]})  # type: ignore[attr-defined]
    st.altair_chart(bar(df[df["信息条数"] > 0], "类别", "信息条数"), width="stretch")

st.markdown("**信息来源（前 20）**")
df = pd.DataFrame(data["by_source"], columns=["来源", "信息条数"])  # type: ignore[arg-type]
st.altair_chart(bar(df, "来源", "信息条数", height=max(120, 26 * len(df))), width="stretch")
st.caption(f"统计于 {common.fmt_time(datetime.now(timezone.utc))}，每分钟更新；时间按"
           f"{get_settings().timezone}显示。")
