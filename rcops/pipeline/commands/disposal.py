"""Disposal commands: incidents, their tasks, analysis reports, escalation and notifications.

    rcops incidents [--state S] [--json]
    rcops incident ID [--json]                      (same as ``rcops incident show ID``)
    rcops incident confirm ID [--tier T --reason R] / dispose ID / resolve ID / dismiss ID --reason R / reopen ID --reason R
    rcops incident assign TASK_ID USER / complete TASK_ID [--note N] [--force] / comment TASK_ID TEXT
    rcops task tick TASK_ID INDEX [--undo]          tick an item of a task's checklist (1-based)
    rcops roster [--json] / roster add USER --role R --from T --to T / roster remove ID   duty roster (值班表)
    rcops incident approve-downgrade ID [--reject] / merge TARGET SOURCE... --reason R / split ID MENTION... --reason R
    rcops incident report ID [--template FILE]     draft the analysis report
    rcops incident submit|archive|verify|correct REPORT_ID, export REPORT_ID --format pdf --out FILE
    rcops escalate [--loop SECONDS]                  flag breaches, fire due escalations, send notifications
    rcops notifications [--incident ID] [--json]
    rcops rules check FILE / install FILE / show    the administrator's tiers and plans

Every action takes ``--actor NAME`` and calls the same functions as the console.
Times are shown in Asia/Shanghai. Errors: a Chinese message on stderr, exit code 1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from rcops.pipeline.commands import open_session

out = Console()
err = Console(stderr=True)
TZ = ZoneInfo("Asia/Shanghai")

Actor = Annotated[str, typer.Option("--actor", envvar="RCOPS_ACTOR",
                                    help="操作人（账号名；也可设环境变量 RCOPS_ACTOR）")]
AsJson = Annotated[bool, typer.Option("--json", help="以 JSON 输出")]
ExpectVersion = Annotated[int | None, typer.Option("--expect-version", help="乐观锁：期望的事件版本号")]


class _IncidentGroup(TyperGroup):
    """``rcops incident 12`` means ``rcops incident show 12``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].isdigit():
            args = ["show", *args]
        return super().parse_args(ctx, args)


incident_app = typer.Typer(cls=_IncidentGroup, help="舆情事件：查看、研判、处置、任务、分析报告", no_args_is_help=True)


def _local(dt: Any) -> str | None:
    return dt.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S") if dt else None


@contextmanager
def _session(write: bool = True) -> Iterator[Any]:
    """One transaction; errors of our packages become a Chinese message and exit code 1."""
    from rcops.plans.exceptions import PlanError
    from rcops.store.exceptions import StoreError
    from rcops.triage.exceptions import TriageError

    try:
        with open_session(write) as session:
            yield session
    except (TriageError, StoreError, PlanError) as exc:
        err.print(f"[bold red]错误：[/]{exc}")
        raise typer.Exit(code=1) from None


def _print_json(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False, default=str))


def incident_summary(inc: Any) -> dict[str, Any]:
    from rcops.triage.lifecycle import STATE_LABELS

    open_tasks = [t for t in inc.tasks if t.status == "open"]
    return {
        "id": inc.id, "title": inc.title, "state": inc.state, "state_label": STATE_LABELS.get(inc.state, inc.state),
        "tier": inc.tier_code, "suggested_tier": inc.suggested_tier_code, "mentions": inc.mention_count,
        "reach": inc.total_reach, "max_risk": round(inc.max_risk_score or 0.0, 3), "version": inc.row_version,
        "detected_at": _local(inc.detected_at), "last_mention_at": _local(inc.last_mention_at),
        "open_tasks": len(open_tasks),
        "next_due_at": _local(min((t.due_at for t in open_tasks), default=None)),
    }


