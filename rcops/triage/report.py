"""The incident analysis report (舆情分析报告): draft, edit, submit, archive, correct, verify, export.

``draft_report`` gathers the incident's data (timeline, volume per hour as a PNG
chart, sources and first source, sentiment mix, risk and category mix, tier history with its
explanations, tasks against deadlines, outcome) and renders the administrator's
Jinja2 template (default: ``templates/report.html.j2``). The operator edits the
HTML and submits it (incident → reported); the administrator archives it
(incident → archived), which seals it: SHA-256 over the content and every
attachment, after which it is read-only. A correction is a new version that
supersedes the archived one when it is archived in turn. ``verify_report``
recomputes the seal and tells whether the stored copy was tampered with.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rcops.plans.schema import ROLES, ROMAN
from rcops.store.access import require
from rcops.store.audit import record
from rcops.store.models import AuditEvent, Incident, IncidentState, Task, TaskStatus, Tier, utcnow
from rcops.store.models_disposal import AnalysisReport, DailyFollowUp, Escalation, ReportAttachment, TaskChecklistItem

from .exceptions import InvalidAction, TriageError
from .lifecycle import STATE_LABELS
from .service import _move, get_incident, incident_audit, incident_mentions

DEFAULT_TEMPLATE = Path(__file__).with_name("templates") / "report.html.j2"
TZ = ZoneInfo("Asia/Shanghai")
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CHART = "volume.png"
FORMATS = ("html", "pdf", "docx")

#: Sentiment of a mention from its risk score (the classifier's probability that it is negative):
#: (label, lowest score of the band), gravest first. 0.6 is the default plans' lowest tier threshold.
SENTIMENT_BANDS: tuple[tuple[str, float], ...] = (("负面", 0.6), ("中性", 0.3), ("正面", 0.0))
SENTIMENT_NOTE = "按模型风险分（负面概率）划分：≥0.6 为负面，0.3–0.6 为中性，<0.3 为正面"


class ReportSettings(BaseSettings):
    """``RCOPS_REPORT_TEMPLATE``: the administrator's Jinja2 template (empty: the default one)."""

    model_config = SettingsConfigDict(env_prefix="RCOPS_REPORT_", env_file=".env", extra="ignore")

    template: str = ""


class ReportError(TriageError):
    """The report cannot be drafted, changed or exported (template missing or broken, sealed …)."""


class ReportNotFound(ReportError):
    pass


def _local(dt: datetime | None) -> str:
    return dt.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if dt else "—"


ACTION_LABELS = {
    "detected": "系统发现事件", "plan_applied": "启动预案", "mention_attached": "新增相关信息",
    "regraded": "系统自动升级", "tier_confirmed": "研判确认等级", "tier_corrected": "人工调整等级",
    "tier_lowered": "降级（原任务保留）", "escalated": "超时督办", "escalations_cancelled": "取消待发督办",
    "completed": "完成任务", "overdue": "任务超时", "cancelled": "任务取消", "reopened": "任务重新打开",
    "assigned": "指派任务", "report_drafted": "起草分析报告", "report_submitted": "提交分析报告",
    "report_archived": "归档分析报告", "commented": "批注任务", "merged": "并入其他事件", "merged_into": "并入目标事件",
    "split": "拆出新事件", "split_from": "由其他事件拆出", "notify_target_invalid": "通知对象配置有误",
    "notify_config_error": "通知配置文件有误", "downgrade_requested": "申请降级（待审批）", "downgrade_rejected": "驳回降级申请",
    "checklist_ticked": "勾选检查事项", "checklist_unticked": "取消勾选检查事项", "followup_created": "生成当日续报任务",
}


