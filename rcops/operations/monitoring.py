"""Administrators edit sources and monitoring schemes from the console.

Thin wrappers over :mod:`rcops.crawlers.sources` (which validates a definition and
upserts it with an audit event): each checks ``monitoring.edit`` first, so only
administrators (and ``system``) change what is monitored. Definitions have the
shape of the ``rcops sources add`` file (see that module's docstring).

Addresses on this machine are refused, as in ``rcops sources add``, unless the
source already has that very address (a local test site added from the command
line with ``--allow-local`` can still be renamed, disabled or enabled).

Errors: :class:`~rcops.crawlers.exceptions.SourceConfigError` (an invalid
definition, Chinese message naming the field), PermissionDenied, and
:class:`UnknownDefinition` (no source or scheme of that key or name), and
:class:`StaleDefinition`: the editor passes the definitions it loaded as ``expected``
and a save over a colleague's change made since is refused (nothing is written).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.crawlers import sources as defs
from rcops.crawlers.exceptions import SourceConfigError
from rcops.store.access import require
from rcops.store.models import MonitoringScheme, Source

ACTION = "monitoring.edit"


class UnknownDefinition(SourceConfigError):
    """No source with this key, or no scheme with this name."""


class StaleDefinition(SourceConfigError):
    """The definition was changed (or removed) by someone else since the editor loaded it."""


def _check_unchanged(current: Mapping[str, Any] | None, expected: Mapping[str, Any], what: str) -> None:
    if current is None or dict(current) != dict(expected):
        raise StaleDefinition(f"{what}已被他人修改，您的修改未保存；已重新载入最新定义，请核对后再修改并保存")


def _source(session: Session, key: str) -> Source:
    row = session.scalar(select(Source).where(Source.key == key))
    if row is None:
        raise UnknownDefinition(f"找不到标识为 {key!r} 的信息源")
    return row


def _scheme(session: Session, name: str) -> MonitoringScheme:
    row = session.scalar(select(MonitoringScheme).where(MonitoringScheme.name == name))
    if row is None:
        raise UnknownDefinition(f"找不到名为 {name!r} 的监测方案")
    return row


def source_definition(session: Session, key: str) -> dict[str, Any]:
    """A stored source in the shape of the definition file (what the edit form starts from)."""
    row = _source(session, key)
    entry: dict[str, Any] = {"key": row.key}
    for field in defs.SOURCE_FIELDS:
        if hasattr(row, field):
            entry[field] = getattr(row, field)
    # a schedule is either a period or a cron table, never both
    if entry.get("cron"):
        entry.pop("interval_seconds", None)
    else:
        entry.pop("cron", None)
    entry["config"] = dict(entry.get("config") or {})
    return entry


def scheme_definition(row: MonitoringScheme) -> dict[str, Any]:
    return {"name": row.name, **{f: getattr(row, f) for f in defs.SCHEME_FIELDS}}


def list_schemes(session: Session) -> list[MonitoringScheme]:
    """Every scheme, enabled and disabled, in the order they were made."""
    return list(session.scalars(select(MonitoringScheme).order_by(MonitoringScheme.id)))


def save_sources(session: Session, doc: Mapping[str, Any], actor: str,
                 expected: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, list[str]]]:
    """Validate ``{"sources": [...]}`` and create or update those sources (by key), audited.

    ``expected``: key → the definition (:func:`source_definition`) the editor loaded; a source
    stored differently now is refused with :class:`StaleDefinition`."""
    require(session, actor, ACTION)
    for key, loaded in (expected or {}).items():
        exists = session.scalar(select(Source.id).where(Source.key == key)) is not None
        _check_unchanged(source_definition(session, key) if exists else None, loaded, f"信息源 {key} ")
    data = defs.read_monitoring_config(doc)
    if data["schemes"]:
        raise SourceConfigError("这里只保存信息源；监测方案请在“监测方案”页修改")
    local = []
    for item in data["sources"]:
        if defs.is_local_address(item["url"]):
            stored = session.scalar(select(Source.url).where(Source.key == item["key"]))
            if stored != item["url"]:
                local.append(f"{item['key']}（{item['url']}）")
    if local:
        raise SourceConfigError(
            f"信息源地址指向本机：{'、'.join(local)}。控制台不能添加本机地址；"
            "确属本机服务（如测试站点）时请由运维人员用 `rcops sources add --allow-local` 添加"
        )
    return defs.load_monitoring_config(session, data, actor)


def set_source_enabled(session: Session, key: str, enabled: bool, actor: str) -> Source:
    """Enable or disable a source (the scheduler skips disabled ones), audited."""
    require(session, actor, ACTION)
    entry = source_definition(session, key)
    entry["enabled"] = enabled
    defs.load_monitoring_config(session, {"sources": [entry]}, actor)
    return _source(session, key)


def save_scheme(session: Session, entry: Mapping[str, Any], actor: str,
                expected: Mapping[str, Any] | None = None) -> str:
    """Validate one scheme (its expression parsed) and create or update it by name, audited.

    ``expected``: the definition (:func:`scheme_definition`) the editor loaded; a scheme stored
    differently now is refused with :class:`StaleDefinition`. Returns "created", "updated" or "unchanged".
    """
    require(session, actor, ACTION)
    if expected is not None:
        name = expected["name"]
        row = session.scalar(select(MonitoringScheme).where(MonitoringScheme.name == name))
        _check_unchanged(scheme_definition(row) if row is not None else None, expected, f"监测方案“{name}”")
    outcome = defs.load_monitoring_config(session, {"schemes": [dict(entry)]}, actor)["schemes"]
    return next(what for what, names in outcome.items() if names)


def set_scheme_enabled(session: Session, name: str, enabled: bool, actor: str) -> MonitoringScheme:
    require(session, actor, ACTION)
    entry = scheme_definition(_scheme(session, name))
    entry["enabled"] = enabled
    defs.load_monitoring_config(session, {"schemes": [entry]}, actor)
    return _scheme(session, name)


__all__ = ["UnknownDefinition", "StaleDefinition", "source_definition", "scheme_definition", "list_schemes", "save_sources",
           "set_source_enabled", "save_scheme", "set_scheme_enabled"]
