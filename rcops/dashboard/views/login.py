"""登录: user name and password; wrong passwords, lockouts and expired sessions are told in Chinese."""

from __future__ import annotations

import streamlit as st

from rcops.dashboard import common


def _submit() -> None:
    error = common.sign_in(st.session_state.get("login_username", ""), st.session_state.get("login_password", ""))
    st.session_state["login_password"] = ""
    if error:
        st.session_state["login_error"] = error
    else:
        st.session_state.pop("auth_notice", None)


_, middle, _ = st.columns([1, 1.4, 1])
with middle:
    st.title("登录")
    st.caption("农村信用信息系统 · 运营后台")
    notice = st.session_state.pop("auth_notice", None)
    if notice:
        st.info(notice)
    error = st.session_state.pop("login_error", None)
    if error:
        st.error(error)
    with st.form("login_form"):
        st.text_input("用户名", key="login_username", autocomplete="username")
        st.text_input("密码", key="login_password", type="password", autocomplete="current-password")
        st.form_submit_button("登录", key="login_submit", type="primary", on_click=_submit, width="stretch")
    st.caption("账户由管理方开设；连续 5 次密码错误，账户锁定 15 分钟；30 分钟未操作需重新登录。")