def _event_text(e: AuditEvent, tasks: dict[str, str]) -> str:
    d = e.detail or {}
    if e.action.startswith("state:"):
        text = f"状态：{STATE_LABELS.get(d.get('from_state', ''), '')} → {STATE_LABELS.get(d.get('to_state', ''), '')}"
        extra = d.get("reason") or d.get("note")
        return f"{text}（{extra}）" if extra else text
    label = ACTION_LABELS.get(e.action, e.action)
    if e.entity_type == "task":
        label = f"{label}：{tasks.get(e.entity_id, '')}"
    if e.action == "regraded":
        label += f" {d.get('from_tier')} → {d.get('to_tier')}"
    if e.action == "tier_corrected":
        label += f" {d.get('from_tier')} → {d.get('to_tier')}（{d.get('reason', '')}）"
    if e.action == "escalated":
        label += f"（{d.get('level')}级，{d.get('required', '')}）"
    if e.action == "commented":
        label += f"（{d.get('text', '')}）"
    if e.action == "assigned":
        label += f" → {d.get('to_assignee', '')}"
    if e.action == "completed" and d.get("note"):
        label += f"（{d['note']}）"
    if e.action == "completed" and d.get("forced"):
        label += f"（强制完成，未勾选 {len(d.get('unticked') or [])} 项检查事项）"
    if e.action in ("checklist_ticked", "checklist_unticked"):
        label += f"（第 {d.get('index')} 项：{d.get('item', '')}）"
    if e.action == "followup_created":
        label += f"（{d.get('day', '')}）"
    return label


def sentiment_of(risk_score: float | None) -> str:
    """负面 / 中性 / 正面 from a mention's risk score (未评分 when it has none)."""
    if risk_score is None:
        return "未评分"
    return next(label for label, low in SENTIMENT_BANDS if risk_score >= low)


def sentiment_mix(scores: list[float | None]) -> list[dict[str, Any]]:
    """Counts and shares of negative, neutral and positive mentions (and unscored ones, if any)."""
    counts = Counter(sentiment_of(r) for r in scores)
    labels = [label for label, _ in SENTIMENT_BANDS] + (["未评分"] if counts.get("未评分") else [])
    total = len(scores)
    return [{"label": label, "count": counts.get(label, 0),
             "share": f"{counts.get(label, 0) / total:.1%}" if total else "—"} for label in labels]


def _explain(expl: dict[str, Any] | None) -> str:
    if not expl:
        return "—"
    parts = []
    for c in expl.get("conditions", []) or []:
        v = c.get("value")
        if isinstance(v, list):
            v = "、".join(map(str, v))
        parts.append(f"{c.get('label') or c.get('condition')}：{v}")
    return "；".join(parts) or str(expl.get("summary", "—"))


def tier_history(session: Session, incident_id: int) -> list[dict[str, str]]:
    """Every change of tier with its explanation, oldest first (from the audit trail)."""
    out = []
    for e in incident_audit(session, incident_id):
        d = e.detail or {}
        if e.entity_type != "incident":
            continue
        if e.action == "detected":
            out.append({"at": _local(e.at), "actor": e.actor, "change": f"初定 {d.get('tier')} 级",
                        "why": _explain(d.get("explanation"))})
        elif e.action == "regraded":
            out.append({"at": _local(e.at), "actor": e.actor, "change": f"{d.get('from_tier')} → {d.get('to_tier')} 级",
                        "why": _explain(d.get("explanation"))})
        elif e.action == "tier_corrected":
            out.append({"at": _local(e.at), "actor": e.actor, "change": f"{d.get('from_tier')} → {d.get('to_tier')} 级",
                        "why": d.get("reason", "")})
        elif e.action == "downgrade_requested":
            out.append({"at": _local(e.at), "actor": e.actor, "change": f"申请降为 {d.get('to_tier')} 级（待管理方审批）",
                        "why": d.get("reason", "")})
        elif e.action == "downgrade_rejected":
            out.append({"at": _local(e.at), "actor": e.actor, "change": f"驳回降为 {d.get('to_tier')} 级，维持 {d.get('from_tier')} 级",
                        "why": d.get("reason", "")})
        elif e.action == "tier_confirmed":
            out.append({"at": _local(e.at), "actor": e.actor, "change": f"确认 {d.get('tier')} 级", "why": "人工研判确认"})
    return out