def incident_detail(session: Any, incident_id: int) -> dict[str, Any]:
    """Everything ``rcops incident ID`` shows (times in Asia/Shanghai)."""
    from rcops.plans.schema import ROLES
    from rcops.triage import service
    from rcops.triage.escalation import incident_escalations, incident_notifications
    from rcops.triage.report import incident_reports, tier_history

    inc = service.get_incident(session, incident_id)
    data = incident_summary(inc)
    data.update({
        "tier_explanation": inc.tier_explanation,
        "pending_downgrade": {"to_tier": inc.pending_tier_code, "reason": inc.pending_tier_reason,
                              "requested_by": inc.pending_tier_by} if inc.pending_tier_code else None,
        "tier_confirmed_by": inc.tier_confirmed_by,
        "dismissed_reason": inc.dismissed_reason,
        "plan": {"id": inc.plan.id, "name": inc.plan.name, "version": inc.plan.version} if inc.plan else None,
        "tier_history": tier_history(session, inc.id),
        "mentions_list": [
            {"id": m.id, "source": src, "title": m.title, "url": m.url, "reach": m.reach,
             "risk": m.risk_score, "tier": m.tier_code, "at": _local(m.published_at or m.crawled_at)}
            for m, src in service.incident_mentions(session, inc.id)
        ],
        "tasks": [
            {"id": t.id, "position": t.position, "title": t.title, "role": t.role, "role_label": ROLES.get(t.role, t.role),
             "assignee": t.assignee, "status": t.status, "due_at": _local(t.due_at),
             "completed_at": _local(t.completed_at), "completed_by": t.completed_by, "note": t.note,
             "overdue": t.overdue_flagged_at is not None,
             "checklist": [{"index": i.position, "text": i.text, "done": i.done, "done_by": i.done_by,
                            "done_at": _local(i.done_at)} for i in service.task_checklist(session, t.id)]}
            for t in inc.tasks
        ],
        "escalations": [
            {"id": e.id, "task_id": e.task_id, "level": e.level, "status": e.status, "due_at": _local(e.due_at),
             "fired_at": _local(e.fired_at), "roles": e.roles, "cancel_reason": e.cancel_reason}
            for e in incident_escalations(session, inc.id)
        ],
        "notifications": [
            {"id": n.id, "channel": n.channel, "target": n.target, "role": n.role, "status": n.status,
             "attempts": n.attempts, "sent_at": _local(n.sent_at), "last_error": n.last_error}
            for n in incident_notifications(session, inc.id)
        ],
        "reports": [
            {"id": r.id, "version": r.version, "status": r.status, "sha256": r.sha256,
             "created_by": r.created_by, "archived_by": r.archived_by, "archived_at": _local(r.archived_at)}
            for r in incident_reports(session, inc.id)
        ],
        "audit": [
            {"at": _local(e.at), "actor": e.actor, "entity": f"{e.entity_type}:{e.entity_id}", "action": e.action,
             "detail": e.detail}
            for e in service.incident_audit(session, inc.id)
        ],
    })
    return data


def list_incidents_cmd(
    state: Annotated[list[str] | None, typer.Option("--state", help="按状态筛选（可多次），如 detected、disposing")] = None,
    as_json: AsJson = False,
) -> None:
    """舆情事件列表：等级高者在前。"""
    from rcops.store.models import IncidentState
    from rcops.triage import service

    known = {s.value for s in IncidentState}
    for st in state or []:
        if st not in known:
            err.print(f"[bold red]错误：[/]未知的事件状态 {st!r}，可选：{'、'.join(sorted(known))}")
            raise typer.Exit(code=1)
    with _session(write=False) as s:
        rows = [incident_summary(i) for i in service.list_incidents(s, states=state or None)]
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"舆情事件（{len(rows)} 个，北京时间）")
    for col in ("编号", "等级", "状态", "标题", "信息", "传播量", "未完成任务", "最近时限", "发现时间"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["id"]), r["tier"], r["state_label"], r["title"][:40], str(r["mentions"]), str(r["reach"]),
                      str(r["open_tasks"]), r["next_due_at"] or "—", r["detected_at"])
    out.print(table)


