"""Monitoring commands: ``rcops sources [--json]``, ``rcops sources add FILE [--allow-local]``,
``rcops mentions``, ``rcops import FILE`` and ``rcops schemes test EXPRESSION``.

Thin: each opens the settings and one session and calls a function of
``rcops.crawlers`` (the console calls the same functions).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rcops.pipeline.commands import open_session
from rcops.store.settings import get_settings

out = Console()
err = Console(stderr=True)

sources_app = typer.Typer(help="信息源：定义与健康度；add 添加或更新信息源", no_args_is_help=False)
schemes_app = typer.Typer(help="监测方案：test 预览表达式在已入库信息上的匹配结果", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]错误：[/]{message}", highlight=False)
    return typer.Exit(code=code)


_session = open_session


def _local(value: Any) -> Any:
    """Times as ISO 8601 in the display time zone (Asia/Shanghai), everything else as is."""
    if isinstance(value, datetime):
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(get_settings().timezone)).isoformat(timespec="seconds")
    if isinstance(value, dict):
        return {k: _local(v) for k, v in value.items()}
    return value


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _local(v) for k, v in row.items()} for row in rows]


def _width(text: str) -> int:
    """Terminal columns of ``text`` (CJK characters take two), to put a caret under a position."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _short(value: Any, width: int = 16) -> str:
    text = "" if value is None else str(_local(value))
    return text[:width]


# --------------------------------------------------------------------------- sources