def volume_chart(hours: list[tuple[datetime, int]]) -> bytes:
    """Mentions per hour as a PNG bar chart with Chinese labels."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    font = font_manager.FontProperties(fname=str(CJK_FONT)) if CJK_FONT.exists() else None
    fig, ax = plt.subplots(figsize=(7, 2.8), dpi=110)
    try:
        labels = [h.astimezone(TZ).strftime("%m-%d %H时") for h, _ in hours]
        ax.bar(range(len(hours)), [n for _, n in hours], color="#c0392b")
        step = max(1, len(labels) // 8)
        ax.set_xticks(range(0, len(labels), step))
        ax.set_xticklabels(labels[::step], fontproperties=font, fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of mentions: no 0.2, 0.4 …
        ax.set_ylabel("信息条数", fontproperties=font)
        ax.set_title("每小时新增相关信息（北京时间）", fontproperties=font)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()


def report_context(session: Session, incident: Incident) -> dict[str, Any]:
    mentions = incident_mentions(session, incident.id)
    tasks = list(session.scalars(select(Task).where(Task.incident_id == incident.id).order_by(Task.position)))
    task_titles = {str(t.id): t.title for t in tasks}
    events = incident_audit(session, incident.id)
    tier = session.scalar(select(Tier).where(Tier.code == incident.tier_code))
    tier_label = f"{ROMAN.get(incident.tier_code, incident.tier_code)}级{('（' + tier.name + '）') if tier else ''}"
    per_hour: Counter[datetime] = Counter()
    for m, _ in mentions:
        per_hour[(m.published_at or m.crawled_at).astimezone(TZ).replace(minute=0, second=0, microsecond=0)] += 1
    hours: list[tuple[datetime, int]] = []
    if per_hour:
        h, last = min(per_hour), max(per_hour)
        while h <= last and len(hours) < 24 * 14:
            hours.append((h, per_hour.get(h, 0)))
            h += timedelta(hours=1)
    peak = max(per_hour.items(), key=lambda kv: kv[1]) if per_hour else None
    first = min(mentions, key=lambda mn: (mn[0].published_at or mn[0].crawled_at, mn[0].id)) if mentions else None
    bands: Counter[str] = Counter()
    cats: Counter[str] = Counter()
    for m, _ in mentions:
        r = m.risk_score or 0.0
        bands["高风险（≥0.8）" if r >= 0.8 else "中风险（0.6–0.8）" if r >= 0.6 else "低风险（<0.6）"] += 1
        cats[getattr(m, "category", None) or "未分类"] += 1
    now = utcnow()
    ticks: dict[int, list[bool]] = {}
    for task_id, done in session.execute(
        select(TaskChecklistItem.task_id, TaskChecklistItem.done)
        .where(TaskChecklistItem.task_id.in_([t.id for t in tasks])).order_by(TaskChecklistItem.position)
    ):
        ticks.setdefault(task_id, []).append(done)
    n_followups = session.scalar(select(func.count()).select_from(DailyFollowUp)
                                 .where(DailyFollowUp.incident_id == incident.id)) or 0
    rows, on_time, late, unfinished = [], 0, 0, 0
    for t in tasks:
        if t.status == TaskStatus.done.value and t.completed_at:
            is_late = t.completed_at > t.due_at
            late += is_late
            on_time += not is_late
            result = f"{_local(t.completed_at)} {t.completed_by or ''} 完成" + ("（超时）" if is_late else "（按时）")
        elif t.status == TaskStatus.cancelled.value:
            is_late, result = False, "已取消"
            unfinished += 1
        else:
            is_late = t.due_at < now
            unfinished += 1
            result = "未完成" + ("（已超时）" if is_late else "")
        items = ticks.get(t.id, [])
        rows.append({"title": t.title, "role": ROLES.get(t.role, t.role), "assignee": t.assignee,
                     "due": _local(t.due_at), "result": result, "late": is_late,
                     "checklist": f"{sum(items)}/{len(items)}" if items else ""})
    n_esc = session.scalar(select(func.count()).select_from(Escalation)
                           .where(Escalation.incident_id == incident.id, Escalation.fired_at.is_not(None))) or 0
    resolved = [e for e in events if e.action == "state:resolved"]
    sources = Counter(name for _, name in mentions).most_common()
    summary = (
        f"{_local(incident.detected_at)}，系统监测发现“{incident.title}”相关信息，"
        f"系统初判为{ROMAN.get(incident.suggested_tier_code, incident.suggested_tier_code)}级，"
        f"现定为{tier_label}舆情。截至报告生成，共涉及 {len(mentions)} 条信息、{len(sources)} 个来源，"
        f"累计传播量 {incident.total_reach}，最高风险分 {incident.max_risk_score:.2f}。"
        f"按预案生成处置任务 {len(tasks)} 项，已完成 {on_time + late} 项"
        + (f"，其中每日续报 {n_followups} 期" if n_followups else "") + "。"
    )
    outcome = (f"事件于 {_local(resolved[-1].at)} 处置完毕（{resolved[-1].actor}）。"
               + (f"说明：{resolved[-1].detail.get('note')}" if resolved[-1].detail.get("note") else "")
               if resolved else f"事件当前状态：{STATE_LABELS.get(incident.state, incident.state)}。")
    return {
        "title": f"关于“{incident.title[:60]}”的舆情分析报告",
        "incident": incident,
        "tier_label": tier_label,
        "state_label": STATE_LABELS.get(incident.state, incident.state),
        "generated_at": _local(now),
        "summary": summary,
        "timeline": [{"at": _local(e.at), "actor": e.actor, "text": _event_text(e, task_titles)}
                     for e in events if e.action != "mention_attached"],
        "mentions": [{"title": m.title, "source": name, "at": _local(m.published_at or m.crawled_at),
                      "risk": m.risk_score, "url": m.url} for m, name in mentions],
        "hours": hours,
        "peak_hour": peak[0].strftime("%m-%d %H时") if peak else "",
        "peak_count": peak[1] if peak else 0,
        "first_source": {"name": first[1], "at": _local(first[0].published_at or first[0].crawled_at),
                         "title": first[0].title, "url": first[0].url} if first
        else {"name": "—", "at": "—", "title": "—", "url": ""},
        "sources": sources,
        "sentiment_mix": sentiment_mix([m.risk_score for m, _ in mentions]),
        "sentiment_note": SENTIMENT_NOTE,
        "risk_mix": sorted(bands.items()),
        "category_mix": cats.most_common(),
        "tier_history": tier_history(session, incident.id),
        "tasks": rows, "on_time": on_time, "late": late, "unfinished": unfinished, "escalations": n_esc,
        "outcome": outcome,
        "lessons": "（请处置人员填写：研判是否及时准确、预案执行中的问题、后续改进措施。）",
    }


def render(template_path: Path | str | None, context: dict[str, Any]) -> str:
    """Render the report template; a missing or broken template is a ReportError with the reason."""
    path = Path(template_path) if template_path else DEFAULT_TEMPLATE
    if not path.is_file():
        raise ReportError(f"找不到分析报告模板：{path}。请检查模板路径，或留空以使用系统默认模板。")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"无法读取分析报告模板 {path}（须为 UTF-8 文本）：{exc}") from exc
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    try:
        return env.from_string(source).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise ReportError(f"分析报告模板 {path} 第 {exc.lineno} 行有语法错误：{exc.message}") from exc
    except jinja2.UndefinedError as exc:
        raise ReportError(f"分析报告模板 {path} 引用了不存在的数据项：{exc.message}") from exc
    except Exception as exc:  # a template is code of the administrator's: any error is reported, not raised
        raise ReportError(f"分析报告模板 {path} 渲染失败：{type(exc).__name__}: {exc}") from exc


def get_report(session: Session, report_id: int) -> AnalysisReport:
    rep = session.get(AnalysisReport, report_id)
    if rep is None:
        raise ReportNotFound(f"找不到编号为 {report_id} 的分析报告")
    return rep


def draft_report(session: Session, incident_id: int, actor: str, template_path: Path | str | None = None,
                 redraft: bool = False) -> AnalysisReport:
    """Draft the analysis report of a resolved incident from its data.

    An incident has at most one open draft: drafting again (a double click, a second operator) is
    refused with the draft's number, unless ``redraft`` asks to regenerate that draft from the
    current data (its edits are replaced; audited). A report already submitted or archived is
    refused too: the administrator archives it, and an archived one is changed by a correction."""
    require(session, actor, "report.write")
    incident = get_incident(session, incident_id)
    if incident.state not in (IncidentState.resolved.value, IncidentState.reported.value):
        raise InvalidAction(f"事件状态为“{STATE_LABELS[incident.state]}”，处置完毕（已处置）后才能起草分析报告")
    existing = session.scalars(select(AnalysisReport).where(
        AnalysisReport.incident_id == incident.id, AnalysisReport.status.in_(("draft", "submitted")))
        .order_by(AnalysisReport.version.desc())).first()
    if existing is not None and (existing.status != "draft" or not redraft):
        if existing.status == "draft":
            raise ReportError(f"事件 {incident.id} 已有分析报告草稿（报告 {existing.id}，第 {existing.version} 版）："
                              "请在该草稿上修改后提交；如需按最新数据重新生成该草稿，请选择“重新起草”（命令行加 --redraft）")
        raise ReportError(f"事件 {incident.id} 的分析报告（报告 {existing.id}，第 {existing.version} 版）已提交，"
                          "等待管理方归档；归档后如需修改请新建更正版本")
    template_path = template_path or ReportSettings().template or None
    ctx = report_context(session, incident)
    chart = volume_chart(ctx["hours"]) if ctx["hours"] else b""
    ctx["chart"] = CHART if chart else ""
    content = render(template_path, ctx)
    if existing is not None:  # redraft: the same draft, regenerated
        existing.content_html = content
        existing.title = ctx["title"]
        existing.template = str(template_path or "")
        old_chart = next((a for a in existing.attachments if a.name == CHART), None)
        if chart and old_chart is not None:
            old_chart.data = chart
        elif chart:
            existing.attachments.append(ReportAttachment(name=CHART, mime="image/png", data=chart))
        elif old_chart is not None:
            existing.attachments.remove(old_chart)
        session.flush()
        record(session, actor, "analysis_report", existing.id, "redrafted", incident_id=incident.id,
               version=existing.version)
        return existing
    version = (session.scalar(select(func.max(AnalysisReport.version)).where(AnalysisReport.incident_id == incident.id)) or 0) + 1
    rep = AnalysisReport(incident_id=incident.id, version=version, status="draft", title=ctx["title"],
                         content_html=content, template=str(template_path or ""), created_by=actor)
    if chart:
        rep.attachments.append(ReportAttachment(name=CHART, mime="image/png", data=chart))
    session.add(rep)
    session.flush()
    record(session, actor, "incident", incident.id, "report_drafted", report_id=rep.id, version=version)
    return rep


def _editable(rep: AnalysisReport) -> None:
    if rep.status != "draft":
        raise ReportError(f"分析报告 {rep.id}（第 {rep.version} 版）状态为“{REPORT_LABELS[rep.status]}”，只读；如需更正请新建更正版本")


REPORT_LABELS = {"draft": "草稿", "submitted": "已提交", "archived": "已归档", "superseded": "已被更正版本取代"}


def _check_version(rep: AnalysisReport, expected_version: int | None) -> None:
    """Optimistic locking: ``expected_version`` is the ``row_version`` the user's screen loaded."""
    if expected_version is not None and rep.row_version != expected_version:
        raise ReportError(f"报告已被他人修改（版本 {expected_version} → {rep.row_version}），请刷新后再操作")