@incident_app.command("show")
def show(incident_id: int, as_json: AsJson = False) -> None:
    """一个事件的全部情况：状态、等级与等级变化、信息、任务与时限、督办、通知、报告、审计记录。"""
    from rcops.triage.lifecycle import TASK_STATUS_LABELS

    with _session(write=False) as s:
        d = incident_detail(s, incident_id)
    if as_json:
        _print_json(d)
        return
    out.print(f"[bold]事件 #{d['id']}[/] {d['title']}")
    out.print(f"状态：{d['state_label']}　等级：{d['tier']}（系统建议 {d['suggested_tier']}）　版本：{d['version']}")
    if d["pending_downgrade"]:
        p = d["pending_downgrade"]
        out.print(f"[yellow]待审批降级：{p['requested_by']} 申请降为 {p['to_tier']} 级（{p['reason']}）[/]")
    out.print(f"信息 {d['mentions']} 条，传播量 {d['reach']}，最高风险分 {d['max_risk']}，发现于 {d['detected_at']}")
    if d["plan"]:
        out.print(f"预案：{d['plan']['name']}（第 {d['plan']['version']} 版）")
    out.print("[bold]等级变化[/]")
    for h in d["tier_history"]:
        out.print(f"  {h['at']} {h['actor']}：{h['change']}　依据：{h['why']}")
    t = Table(title="任务（时限为北京时间）")
    for col in ("任务号", "任务", "责任", "负责人", "时限", "状态", "检查清单", "完成"):
        t.add_column(col)
    for task in d["tasks"]:
        status = TASK_STATUS_LABELS.get(task["status"], task["status"])
        if task["overdue"] and task["status"] == "open":
            status += "（已超时）"
        items = task["checklist"]
        ticks = f"{sum(i['done'] for i in items)}/{len(items)}" if items else "—"
        t.add_row(str(task["id"]), task["title"], task["role_label"], task["assignee"] or "—", task["due_at"], status,
                  ticks, f"{task['completed_at']} {task['completed_by']}" if task["completed_at"] else "—")
    out.print(t)
    for task in d["tasks"]:
        if task["checklist"] and task["status"] == "open":
            out.print(f"任务 {task['id']}“{task['title']}”检查清单：")
            for i in task["checklist"]:
                out.print(f"  [{'x' if i['done'] else ' '}] {i['index']}. {i['text']}"
                          + (f"（{i['done_by']} {i['done_at']}）" if i["done"] else ""), markup=False)
    mt = Table(title="相关信息")
    for col in ("时间", "来源", "标题", "传播量", "风险分"):
        mt.add_column(col)
    for m in d["mentions_list"]:
        mt.add_row(m["at"], m["source"], m["title"][:40], str(m["reach"]), f"{m['risk'] or 0:.2f}")
    out.print(mt)
    if d["escalations"]:
        out.print("[bold]超时督办[/]")
        for e in d["escalations"]:
            out.print(f"  任务 {e['task_id']} {e['level']} 级：{e['status']}（时间 {e['due_at']}，通知 {'、'.join(e['roles'])}）")
    if d["reports"]:
        out.print("[bold]分析报告[/]")
        for r in d["reports"]:
            out.print(f"  报告 {r['id']} 第 {r['version']} 版：{r['status']}" + (f" SHA-256 {r['sha256']}" if r["sha256"] else ""))
    out.print("[bold]审计记录[/]")
    for a in d["audit"]:
        out.print(f"  {a['at']} {a['actor']} {a['entity']} {a['action']}")