@sources_app.callback(invoke_without_command=True)
def sources(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """信息源的定义与健康度（周期、最近成功、最近错误、连续失败、产出与常态、最新信息时间、静默/乱码/被拦截标记），
    以及待处理的信息源告警（疑似被拦截：暂停定时抓取至何时）。"""
    if ctx.invoked_subcommand is not None:
        return
    from rcops.crawlers.health import source_health
    from rcops.store.models import Source
    from sqlalchemy import select

    try:
        with _session() as session:
            health = source_health(session, datetime.now(timezone.utc))
            configs = {s.key: dict(s.config or {}) for s in session.scalars(select(Source)).all()}
    except Exception as exc:  # noqa: BLE001 - every failure gets a clear message
        raise _fail(str(exc)) from exc
    if as_json:
        _print_json([{**row, "config": configs.get(row["key"], {})} for row in _plain(health)])
        return
    for row in health:
        alert = row.get("alert")
        if alert:
            until = f"定时抓取暂停至 {_short(alert['retry_at'])}" if alert["backing_off"] else "退避已到期，下次定时抓取将重试"
            err.print(
                f"[bold yellow]信息源告警[/] {row['key']}：{alert['label']}（自 {_short(alert['opened_at'])} 起连续 "
                f"{alert['blocks']} 次），{until}。{alert['advice']}",
                highlight=False,
            )
    table = Table(title=f"信息源（{len(health)} 个；名称、类型、级别等见 --json）")
    table.add_column("标识", no_wrap=True)
    for col in ("周期", "状态", "标记", "最近成功", "连续失败", "产出/常态", "最新信息", "最近错误"):
        table.add_column(col)
    for row in health:
        usual = "—" if row["usual_yield"] is None else f"{row['usual_yield']:g}"
        last = "—" if row["last_yield"] is None else str(row["last_yield"])
        table.add_row(
            row["key"], row["schedule"], row["state"], "、".join(row["flags"]), _short(row["last_success_at"]),
            str(row["consecutive_failures"]), f"{last}/{usual}", _short(row["newest_item_at"]),
            (row["last_error"] or "")[:40],
        )
    out.print(table)


@sources_app.command("add")
def sources_add(
    file: Annotated[Path, typer.Argument(help="信息源定义（YAML 或 JSON）：一个信息源、信息源列表，或含 sources 的文档")],
    allow_local: Annotated[bool, typer.Option("--allow-local", help="允许指向本机的地址（如本地测试站点）")] = False,
    actor: Annotated[str, typer.Option("--actor", envvar="RCOPS_ACTOR",
                                       help="操作人（账号名；也可设环境变量 RCOPS_ACTOR）")] = "",
) -> None:
    """添加或更新信息源（按 key），校验全部条目后一次写入，并记审计日志。"""
    from rcops.crawlers.sources import add_sources

    try:
        with _session(write=True) as session:
            outcome = add_sources(session, file, actor, allow_local=allow_local)
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc
    for section, label in (("sources", "信息源"), ("schemes", "监测方案")):
        got = outcome[section]
        if section == "schemes" and not any(got.values()):
            continue  # a file of sources only: no line about schemes
        out.print(
            f"[green]{label}已保存[/]：新增 {len(got['created'])}（{'、'.join(got['created']) or '无'}），"
            f"更新 {len(got['updated'])}（{'、'.join(got['updated']) or '无'}），未变 {len(got['unchanged'])}",
            highlight=False,
        )


# --------------------------------------------------------------------------- mentions


def mentions(
    source: Annotated[str | None, typer.Option("--source", help="信息源标识（key），或人工监测的来源名称")] = None,
    since: Annotated[str | None, typer.Option("--since", help="起始时间：2024-05-01、2024-05-01 08:00、3天前、昨天 …")] = None,
    limit: Annotated[int, typer.Option(help="最多条数")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """已入库的信息：来源、链接、标题、正文、发布时间、抓取时间、是否首发。"""
    from rcops.crawlers.mentions import list_mentions
    from rcops.crawlers.timeparse import parse_published

    now = datetime.now(timezone.utc)
    since_at = None
    if since:
        since_at = parse_published(since, now)
        if since_at is None:
            raise _fail(f"无法识别的时间 {since!r}（示例：2024-05-01、2024-05-01 08:00、3天前、昨天）")
    try:
        with _session() as session:
            rows = list_mentions(session, source=source, since=since_at, limit=limit)
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc
    if as_json:
        _print_json(_plain(rows))
        return
    table = Table(title=f"信息（{len(rows)} 条）")
    for col in ("来源", "标题", "发布时间", "抓取时间", "首发", "链接"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            row["source"] or row["source_name"] or "人工", row["title"][:40], _short(row["published_at"]),
            _short(row["crawled_at"]), "是" if row["is_first_source"] else f"转载 #{row['spread_rank']}", row["url"],
        )
    out.print(table)


# --------------------------------------------------------------------------- manual monitoring


def import_file(
    file: Annotated[Path, typer.Argument(help="人工监测信息：CSV 或 Excel（.xlsx），列：标题/正文/链接/发布时间/来源/传播量")],
    actor: Annotated[str, typer.Option("--actor", envvar="RCOPS_ACTOR",
                                       help="操作人（账号名；也可设环境变量 RCOPS_ACTOR）")] = "",
) -> None:
    """导入人工监测的信息（CSV/Excel）：逐行校验，任一行有误则全部不导入。"""
    from rcops.crawlers.manual import ManualImportError, import_mentions

    try:
        with _session(write=True) as session:
            result = import_mentions(session, file, actor)
    except ManualImportError as exc:
        err.print(f"[bold red]未导入任何信息[/]：{exc.summary}", highlight=False)
        for problem in exc.problems:
            err.print(f"  {problem}", highlight=False)
        raise typer.Exit(code=1) from exc
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc
    out.print(
        f"[green]已导入 {result['imported']} 条[/]；与已有信息重复 {result['duplicates']} 条，文件内重复 "
        f"{result['repeated']} 条，空行 {result['blank']} 行"
        + (f"；忽略的列：{'、'.join(result['ignored_columns'])}" if result["ignored_columns"] else ""),
        highlight=False,
    )


# --------------------------------------------------------------------------- schemes


@schemes_app.command("test")
def schemes_test(
    expression: Annotated[str, typer.Argument(help='表达式，如：(农信社 OR 农商行) AND (挤兑 OR "暴力催收") AND NOT 招聘')],
    limit: Annotated[int, typer.Option(help="最多列出的匹配条数")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """预览：用草拟的表达式匹配已入库的信息，保存方案之前先看效果。"""
    from rcops.crawlers.expression import ExpressionError
    from rcops.crawlers.preview import preview_scheme

    try:
        with _session() as session:
            result = preview_scheme(session, expression, limit)
    except ExpressionError as exc:
        err.print(f"[bold red]表达式有误[/]：{exc}", highlight=False)
        err.print(f"  {expression}", highlight=False, markup=False)
        err.print("  " + " " * _width(expression[: exc.position - 1]) + "^", highlight=False, markup=False)
        raise typer.Exit(code=1) from exc
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc
    if as_json:
        _print_json({**result, "matches": _plain(result["matches"])})
        return
    out.print(
        f"表达式（规范形式）：{result['expression']}\n已检查 {result['scanned']} 条，匹配 {result['matched']} 条"
        + ("（仅检查了最近的部分信息）" if result["truncated"] else ""),
        highlight=False, markup=False,
    )
    table = Table()
    for col in ("来源", "标题", "命中词", "发布时间"):
        table.add_column(col)
    for row in result["matches"]:
        table.add_row(row["source"] or "人工", row["title"][:40], "、".join(row["hits"]), _short(row["published_at"]))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
    app.add_typer(schemes_app, name="schemes")
    app.command("mentions")(mentions)
    app.command("import")(import_file)