def edit_report(session: Session, report_id: int, actor: str, content_html: str,
                expected_version: int | None = None) -> AnalysisReport:
    require(session, actor, "report.write")
    rep = get_report(session, report_id)
    _check_version(rep, expected_version)
    _editable(rep)
    if not content_html.strip():
        raise InvalidAction("报告内容不能为空")
    rep.content_html = content_html
    record(session, actor, "analysis_report", rep.id, "edited", incident_id=rep.incident_id, chars=len(content_html))
    session.flush()
    return rep


def submit_report(session: Session, report_id: int, actor: str, expected_version: int | None = None) -> AnalysisReport:
    """The operator submits the draft; the incident becomes ``reported`` (a correction leaves it as it is).

    ``expected_version``: the report's ``row_version`` the operator saw (as for :func:`edit_report`)."""
    require(session, actor, "report.write")
    rep = get_report(session, report_id)
    _check_version(rep, expected_version)
    _editable(rep)
    incident = get_incident(session, rep.incident_id)
    if rep.supersedes_id is None:
        _move(session, incident, IncidentState.reported.value, actor, report_id=rep.id)
    rep.status = "submitted"
    rep.submitted_by, rep.submitted_at = actor, utcnow()
    record(session, actor, "incident", incident.id, "report_submitted", report_id=rep.id, version=rep.version)
    session.flush()
    return rep