def _done(message: str, data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(data)
    else:
        out.print(message)


def _incident_action(fn: Callable[..., Any], message: str) -> Callable[..., None]:
    def run(incident_id: int, actor: str, as_json: bool, **kw: Any) -> None:
        with _session() as s:
            inc = fn(s, incident_id, actor, **kw)
            data = incident_summary(inc)
        _done(message.format(**data), data, as_json)

    return run


@incident_app.command("confirm")
def confirm(
    incident_id: int, actor: Actor = "",
    tier: Annotated[str | None, typer.Option("--tier", help="改为此等级（I/II/III/IV）")] = None,
    reason: Annotated[str, typer.Option("--reason", help="改等级的理由")] = "",
    expect_version: ExpectVersion = None, as_json: AsJson = False,
) -> None:
    """研判：确认系统建议的等级，或以理由改为另一等级。"""
    from rcops.triage.service import confirm_tier

    _incident_action(confirm_tier, "事件 {id} 已研判：{tier} 级，状态 {state_label}")(
        incident_id, actor, as_json, tier_code=tier, reason=reason, expected_version=expect_version)


@incident_app.command("approve-downgrade")
def approve_downgrade(
    incident_id: int, actor: Actor = "",
    reject: Annotated[bool, typer.Option("--reject", help="驳回降级申请")] = False,
    reason: Annotated[str, typer.Option("--reason", help="审批意见")] = "",
    expect_version: ExpectVersion = None, as_json: AsJson = False,
) -> None:
    """管理方审批降级申请（同意或 --reject 驳回）。"""
    from rcops.triage.service import decide_downgrade

    _incident_action(decide_downgrade, "事件 {id} 降级申请已" + ("驳回" if reject else "同意") + "，当前等级 {tier} 级")(
        incident_id, actor, as_json, approve=not reject, reason=reason, expected_version=expect_version)


@incident_app.command("dispose")
def dispose(incident_id: int, actor: Actor = "", expect_version: ExpectVersion = None, as_json: AsJson = False) -> None:
    """开始处置（已研判 → 处置中）。"""
    from rcops.triage.service import start_disposal

    _incident_action(start_disposal, "事件 {id} 进入处置")(incident_id, actor, as_json, expected_version=expect_version)


@incident_app.command("resolve")
def resolve(incident_id: int, actor: Actor = "", note: Annotated[str, typer.Option("--note")] = "",
            expect_version: ExpectVersion = None, as_json: AsJson = False) -> None:
    """处置完毕（处置中 → 已处置）；取消待发的督办与通知。"""
    from rcops.triage.service import resolve as do_resolve

    _incident_action(do_resolve, "事件 {id} 已处置完毕")(incident_id, actor, as_json, note=note,
                                                     expected_version=expect_version)


@incident_app.command("dismiss")
def dismiss(incident_id: int, reason: Annotated[str, typer.Option("--reason", help="排除理由（必填）")],
            actor: Actor = "", expect_version: ExpectVersion = None, as_json: AsJson = False) -> None:
    """排除：不是舆情事件（须填理由）。"""
    from rcops.triage.service import dismiss as do_dismiss

    _incident_action(do_dismiss, "事件 {id} 已排除")(incident_id, actor, as_json, reason=reason,
                                                  expected_version=expect_version)


@incident_app.command("reopen")
def reopen(incident_id: int, reason: Annotated[str, typer.Option("--reason", help="重新打开的理由（必填）")],
           actor: Actor = "", expect_version: ExpectVersion = None, as_json: AsJson = False) -> None:
    """重新打开已排除或已处置的事件。"""
    from rcops.triage.service import reopen as do_reopen

    _incident_action(do_reopen, "事件 {id} 已重新打开，状态 {state_label}")(incident_id, actor, as_json, reason=reason,
                                                                     expected_version=expect_version)


@incident_app.command("assign")
def assign(task_id: int, user: str, actor: Actor = "", note: Annotated[str, typer.Option("--note")] = "",
           as_json: AsJson = False) -> None:
    """指派任务给某人。"""
    from rcops.triage.service import assign_task

    with _session() as s:
        t = assign_task(s, task_id, actor, user, note=note)
        data = {"task_id": t.id, "incident_id": t.incident_id, "assignee": t.assignee, "due_at": _local(t.due_at)}
    _done(f"任务 {task_id}“{t.title}”已指派给 {user}，时限 {data['due_at']}", data, as_json)


@incident_app.command("complete")
def complete(task_id: int, actor: Actor = "", note: Annotated[str, typer.Option("--note")] = "",
             force: Annotated[bool, typer.Option("--force", help="检查清单未全部勾选时强制完成（须用 --note 说明理由）")] = False,
             as_json: AsJson = False) -> None:
    """完成任务（可附说明）；有检查清单的任务须先逐项勾选（rcops task tick）。"""
    from rcops.triage.service import complete_task

    with _session() as s:
        t = complete_task(s, task_id, actor, note=note, force=force)
        on_time = t.completed_at is not None and t.completed_at <= t.due_at
        data = {"task_id": t.id, "incident_id": t.incident_id, "completed_at": _local(t.completed_at), "on_time": on_time}
    _done(f"任务 {task_id} 已完成（{'按时' if on_time else '超时'}）", data, as_json)


@incident_app.command("comment")
def comment(task_id: int, text: str, actor: Actor = "", as_json: AsJson = False) -> None:
    """给任务加批注。"""
    from rcops.triage.merge import comment_task

    with _session() as s:
        t = comment_task(s, task_id, actor, text)
        data = {"task_id": t.id, "incident_id": t.incident_id, "note": t.note}
    _done(f"任务 {task_id} 已加批注", data, as_json)


@incident_app.command("merge")
def merge(target_id: int, source_ids: list[int],
          reason: Annotated[str, typer.Option("--reason", help="合并理由（必填）")],
          actor: Actor = "", as_json: AsJson = False) -> None:
    """把若干事件并入目标事件（被并入的事件以“并入”理由排除，任务保留）。"""
    from rcops.triage.merge import merge_incidents

    with _session() as s:
        data = incident_summary(merge_incidents(s, target_id, source_ids, actor, reason))
    _done(f"已将事件 {'、'.join(map(str, source_ids))} 并入事件 {target_id}（{data['mentions']} 条信息，{data['tier']} 级）",
          data, as_json)


@incident_app.command("split")
def split(incident_id: int, mention_ids: list[int],
          reason: Annotated[str, typer.Option("--reason", help="拆分理由（必填）")],
          actor: Actor = "", as_json: AsJson = False) -> None:
    """把指定信息从事件中拆出，成为新事件。"""
    from rcops.triage.merge import split_incident

    with _session() as s:
        data = incident_summary(split_incident(s, incident_id, mention_ids, actor, reason))
    _done(f"已从事件 {incident_id} 拆出新事件 {data['id']}（{data['tier']} 级）", data, as_json)


def _report_data(r: Any) -> dict[str, Any]:
    return {"report_id": r.id, "incident_id": r.incident_id, "version": r.version, "status": r.status,
            "sha256": r.sha256, "title": r.title, "row_version": r.row_version}


@incident_app.command("report")
def report(incident_id: int, actor: Actor = "",
           template: Annotated[str, typer.Option("--template", help="管理方的报告模板（Jinja2）；默认用系统模板")] = "",
           redraft: Annotated[bool, typer.Option("--redraft", help="按最新数据重新生成已有的草稿（草稿上的修改将被替换）")] = False,
           as_json: AsJson = False) -> None:
    """起草分析报告（事件须已处置；每个事件只有一份草稿）。"""
    from rcops.triage.report import draft_report

    with _session() as s:
        data = _report_data(draft_report(s, incident_id, actor, template_path=template or None, redraft=redraft))
    _done(f"已起草分析报告 {data['report_id']}（事件 {incident_id} 第 {data['version']} 版）", data, as_json)


ReportExpectVersion = Annotated[int | None, typer.Option(
    "--expect-version", help="乐观锁：期望的报告修改版本号（--json 输出的 row_version）；报告已被他人修改时拒绝")]


@incident_app.command("edit-report")
def edit_report(report_id: int, file: Annotated[Path, typer.Option("--file", help="修改后的 HTML 文件")],
                actor: Actor = "", expect_version: ReportExpectVersion = None, as_json: AsJson = False) -> None:
    """以文件内容替换报告草稿。"""
    from rcops.triage.report import edit_report as do_edit

    try:
        content = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        err.print(f"[bold red]错误：[/]{file} 不是 UTF-8 编码（第 {exc.start + 1} 个字节起无法解码，可能是 GBK）；"
                  "请用编辑器另存为 UTF-8 后再提交，报告未修改", highlight=False)
        raise typer.Exit(code=1) from None
    except OSError as exc:
        err.print(f"[bold red]错误：[/]无法读取 {file}（{exc.strerror or exc}），报告未修改", highlight=False)
        raise typer.Exit(code=1) from None
    with _session() as s:
        data = _report_data(do_edit(s, report_id, actor, content, expected_version=expect_version))
    _done(f"报告 {report_id} 已修改", data, as_json)


def _report_action(name: str, message: str) -> Callable[..., None]:
    def run(report_id: int, actor: str, as_json: bool, **kwargs: Any) -> None:
        from rcops.triage import report as rp

        with _session() as s:
            data = _report_data(getattr(rp, name)(s, report_id, actor, **kwargs))
        _done(message.format(**data), data, as_json)

    return run


@incident_app.command("submit")
def submit(report_id: int, actor: Actor = "", expect_version: ReportExpectVersion = None, as_json: AsJson = False) -> None:
    """提交分析报告（事件 → 已报告）。"""
    _report_action("submit_report", "报告 {report_id} 已提交，事件 {incident_id} 已报告")(
        report_id, actor, as_json, expected_version=expect_version)


@incident_app.command("archive")
def archive(report_id: int, actor: Actor = "", as_json: AsJson = False) -> None:
    """管理方归档分析报告：封存（SHA-256），只读；事件 → 已归档。"""
    _report_action("archive_report", "报告 {report_id} 已归档封存，SHA-256 {sha256}")(report_id, actor, as_json)


@incident_app.command("correct")
def correct(report_id: int, actor: Actor = "", as_json: AsJson = False) -> None:
    """为已归档报告新建更正版本（草稿），归档后取代原版本。"""
    _report_action("correct_report", "已新建更正版本：报告 {report_id}（第 {version} 版）")(report_id, actor, as_json)


@incident_app.command("verify")
def verify(report_id: int, as_json: AsJson = False) -> None:
    """校验已归档报告是否被篡改。"""
    from rcops.triage.report import verify_report

    with _session(write=False) as s:
        v = verify_report(s, report_id)
    data = {"report_id": v.report_id, "sealed": v.sealed, "ok": v.ok, "expected": v.expected, "actual": v.actual}
    _done(v.message, data, as_json)
    if v.sealed and not v.ok:
        raise typer.Exit(code=1)


@incident_app.command("export")
def export(report_id: int, out_file: Annotated[Path, typer.Option("--out", help="输出文件")],
           fmt: Annotated[str, typer.Option("--format", help="html、pdf 或 docx")] = "pdf") -> None:
    """导出分析报告为 HTML、PDF 或 Word。"""
    from rcops.triage.report import export_report

    with _session(write=False) as s:
        data = export_report(s, report_id, fmt)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_bytes(data)
    out.print(f"已导出报告 {report_id} 为 {fmt}：{out_file}（{len(data)} 字节）")


def escalate(
    loop: Annotated[float, typer.Option("--loop", help="每隔多少秒重复一次；0 只运行一次")] = 0.0,
    as_json: AsJson = False,
) -> None:
    """超时检查与督办：标记超时任务、触发到期的督办、发送待发通知（计时器保存在数据库中，重启不丢失）。"""
    from rcops.triage.engine import check_deadlines
    from rcops.triage.escalation import dispatch_notifications
    from rcops.triage.notify import NotifySettings

    cfg = NotifySettings()
    while True:
        with _session() as s:
            overdue = check_deadlines(s, notify_settings=cfg)
        with _session() as s:
            r = dispatch_notifications(s, cfg)
        data = {"overdue": overdue, "sent": r.sent, "retrying": r.retrying, "failed": r.failed}
        _done(f"超时任务 {overdue} 个；通知发送成功 {r.sent} 条，待重试 {r.retrying} 条，放弃 {r.failed} 条", data, as_json)
        if not loop:
            return
        time.sleep(loop)


def notifications(incident: Annotated[int | None, typer.Option("--incident")] = None, as_json: AsJson = False) -> None:
    """通知及其发送记录。"""
    from sqlalchemy import select

    from rcops.store.models_disposal import Notification, NotificationAttempt

    with _session(write=False) as s:
        q = select(Notification).order_by(Notification.id)
        if incident is not None:
            q = q.where(Notification.incident_id == incident)
        rows = []
        for n in s.scalars(q):
            attempts = s.scalars(select(NotificationAttempt).where(NotificationAttempt.notification_id == n.id)
                                 .order_by(NotificationAttempt.id)).all()
            rows.append({"id": n.id, "incident_id": n.incident_id, "channel": n.channel, "target": n.target,
                         "role": n.role, "status": n.status, "subject": n.subject, "attempts": n.attempts,
                         "sent_at": _local(n.sent_at), "log": [{"at": _local(a.at), "ok": a.ok, "detail": a.detail}
                                                             for a in attempts]})
    if as_json:
        _print_json(rows)
        return
    t = Table(title="通知")
    for col in ("编号", "事件", "渠道", "对象", "状态", "次数", "发送时间"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["id"]), str(r["incident_id"]), r["channel"], r["target"][:50], r["status"], str(r["attempts"]),
                  r["sent_at"] or "—")
    out.print(t)


