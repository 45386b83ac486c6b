"""信息源: every source with its health (read-only; sources are added with ``rcops sources add``)."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from rcops.crawlers.health import source_health
from rcops.dashboard import common

KINDS = {"rss": "RSS", "html": "网页列表/详情", "api": "JSON 接口", "sitemap": "站点地图"}
MEDIA = {"central": "中央", "provincial": "省级", "municipal": "地市", "industry": "行业", "self_media": "自媒体"}
STATUS = {"ok": "成功", "failed": "失败", "running": "运行中", None: "—"}

st.title("信息源")
with common.read_session() as s:
    rows = source_health(s, datetime.now(timezone.utc))
if not rows:
    st.info("尚未配置信息源。运维人员可用 `rcops sources add 文件.yaml` 添加。")
    st.stop()

bad = [r for r in rows if r["state"] == "异常"]
c1, c2, c3 = st.columns(3)
c1.metric("信息源", len(rows), border=True)
c2.metric("正常", sum(1 for r in rows if r["state"] == "正常"), border=True)
c3.metric("异常", len(bad), border=True, help="静默、乱码或连续失败")
for r in bad:
    st.warning(f"{r['name']}：{'、'.join(r['flags'])}" + (f"（最近错误：{r['last_error']}）" if r["last_error"] else ""))

st.dataframe(pd.DataFrame([
    {
        "信息源": r["name"], "类型": KINDS.get(r["kind"], r["kind"]), "媒体级别": MEDIA.get(r["media_level"], r["media_level"]),
        "状态": r["state"], "标记": "、".join(r["flags"]), "最近抓取": common.fmt_time(r["last_run_at"]),
        "结果": STATUS.get(r["last_status"], r["last_status"]), "最近成功": common.fmt_time(r["last_success_at"]),
        "连续失败": r["consecutive_failures"], "本次/通常条数": f"{r['last_yield'] if r['last_yield'] is not None else '—'}"
        f" / {r['usual_yield'] if r['usual_yield'] is not None else '—'}",
        "最新信息": common.fmt_time(r["newest_item_at"]), "周期（分钟）": r["interval_seconds"] // 60,
        "启用": "是" if r["enabled"] else "否", "地址": r["url"],
    }
    for r in rows
]), hide_index=True, width="stretch")
st.caption("只读。信息源由运维人员以 `rcops sources add` 添加或更新；健康度按最近 20 次抓取计算。")