def seal_of(rep: AnalysisReport) -> str:
    """SHA-256 over what the report is: its incident, version and title, the content, and every
    attachment (name and bytes) in name order — moving a sealed report to another incident or
    retitling it breaks the seal as surely as editing its text."""
    h = hashlib.sha256()
    h.update(f"report\0incident={rep.incident_id}\0version={rep.version}\0".encode())
    h.update(b"title\0" + (rep.title or "").encode("utf-8") + b"\0")
    h.update(b"content\0" + rep.content_html.encode("utf-8") + b"\0")
    for a in sorted(rep.attachments, key=lambda a: a.name):
        h.update(b"attachment\0" + a.name.encode("utf-8") + b"\0" + hashlib.sha256(a.data).digest())
    return h.hexdigest()


def archive_report(session: Session, report_id: int, actor: str) -> AnalysisReport:
    """The administrator archives a submitted report: sealed and read-only; the incident becomes ``archived``."""
    require(session, actor, "report.archive")
    rep = get_report(session, report_id)
    if rep.status != "submitted":
        raise ReportError(f"只有已提交的报告才能归档；报告 {rep.id} 状态为“{REPORT_LABELS[rep.status]}”")
    incident = get_incident(session, rep.incident_id)
    if incident.state != IncidentState.archived.value:
        _move(session, incident, IncidentState.archived.value, actor, report_id=rep.id)
    if rep.supersedes_id is not None:
        old = get_report(session, rep.supersedes_id)
        old.status = "superseded"
        record(session, actor, "analysis_report", old.id, "superseded", by_report_id=rep.id)
    rep.sha256 = seal_of(rep)
    rep.status = "archived"
    rep.archived_by, rep.archived_at = actor, utcnow()
    record(session, actor, "incident", incident.id, "report_archived", report_id=rep.id, version=rep.version,
           sha256=rep.sha256)
    session.flush()
    return rep