rules_app = typer.Typer(help="分级标准与应急预案（管理方）：校验、安装新版本、查看", no_args_is_help=True)


@rules_app.command("check")
def rules_check(file: Path) -> None:
    """校验分级与预案 YAML 文件，列出每一处问题。"""
    from rcops.plans.exceptions import PlanError
    from rcops.plans.schema import load_rules_file

    try:
        rules = load_rules_file(file)
    except PlanError as exc:
        err.print(f"[bold red]错误：[/]{exc}")
        raise typer.Exit(code=1) from None
    out.print(f"校验通过：{len(rules.tiers)} 个等级，{sum(len(p.steps) for p in rules.plans)} 个预案步骤")


@rules_app.command("install")
def rules_install(file: Path, actor: Actor = "", as_json: AsJson = False) -> None:
    """安装分级与预案：有变化的等级与预案生成新版本（已有事件保留原版本）。"""
    from rcops.plans.exceptions import PlanError
    from rcops.plans.schema import load_rules_file
    from rcops.plans.store_io import install_rules

    try:
        rules = load_rules_file(file)
    except PlanError as exc:
        err.print(f"[bold red]错误：[/]{exc}")
        raise typer.Exit(code=1) from None
    with _session() as s:
        changed = install_rules(s, rules, actor)
    _done(f"已安装：等级变更 {changed['tiers']} 个，预案新版本 {changed['plans']} 个", changed, as_json)


