"""Entry of the operations console: ``streamlit run rcops/dashboard/app.py``.

A thin router: page setup, a check that the database is usable, sign-in, then
the pages the user's role may open. Each page is one module in ``views/``.
Pages hide what the role may not do; the functions they call refuse it too
(``rcops.store.access``).
"""

from __future__ import annotations

import streamlit as st

from rcops.dashboard import common

st.set_page_config(page_title="农村信用信息系统 · 运营后台", layout="wide")
st.set_option("client.toolbarMode", "viewer")  # no developer "Deploy" menu for operators

common.get_engine()  # stops every page with a Chinese message when the database is not ready
user = common.current_user()

if user is None:
    page = st.navigation([st.Page("views/login.py", title="登录", icon=":material/login:", default=True)],
                         position="hidden")
else:
    pages = [
        st.Page("views/alerts.py", title="预警台", icon=":material/notifications_active:", default=True),
        st.Page("views/incident.py", title="事件详情", icon=":material/assignment:"),
    ]
    if common.can("incident.view"):
        pages.append(st.Page("views/reports.py", title="报告", icon=":material/description:"))
    pages.append(st.Page("views/stats.py", title="统计", icon=":material/bar_chart:"))
    if common.can("mentions.search"):
        pages.append(st.Page("views/search.py", title="信息检索", icon=":material/search:"))
    pages.append(st.Page("views/schemes.py", title="监测方案", icon=":material/manage_search:"))
    pages.append(st.Page("views/sources.py", title="信息源", icon=":material/rss_feed:"))
    pages.append(st.Page("views/rules.py", title="分级与预案", icon=":material/rule:"))
    pages.append(st.Page("views/status.py", title="运行状态", icon=":material/monitor_heart:"))
    if common.can("users.manage") or common.can("audit.view"):
        pages.append(st.Page("views/system.py", title="系统", icon=":material/admin_panel_settings:"))
    pages.append(st.Page("views/account.py", title="账户", icon=":material/account_circle:"))
    page = st.navigation(pages)
    common.render_sidebar()
page.run()