def correct_report(session: Session, report_id: int, actor: str, content_html: str | None = None) -> AnalysisReport:
    """A correction of an archived report: a new draft version that will supersede it once archived."""
    require(session, actor, "report.write")
    old = get_report(session, report_id)
    if old.status != "archived":
        raise ReportError("只有已归档的报告需要更正；草稿可直接修改")
    check = verify_report(session, old.id)
    if not check.ok and content_html is None:  # its stored text is not what was sealed: never the base of a new seal
        raise ReportError(f"报告 {old.id} 的存档内容与封存值不符（可能被篡改），不能以它为底稿更正；"
                          "请管理方核查后，由系统重新起草或提供更正内容")
    version = (session.scalar(select(func.max(AnalysisReport.version))
                              .where(AnalysisReport.incident_id == old.incident_id)) or 0) + 1
    rep = AnalysisReport(incident_id=old.incident_id, version=version, status="draft", title=old.title,
                         content_html=content_html or old.content_html, template=old.template,
                         supersedes_id=old.id, created_by=actor)
    for a in old.attachments:
        rep.attachments.append(ReportAttachment(name=a.name, mime=a.mime, data=a.data))
    session.add(rep)
    session.flush()
    record(session, actor, "analysis_report", rep.id, "correction_drafted", supersedes=old.id, version=version)
    return rep


@dataclass
class Verification:
    report_id: int
    sealed: bool
    ok: bool
    expected: str | None
    actual: str

    @property
    def message(self) -> str:
        if not self.sealed:
            return f"报告 {self.report_id} 尚未归档封存，无校验值"
        if self.ok:
            return f"报告 {self.report_id} 校验通过（SHA-256 {self.actual}）"
        return f"报告 {self.report_id} 已被篡改：封存时 SHA-256 为 {self.expected}，现为 {self.actual}"


def verify_report(session: Session, report_id: int) -> Verification:
    rep = get_report(session, report_id)
    session.refresh(rep)
    for a in rep.attachments:
        session.refresh(a)
    actual = seal_of(rep)
    return Verification(rep.id, rep.sha256 is not None, rep.sha256 == actual, rep.sha256, actual)


def incident_reports(session: Session, incident_id: int) -> list[AnalysisReport]:
    return list(session.scalars(select(AnalysisReport).where(AnalysisReport.incident_id == incident_id)
                                .order_by(AnalysisReport.version)))


# --------------------------------------------------------------------------- export


def inline_html(rep: AnalysisReport) -> str:
    """The report's HTML with its attachments inlined as data URIs (for display; no seal check)."""
    out = rep.content_html
    for a in rep.attachments:
        uri = f"data:{a.mime};base64,{base64.b64encode(a.data).decode()}"
        out = out.replace(f'src="{a.name}"', f'src="{uri}"')
    return out