@rules_app.command("show")
def rules_show(as_json: AsJson = False) -> None:
    """当前生效的分级与预案。"""
    from rcops.plans.schema import ROLES
    from rcops.plans.store_io import current_plan, current_rules

    with _session(write=False) as s:
        rules = current_rules(s)
        versions = {t.code: (current_plan(s, t.code).version if current_plan(s, t.code) else None) for t in rules.tiers}
    data = [{"tier": t.code, "name": t.name, "color": t.color, "any_of": list(t.any_of),
             "plan": {"name": rules.plan(t.code).name, "version": versions[t.code],
                      "steps": [{"title": st.title, "role": st.role, "deadline_minutes": st.deadline_minutes,
                                 "relative_to": st.relative_to, "notify": list(st.notify), "on_breach": st.on_breach,
                                 "checklist": list(st.checklist), "daily": st.daily}
                                for st in rules.plan(t.code).steps]}}
            for t in rules.tiers]
    if as_json:
        _print_json(data)
        return
    for d in data:
        out.print(f"[bold]{d['tier']} 级 {d['name']}[/]（{d['color']}）预案：{d['plan']['name']} 第 {d['plan']['version']} 版")
        for st in d["plan"]["steps"]:
            rel = ("每日生成，生成后" if st["daily"] else "上一步时限后" if st["relative_to"] == "previous" else "发现后")
            out.print(f"  - {st['title']}（{ROLES.get(st['role'], st['role'])}）{rel} {st['deadline_minutes']} 分钟"
                      + (f"；检查清单：{'、'.join(st['checklist'])}" if st["checklist"] else ""), markup=False)


