"""Who may do what: the role × action matrix, checked inside the functions.

Every function that changes something (triage actions, installing rules,
managing users …) calls :func:`require` first, with the caller's session and
the name of the actor. The console hides what a role may not do, but the
functions refuse it as well, so the CLI, the scheduler and the console are held
to the same rules.

Actors:

- a user name of the ``app_user`` table: the user's role decides; an unknown
  or deactivated user may do nothing;
- ``system`` (the scheduler, ``rcops init``, ``rcops users create``): allowed
  the actions in :data:`SYSTEM_ACTIONS`, never a human judgement such as
  confirming a tier;
- no account at all (a fresh database before the first
  ``rcops users create NAME --role admin``): only ``system`` may act; a named
  actor is refused with a message that says how to create the first
  administrator (the command line's ``users create`` runs as ``system``).
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from .exceptions import StoreError
from .models_accounts import User

SYSTEM_ACTOR = "system"

#: role code → Chinese name
ROLES: dict[str, str] = {
    "admin": "管理方",
    "operator": "运营方",
    "institution": "金融机构用户",
    "auditor": "审计（只读）",
}

#: action → Chinese description (used in messages)
ACTIONS: dict[str, str] = {
    "incident.view": "查看舆情事件",
    "incident.confirm": "研判（确认或修改等级）",
    "incident.dismiss": "排除事件",
    "incident.dispose": "开始处置",
    "incident.resolve": "办结事件",
    "incident.reopen": "重新打开事件",
    "task.complete": "完成任务",
    "task.assign": "指派任务",
    "task.comment": "给任务加批注",
    "report.write": "起草、修改、提交或更正分析报告",
    "report.archive": "归档分析报告",
    "plans.view": "查看分级与预案",
    "plans.edit": "修改分级与预案",
    "mentions.search": "检索信息",
    "mentions.export": "导出信息",
    "mentions.import": "导入人工监测信息",
    "users.manage": "管理用户与角色",
    "monitoring.edit": "新增、修改、启用或停用信息源与监测方案",
    "roster.manage": "管理值班表",
    "audit.view": "查看审计日志",
    "status.view": "查看运行状态",
}

_READ = {"incident.view", "plans.view", "mentions.search", "status.view"}
_DISPOSE = {"incident.confirm", "incident.dismiss", "incident.dispose", "incident.resolve", "incident.reopen",
            "task.complete", "task.assign", "task.comment", "mentions.export", "mentions.import",
            "report.write"}

#: role → actions it may perform
MATRIX: dict[str, frozenset[str]] = {
    "admin": frozenset(ACTIONS),
    "operator": frozenset(_READ | _DISPOSE),
    "institution": frozenset({"incident.view", "plans.view", "mentions.search"}),
    "auditor": frozenset(_READ | {"audit.view", "mentions.export"}),
}

#: what the ``system`` actor may do: machine work and bootstrap, not human judgement
SYSTEM_ACTIONS: frozenset[str] = frozenset(
    _READ | {"plans.edit", "monitoring.edit", "users.manage", "audit.view", "mentions.export"}
)


class PermissionDenied(StoreError):
    """The actor's role does not allow the action (message in Chinese)."""


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may perform ``action`` (no database involved)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return action in MATRIX.get(role, frozenset())


def role_of(session: Session, actor: str) -> str | None:
    """The role of an active user named ``actor``, or None."""
    return session.scalar(select(User.role).where(User.username == actor, User.active.is_(True)))


def require(session: Session, actor: str, action: str) -> None:
    """Raise PermissionDenied unless ``actor`` may perform ``action``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    what = ACTIONS[action]
    if not actor.strip():
        raise PermissionDenied(f"未指明操作人，不能{what}：命令行请加 --actor 账号名（或设置环境变量 RCOPS_ACTOR）")
    if actor == SYSTEM_ACTOR:
        if action in SYSTEM_ACTIONS:
            return
        raise PermissionDenied(f"“{what}”须由有权限的用户本人操作，系统不能代为执行")
    role = role_of(session, actor)
    if role is None:
        if not session.scalar(select(exists().where(User.id.is_not(None)))):
            raise PermissionDenied(
                f"系统中还没有任何账户，“{actor}”不能{what}。请先在服务器上运行 "
                "`rcops users create 用户名 --role admin` 创建第一个管理员账户，再以该账户操作"
            )
        raise PermissionDenied(f"用户“{actor}”不存在或已停用，不能{what}")
    if action not in MATRIX.get(role, frozenset()):
        raise PermissionDenied(f"{ROLES.get(role, role)}“{actor}”无权{what}；如需此权限请联系管理方")


__all__ = ["ROLES", "ACTIONS", "MATRIX", "SYSTEM_ACTIONS", "SYSTEM_ACTOR", "PermissionDenied", "allowed",
           "role_of", "require"]
