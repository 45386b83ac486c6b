"""Account commands: ``rcops users create NAME --role admin|operator|institution|auditor
[--password-stdin]`` and ``rcops users list [--json]``.

The command line runs as the ``system`` actor, so the first administrator is
created here. Thin: each command opens one session and calls
:mod:`rcops.operations.accounts` (the console calls the same functions).
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rcops.pipeline.commands import open_session

out = Console()
err = Console(stderr=True)

users_app = typer.Typer(help="用户与角色：create 新建用户，list 列出用户", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]错误：[/]{message}", highlight=False)
    return typer.Exit(code=1)


_session = open_session


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再次输入密码：") != first:
        raise _fail("两次输入的密码不一致")
    return first


@users_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="用户名（登录名）")],
    role: Annotated[str, typer.Option("--role", help="角色：admin 管理方 / operator 运营方 / institution 金融机构用户 / auditor 审计")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码（一行）")] = False,
    display_name: Annotated[str, typer.Option("--display-name", help="显示名（姓名）")] = "",
    institution: Annotated[str, typer.Option("--institution", help="所属金融机构（金融机构用户）")] = "",
) -> None:
    """新建用户（以 system 身份执行，可用于创建第一个管理员）。"""
    from rcops.operations.accounts import AccountError
    from rcops.store.access import ROLES
    from rcops.store.exceptions import StoreError

    if role not in ROLES:
        raise _fail(f"未知的角色“{role}”，可选：{'、'.join(f'{k}（{v}）' for k, v in ROLES.items())}")
    password = _read_password(password_stdin)
    try:
        from rcops.operations.accounts import create_user

        with _session(write=True) as session:
            user = create_user(session, name, role, password, display_name=display_name, institution=institution)
            label = f"{user.username}（{ROLES[user.role]}）"
    except (AccountError, StoreError) as exc:
        raise _fail(str(exc)) from exc
    out.print(f"[green]已创建用户[/] {label}", highlight=False)


@users_app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False) -> None:
    """列出用户、角色、状态与最近登录时间。"""
    from rcops.operations.accounts import list_users
    from rcops.store.access import ROLES
    from rcops.store.exceptions import StoreError

    try:
        with _session() as session:
            rows = [
                {"username": u.username, "display_name": u.display_name, "role": u.role,
                 "role_label": ROLES.get(u.role, u.role), "institution": u.institution, "active": u.active,
                 "locked_until": u.locked_until.isoformat() if u.locked_until else None,
                 "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None}
                for u in list_users(session)
            ]
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"用户（{len(rows)}）")
    for col in ("用户名", "显示名", "角色", "所属机构", "状态", "最近登录"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["username"], r["display_name"], r["role_label"], r["institution"] or "—",
                      "启用" if r["active"] else "停用", r["last_login_at"] or "—")
    out.print(table)


def create_demo_accounts() -> str:
    """Create the demo accounts (idempotent) and return the log line naming them and their passwords."""
    import logging

    from rcops.operations.accounts import ensure_demo_accounts
    from rcops.store.access import ROLES

    with _session(write=True) as session:
        shown = ensure_demo_accounts(session)
    line = "演示账户（用户名 / 密码）：" + "；".join(f"{ROLES[r]} {u} / {p}" for u, r, p in shown)
    logging.getLogger("rcops").info(line)
    return line


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