task_app = typer.Typer(help="处置任务：勾选检查清单", no_args_is_help=True)


@task_app.command("tick")
def task_tick(task_id: int, index: Annotated[int, typer.Argument(help="检查事项序号（从 1 起，见 rcops incident ID）")],
              undo: Annotated[bool, typer.Option("--undo", help="取消勾选")] = False,
              actor: Actor = "", expect_version: ExpectVersion = None, as_json: AsJson = False) -> None:
    """勾选（或 --undo 取消勾选）任务检查清单中的一项。"""
    from rcops.triage.service import task_checklist, tick_checklist_item

    with _session() as s:
        item = tick_checklist_item(s, actor, task_id, index, done=not undo, expected_version=expect_version)
        items = task_checklist(s, task_id)
        data = {"task_id": task_id, "index": item.position, "text": item.text, "done": item.done,
                "ticked": sum(i.done for i in items), "total": len(items)}
    _done(f"任务 {task_id} 检查事项 {data['index']}“{data['text']}”已{'勾选' if data['done'] else '取消勾选'}"
          f"（已完成 {data['ticked']}/{data['total']} 项）", data, as_json)


roster_app = typer.Typer(help="值班表（管理方）：某角色在某时段由谁值班；新任务按值班表指派负责人")


def _when(text: str, what: str) -> Any:
    """A time typed by the user: ISO 8601; without an offset it is read as Beijing time."""
    from datetime import datetime

    try:
        dt = datetime.fromisoformat(text.strip().replace("T", " "))
    except ValueError:
        err.print(f"[bold red]错误：[/]{what} {text!r} 不是有效时间，请写作 2026-12-04 08:00（北京时间）")
        raise typer.Exit(code=1) from None
    return dt.replace(tzinfo=TZ) if dt.tzinfo is None else dt


