"""报告: the incidents' analysis reports by status (草稿 / 已提交 / 已归档), one opened to read.

Operators draft a report from a resolved incident, edit its HTML and submit it;
administrators archive submitted ones, which seals them (SHA-256, checked again
on every view); archived reports are corrected by a new version. Everyone who
may view incidents downloads PDF and Word. Every action is a function of
:mod:`rcops.triage.report`, which checks the role and writes the audit trail.

Safety: the report is our Jinja2 template's output, rendered with autoescaping,
so crawled titles and text inside it are escaped entities, never markup. The
console shows its body with ``st.html`` (sanitised by DOMPurify, no scripts),
without the document's own ``<style>`` so a report cannot restyle the console.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from rcops.dashboard import common
from rcops.operations import desk as desk_queries
from rcops.plans.store_io import tier_defs
from rcops.triage import report as reports
from rcops.triage.lifecycle import STATE_LABELS

#: tabs in order; superseded reports get a tab only when there are some
TABS = [("draft", "草稿"), ("submitted", "已提交"), ("archived", "已归档"), ("superseded", "已被更正版本取代")]
MIME = {"pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "html": "text/html"}
#: the console's look of a report: scoped to the report's box, placed after its first tag (DOMPurify
#: drops a leading <style>)
REPORT_CSS = """<style>
.rcops-report table { border-collapse: collapse; width: 100%; margin: .4em 0 .8em; }
.rcops-report th, .rcops-report td { border: 1px solid #bbb; padding: 2px 6px; font-size: .9em; vertical-align: top; }
.rcops-report th { background: #f0f2f6; }
.rcops-report h1 { font-size: 1.5em; text-align: center; }
.rcops-report h2 { font-size: 1.15em; border-bottom: 1px solid #bbb; }
.rcops-report .meta { text-align: center; color: #555; }
.rcops-report .late { color: #b00; }
.rcops-report img { max-width: 100%; }
</style>"""
_BODY = re.compile(r"(?is)<body[^>]*>(.*)</body>")
_DROP = re.compile(r"(?is)<(style|script|title|head)\b[^>]*>.*?</\1\s*>")


def console_html(document: str) -> str:
    """The report's body for ``st.html``: without its own styles, inside a styled box."""
    found = _BODY.search(document)
    body = _DROP.sub("", found.group(1) if found else document)
    return f'<div class="rcops-report">{REPORT_CSS}{body}</div>'


# --------------------------------------------------------------------------- actions (widget callbacks)


def _open(report_id: int) -> None:
    st.session_state["report_id"] = report_id
    st.session_state.pop("report_picker", None)


def _draft() -> None:
    incident_id = st.session_state.get("rep_new_incident")
    made: dict[str, Any] = {}

    def act(s: Session, actor: str) -> None:
        rep = reports.draft_report(s, int(incident_id), actor, redraft=bool(st.session_state.get("rep_redraft")))
        made.update(id=rep.id, version=rep.version)

    if incident_id is not None and common.run_action(act, f"已为事件 #{incident_id} 起草分析报告，请修改后提交。"):
        _reload(made["id"])  # a redraft replaced the draft's content
        _open(made["id"])


def _reload(report_id: int) -> None:
    """The editor shows the stored draft again (and the version it is checked against)."""
    st.session_state.pop(f"rep_html_{report_id}", None)
    st.session_state.pop(f"rep_ver_{report_id}", None)


def _save(report_id: int) -> None:
    html = st.session_state.get(f"rep_html_{report_id}", "")
    version = st.session_state.get(f"rep_ver_{report_id}")
    if common.run_action(lambda s, actor: reports.edit_report(s, report_id, actor, html, expected_version=version),
                         "报告草稿已保存。"):
        _reload(report_id)
    elif version is not None and _stale(report_id, version):
        _reload(report_id)


def _stale(report_id: int, version: int) -> bool:
    with common.read_session() as s:
        return reports.get_report(s, report_id).row_version != version


def _submit(report_id: int) -> None:
    html = st.session_state.get(f"rep_html_{report_id}")
    version = st.session_state.get(f"rep_ver_{report_id}")  # what the screen loaded: a colleague's edit since is not overwritten

    def act(s: Session, actor: str) -> None:
        expected = version
        if html is not None and html != reports.get_report(s, report_id).content_html:
            # what is on screen is what gets submitted
            expected = reports.edit_report(s, report_id, actor, html, expected_version=version).row_version
        reports.submit_report(s, report_id, actor, expected_version=expected)

    if not common.run_action(act, "报告已提交管理方，等待归档。") and version is not None and _stale(report_id, version):
        _reload(report_id)


def _archive(report_id: int) -> None:
    common.run_action(lambda s, actor: reports.archive_report(s, report_id, actor),
                      "报告已归档封存，此后只读；如需更正请新建更正版本。")


def _correct(report_id: int) -> None:
    made: dict[str, int] = {}

    def act(s: Session, actor: str) -> None:
        made["id"] = reports.correct_report(s, report_id, actor).id

    if common.run_action(act, "已新建更正版本（草稿）；归档后取代原报告。"):
        _open(made["id"])


def _export(report_id: int, fmt: str) -> bytes:
    with common.read_session() as s:
        return reports.export_report(s, report_id, fmt)


def _picked() -> None:
    st.session_state["report_id"] = st.session_state["report_picker"]


# --------------------------------------------------------------------------- rendering


def render_lists(rows: list[dict[str, Any]], tiers: list) -> None:  # type: ignore[type-arg]
    by_status = {code: [r for r in rows if r["status"] == code] for code, _ in TABS}
    shown = [(code, label) for code, label in TABS if code != "superseded" or by_status[code]]
    for tab, (code, label) in zip(st.tabs([f"{label}（{len(by_status[code])}）" for code, label in shown]), shown):
        with tab:
            if not by_status[code]:
                st.info(f"没有{label}的报告。")
                continue
            st.dataframe(pd.DataFrame([
                {"报告": f"#{r['id']}", "事件": f"#{r['incident_id']} {r['incident_title']}",
                 "等级": common.tier_label(r["tier_code"], tiers), "版本": r["version"],
                 "撰写人": r["created_by"], "起草时间": common.fmt_time(r["created_at"]),
                 "最近修改": common.fmt_time(r["updated_at"]),
                 "提交": f"{r['submitted_by'] or ''} {common.fmt_time(r['submitted_at'])}" if r["submitted_by"] else "—",
                 "归档": f"{r['archived_by'] or ''} {common.fmt_time(r['archived_at'])}" if r["archived_by"] else "—"}
                for r in by_status[code]
            ]), hide_index=True, width="stretch")


def render_report(row: dict[str, Any], tiers: list) -> None:  # type: ignore[type-arg]
    rid, status = row["id"], row["status"]
    with common.read_session() as s:
        rep = reports.get_report(s, rid)
        content, row_version = rep.content_html, rep.row_version
        shown_html = console_html(reports.inline_html(rep))
        check = reports.verify_report(s, rid) if rep.sha256 else None
    st.subheader(common.md_escape(row["title"]), anchor=False)
    facts = [
        f"报告 #{rid} · 第 {row['version']} 版",
        f"状态：**{reports.REPORT_LABELS.get(status, status)}**",
        f"事件 #{row['incident_id']}（{STATE_LABELS.get(row['incident_state'], row['incident_state'])}）",
        common.tier_badge_md(row["tier_code"], tiers),
        f"撰写人：{common.md_escape(row['created_by'])}，{common.fmt_time(row['created_at'])}",
    ]
    if row["submitted_by"]:
        facts.append(f"提交：{common.md_escape(row['submitted_by'])}，{common.fmt_time(row['submitted_at'])}")
    if row["archived_by"]:
        facts.append(f"归档：{common.md_escape(row['archived_by'])}，{common.fmt_time(row['archived_at'])}")
    if row["supersedes_id"]:
        facts.append(f"更正报告 #{row['supersedes_id']}")
    st.markdown(" · ".join(facts))

    if check is not None:
        st.markdown("**封存值（SHA-256）**")
        st.code(row["sha256"], language=None)
        if check.ok:
            st.success("防篡改校验通过：报告内容与附件与归档封存时一致。", icon=":material/verified:")
        else:
            todo = "请立即核查审计日志与数据库访问记录" if common.current_role() == "admin" else "请立即报告管理方"
            st.error(f"防篡改校验未通过：{check.message}。{todo}。", icon=":material/gpp_bad:")

    if check is not None and not check.ok:
        st.caption("存档内容与封存值不符，已停止导出 PDF / Word / HTML，以免导出件冒充封存件。")
    else:
        c1, c2, c3, _ = st.columns([1, 1, 1, 2])
        stem = f"分析报告-事件{row['incident_id']}-第{row['version']}版"
        for col, fmt, label in ((c1, "pdf", "下载 PDF"), (c2, "docx", "下载 Word"), (c3, "html", "下载 HTML")):
            col.download_button(label, data=lambda fmt=fmt: _export(rid, fmt), file_name=f"{stem}.{fmt}",
                                mime=MIME[fmt], key=f"rep_dl_{fmt}_{rid}", icon=":material/download:",
                                on_click="ignore")

    who = f"以“{common.md_escape(common.current_actor())}”（{common.USER_ROLES.get(common.current_role(), '')}）的身份操作"
    if status == "draft" and common.can("report.write"):
        st.caption(f"{who}：在“修改报告内容”中修改 HTML 后保存或直接提交；提交后只读。所有操作记入审计日志。")
        if f"rep_html_{rid}" not in st.session_state:  # the draft on screen, and the version a save is checked against
            st.session_state[f"rep_html_{rid}"] = content
            st.session_state[f"rep_ver_{rid}"] = row_version
        with st.expander("修改报告内容（HTML）", icon=":material/edit:"):
            st.text_area("报告内容（HTML）", key=f"rep_html_{rid}", height=360)
        b1, b2, _ = st.columns([1, 1, 4])
        b1.button("保存草稿", key=f"rep_save_{rid}", on_click=_save, args=(rid,), icon=":material/save:")
        b2.button("提交管理方", key=f"rep_submit_{rid}", type="primary", on_click=_submit, args=(rid,),
                  icon=":material/send:")
    elif status == "submitted" and common.can("report.archive"):
        st.caption(f"{who}：归档后报告封存（SHA-256），不可再修改，只能以更正版本取代。")
        st.button("归档", key=f"rep_archive_{rid}", type="primary", on_click=_archive, args=(rid,),
                  icon=":material/inventory_2:")
    elif status == "submitted":
        st.info("报告已提交，等待管理方归档。")
    elif status == "archived" and common.can("report.write"):
        st.button("新建更正版本", key=f"rep_correct_{rid}", on_click=_correct, args=(rid,), icon=":material/edit_note:")

    with st.container(border=True):
        st.html(shown_html)


# --------------------------------------------------------------------------- page

st.title("分析报告")
common.show_flash()

with common.read_session() as s:
    tiers = tier_defs(s)
    rows = desk_queries.report_list(s)
    resolved = desk_queries.incidents_in_states(s, ["resolved"]) if common.can("report.write") else []

if common.can("report.write"):
    with st.expander(f"起草分析报告（已处置待报告的事件 {len(resolved)} 件）", icon=":material/post_add:",
                     expanded=not rows and bool(resolved)):
        if not resolved:
            st.caption("没有已处置、待起草报告的事件。事件处置完毕（已处置）后才能起草分析报告。")
        else:
            names = {iid: f"#{iid} {common.tier_label(code, tiers)} · {title[:40]}" for iid, title, code, _ in resolved}
            st.selectbox("事件", options=list(names), format_func=names.__getitem__, key="rep_new_incident")
            st.checkbox("重新起草：该事件已有草稿时，按最新数据重新生成（草稿上的修改将被替换）", key="rep_redraft")
            st.button("由系统起草", key="rep_draft", type="primary", on_click=_draft, icon=":material/auto_awesome:")
            st.caption("系统按事件数据（时间线、走势、来源、研判过程、处置措施与结果）生成草稿，再由您修改提交。")

if not rows:
    st.info("暂无分析报告。")
    st.stop()

render_lists(rows, tiers)

by_id = {r["id"]: r for r in rows}
wanted = st.session_state.get("report_id")
chosen = wanted if wanted in by_id else rows[0]["id"]
st.session_state["report_id"] = chosen
st.session_state["report_picker"] = chosen
labels = {r["id"]: f"#{r['id']} {reports.REPORT_LABELS.get(r['status'], r['status'])} · 第 {r['version']} 版 · "
                   f"事件 #{r['incident_id']} {r['incident_title'][:40]}" for r in rows}
st.selectbox("打开报告", options=list(labels), format_func=labels.__getitem__, key="report_picker", on_change=_picked)
render_report(by_id[chosen], tiers)
