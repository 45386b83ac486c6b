"""``rcops users create`` / ``rcops users list`` as a user runs them: in this process (tests/support/cli.py) on a real database."""

from __future__ import annotations

import json
import subprocess

from rcops.operations.accounts import sign_in
from tests.pipeline.test_cli import env_for
from tests.support.cli import rcops


def test_first_admin_from_the_cli_then_list_and_chinese_errors(settings, engine, session_factory) -> None:
    env = env_for(settings)

    def create(*args: str, password: str) -> subprocess.CompletedProcess[str]:
        return rcops(env, "users", "create", *args, "--password-stdin", input=password + "\n")

    ok = create("chief", "--role", "admin", "--display-name", "王主任", password="chief-password-1")
    assert ok.returncode == 0, ok.stderr
    assert "已创建用户 chief（管理方）" in ok.stdout
    dup = create("chief", "--role", "operator", password="another-password")
    assert dup.returncode == 1 and "用户名“chief”已存在" in dup.stderr
    bad = create("li", "--role", "boss", password="another-password")
    assert bad.returncode == 1 and "未知的角色“boss”" in bad.stderr
    weak = create("li", "--role", "operator", password="short")
    assert weak.returncode == 1 and "密码至少 8 个字符" in weak.stderr
    listed = rcops(env, "users", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["username"], r["role"], r["display_name"], r["active"]) for r in rows] == [
        ("chief", "admin", "王主任", True)]
    with session_factory.begin() as s:
        assert sign_in(s, "chief", "chief-password-1").ok
    table = rcops(env, "users", "list")
    assert table.returncode == 0 and "管理方" in table.stdout