def _shift_data(sh: Any) -> dict[str, Any]:
    from rcops.plans.schema import ROLES

    return {"id": sh.id, "username": sh.username, "role": sh.role, "role_label": ROLES.get(sh.role, sh.role),
            "starts_at": _local(sh.starts_at), "ends_at": _local(sh.ends_at), "created_by": sh.created_by}


@roster_app.callback(invoke_without_command=True)
def roster_list(ctx: typer.Context,
                show_all: Annotated[bool, typer.Option("--all", help="包括已结束的值班")] = False,
                as_json: AsJson = False) -> None:
    """值班表：当前及以后的值班（--all 包括已结束的），时间为北京时间。"""
    if ctx.invoked_subcommand is not None:
        return
    from rcops.store.models import utcnow
    from rcops.triage.roster import list_shifts

    with _session(write=False) as s:
        rows = [_shift_data(sh) for sh in list_shifts(s, since=None if show_all else utcnow())]
    if as_json:
        _print_json(rows)
        return
    t = Table(title=f"值班表（{len(rows)} 条，北京时间）")
    for col in ("编号", "值班人员", "角色", "开始", "结束", "登记人"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["id"]), r["username"], r["role_label"], r["starts_at"], r["ends_at"], r["created_by"])
    out.print(t)


@roster_app.command("add")
def roster_add(user: str,
               role: Annotated[str, typer.Option("--role", help="预案角色，如 duty_officer（值班员）、analyst（舆情分析员）")],
               start: Annotated[str, typer.Option("--from", help="开始时间，如 2026-12-04 08:00（北京时间）")],
               end: Annotated[str, typer.Option("--to", help="结束时间（不含），如 2026-12-04 20:00")],
               actor: Actor = "", as_json: AsJson = False) -> None:
    """排班：某用户在某时段担任某角色的值班。"""
    from rcops.triage.roster import add_shift

    starts_at, ends_at = _when(start, "开始时间"), _when(end, "结束时间")
    with _session() as s:
        data = _shift_data(add_shift(s, actor, user, role, starts_at, ends_at))
    _done(f"已排班 {data['id']}：{data['username']} 担任{data['role_label']}，{data['starts_at']} 至 {data['ends_at']}",
          data, as_json)


@roster_app.command("remove")
def roster_remove(shift_id: int, actor: Actor = "", reason: Annotated[str, typer.Option("--reason")] = "",
                  as_json: AsJson = False) -> None:
    """撤销一条值班（已指派的任务不变）。"""
    from rcops.triage.roster import remove_shift

    with _session() as s:
        data = _shift_data(remove_shift(s, actor, shift_id, reason=reason))
    _done(f"已撤销值班 {shift_id}（{data['username']}，{data['role_label']}）", data, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.command("incidents")(list_incidents_cmd)
    app.add_typer(incident_app, name="incident")
    app.add_typer(task_app, name="task")
    app.add_typer(roster_app, name="roster")
    app.command("escalate")(escalate)
    app.command("notifications")(notifications)
