"""Entry of the operations console: ``streamlit run rcops/dashboard/app.py``.

A thin router: page setup, the user in the sidebar, a check that the database
is usable, then the page the user chose. Each page is one module in ``views/``.
"""

from __future__ import annotations

import streamlit as st

from rcops.dashboard import common

st.set_page_config(page_title="农村信用信息系统 · 运营后台", layout="wide")
st.set_option("client.toolbarMode", "viewer")  # no developer "Deploy" menu for operators

PAGES = [
    st.Page("views/alerts.py", title="预警台", icon=":material/notifications_active:", default=True),
    st.Page("views/incident.py", title="事件详情", icon=":material/assignment:"),
    st.Page("views/status.py", title="运行状态", icon=":material/monitor_heart:"),
]

page = st.navigation(PAGES)
common.render_sidebar()
common.get_engine()  # stops every page with a Chinese message when the database is not ready
page.run()