class _DocxBuilder(HTMLParser):
    """A small HTML → Word converter for what a report holds: headings, paragraphs and other text
    blocks (div, blockquote, pre …), bulleted and numbered lists, tables, the chart image. Text
    outside any known block is kept as a paragraph too: an edit in the console must never vanish
    from the Word copy while the PDF and HTML show it."""

    BLOCKS = ("p", "div", "li", "blockquote", "pre", "h4", "h5", "h6", "section", "article", "dd", "dt")

    def __init__(self, doc: Any, attachments: dict[str, bytes]):
        super().__init__()
        self.doc, self.att = doc, attachments
        self.text: list[str] = []
        self.tag: str | None = None
        self.row: list[str] | None = None
        self.rows: list[list[str]] = []
        self.lists: list[str] = []
        self.in_style = False

    def _flush(self) -> None:
        """Write the text gathered so far as a paragraph (a list item when inside a list)."""
        text = re.sub(r"[ \t\r\f\v]+", " ", "".join(self.text)).strip()
        self.text = []
        if not text or self.row is not None:
            return
        style = None
        if self.tag == "li" and self.lists:
            style = "List Number" if self.lists[-1] == "ol" else "List Bullet"
        self.doc.add_paragraph(text, style=style)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "title", "script"):
            self.in_style = True
        elif tag in ("h1", "h2", "h3"):
            self._flush()
            self.tag, self.text = tag, []
        elif tag in ("th", "td"):
            self.tag, self.text = tag, []
        elif tag in self.BLOCKS:
            if self.row is None:
                self._flush()
                self.tag = tag
        elif tag in ("ul", "ol"):
            self._flush()
            self.lists.append(tag)
        elif tag == "br":
            self.text.append("\n")
        elif tag == "table":
            self._flush()
            self.rows = []
        elif tag == "tr":
            self.row = []
        elif tag == "img":
            src = dict(attrs).get("src") or ""
            if src in self.att:
                from docx.shared import Cm

                self._flush()
                self.doc.add_picture(io.BytesIO(self.att[src]), width=Cm(15))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "script"):
            self.in_style = False
        elif tag in ("h1", "h2", "h3") and self.tag == tag:
            text = re.sub(r"\s+", " ", "".join(self.text)).strip()
            self.doc.add_heading(text, level=int(tag[1]) - 1 if tag != "h1" else 0)
            self.tag, self.text = None, []
        elif tag in ("th", "td") and self.row is not None:
            self.row.append(re.sub(r"\s+", " ", "".join(self.text)).strip())
            self.tag, self.text = None, []
        elif tag in self.BLOCKS and self.row is None:
            self._flush()
            self.tag = None
        elif tag in ("ul", "ol") and self.lists:
            self._flush()
            self.lists.pop()
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        elif tag == "table" and self.rows:
            width = max(len(r) for r in self.rows)
            table = self.doc.add_table(rows=len(self.rows), cols=width)
            table.style = "Table Grid"
            for i, r in enumerate(self.rows):
                for j, cell in enumerate(r):
                    table.cell(i, j).text = cell
            self.rows = []
        elif tag in ("body", "html"):
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def export_report(session: Session, report_id: int, fmt: str) -> bytes:
    """The report as HTML (chart inlined), PDF (weasyprint, Noto CJK) or Word (.docx)."""
    rep = get_report(session, report_id)
    if fmt not in FORMATS:
        raise ReportError(f"不支持的导出格式 {fmt!r}，可选：{'、'.join(FORMATS)}")
    if rep.sha256 is not None:  # a sealed report is exported only while it is what was sealed
        check = verify_report(session, rep.id)
        if not check.ok:
            sealed = (check.expected or "")[:12]
            raise ReportError(f"报告 {rep.id} 的存档内容与封存值不符（可能被篡改：封存 {sealed}…，"
                              f"现为 {check.actual[:12]}…），拒绝导出；请管理方核查审计记录")
    if fmt == "html":
        return inline_html(rep).encode("utf-8")
    if fmt == "pdf":
        import logging

        from weasyprint import HTML

        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        return HTML(string=inline_html(rep)).write_pdf()
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document()
    for style in ("Normal", "Heading 1", "Heading 2", "Title"):
        st = doc.styles[style]
        st.font.name = "Noto Sans CJK SC"
        st.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "Noto Sans CJK SC")
    builder = _DocxBuilder(doc, {a.name: a.data for a in rep.attachments})
    builder.feed(rep.content_html)
    builder.close()
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def plain_text(rep: AnalysisReport) -> str:
    """The report's text without tags (for the command line)."""
    text = re.sub(r"(?s)<(style|title)>.*?</\1>", "", rep.content_html)
    text = re.sub(r"</(p|h\d|tr|table)>", "\n", text)
    text = re.sub(r"</t[dh]>", "\t", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
