"""账户: who is signed in, and changing one's own password (old password required,
the accounts' password policy, audited; other sign-ins of the account end)."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from rcops.dashboard import common
from rcops.operations import accounts

FIELDS = ("pw_old", "pw_new", "pw_again")


def _change() -> None:
    old, new, again = (st.session_state.get(k, "") for k in FIELDS)
    for key in FIELDS:  # passwords never stay in the page state
        st.session_state[key] = ""
    if new != again:
        common.flash("error", "两次输入的新密码不一致，密码未修改。")
        return
    token = st.session_state.get("auth_token")

    refused: list[str] = []

    def act(session: Session, actor: str) -> None:  # a refusal is stored in this transaction, so it commits
        refusal = accounts.attempt_password_change(session, actor, old, new, keep_token=token)
        if refusal is not None:
            refused.append(refusal)

    if common.run_action(act, "密码已修改；该账户在其他地方的登录已全部退出。") and refused:
        st.session_state["_flash"] = [("error", refused[0])]  # instead of the success message


st.title("账户")
common.show_flash()
user = st.session_state.get("auth_user")
if user is not None:
    st.markdown(f"用户名：**{common.md_escape(user.username)}** · 显示名：{common.md_escape(user.display_name)} · "
                f"角色：{user.role_label}" + (f" · 所属机构：{common.md_escape(user.institution)}" if user.institution else ""))

st.subheader("修改密码", anchor=False)
with st.form("password_form"):
    st.text_input("原密码", key="pw_old", type="password", autocomplete="current-password")
    st.text_input(f"新密码（至少 {accounts.MIN_PASSWORD_LENGTH} 个字符）", key="pw_new", type="password",
                  autocomplete="new-password")
    st.text_input("再次输入新密码", key="pw_again", type="password", autocomplete="new-password")
    st.form_submit_button("修改密码", key="pw_submit", type="primary", on_click=_change)
st.caption("修改后请用新密码登录；忘记密码请联系管理方。")
