"""信息检索: search stored mentions by words, time, source, tier and risk; export them.

Exports are data leaving the system: they need ``mentions.export`` and write an
audit event. Every exported cell that a spreadsheet would read as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
prefixed with an apostrophe, so crawled text can never run in the user's Excel.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rcops.store.access import require
from rcops.store.audit import record
from rcops.store.models import Mention, Source

#: rows a search returns at most (the count is always exact)
MAX_ROWS = 500
#: rows an export holds at most
MAX_EXPORT_ROWS = 50_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

COLUMNS: list[tuple[str, str]] = [
    ("id", "编号"), ("crawled_at", "采集时间"), ("published_at", "发布时间"), ("source", "来源"),
    ("title", "标题"), ("text", "正文"), ("url", "链接"), ("risk_score", "风险分"), ("tier", "等级"),
    ("reach", "传播量"), ("incident_id", "事件编号"),
]


@dataclass
class MentionQuery:
    """What the user asked for; empty fields do not filter."""

    words: str = ""
    since: datetime | None = None
    until: datetime | None = None
    source_ids: list[int] = field(default_factory=list)
    tier_codes: list[str] = field(default_factory=list)
    #: include mentions not graded into any tier (when filtering by tier)
    include_ungraded: bool = False
    risk_min: float | None = None
    risk_max: float | None = None

    def terms(self) -> list[str]:
        return [w for w in self.words.replace("，", " ").replace(",", " ").split() if w]


def _filtered(q: MentionQuery):  # type: ignore[no-untyped-def]
    stmt = select(Mention, Source.name).outerjoin(Source, Mention.source_id == Source.id)
    for term in q.terms():
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Mention.title.like(like, escape="\\"), Mention.text.like(like, escape="\\")))
    if q.since is not None:
        stmt = stmt.where(Mention.crawled_at >= q.since)
    if q.until is not None:
        stmt = stmt.where(Mention.crawled_at < q.until)
    if q.source_ids:
        stmt = stmt.where(Mention.source_id.in_(q.source_ids))
    if q.tier_codes:
        cond = Mention.tier_code.in_(q.tier_codes)
        stmt = stmt.where(or_(cond, Mention.tier_code.is_(None)) if q.include_ungraded else cond)
    if q.risk_min is not None:
        stmt = stmt.where(Mention.risk_score >= q.risk_min)
    if q.risk_max is not None:
        stmt = stmt.where(Mention.risk_score <= q.risk_max)
    return stmt


def _row(m: Mention, source: str | None) -> dict[str, Any]:
    return {"id": m.id, "crawled_at": m.crawled_at, "published_at": m.published_at, "source": source or "人工录入",
            "title": m.title, "text": m.text, "url": m.url, "risk_score": m.risk_score, "tier": m.tier_code,
            "reach": m.reach, "incident_id": m.incident_id}


def search_mentions(session: Session, query: MentionQuery, actor: str, limit: int = MAX_ROWS
                    ) -> tuple[int, list[dict[str, Any]]]:
    """(number of matches, newest ``limit`` matches as plain rows)."""
    require(session, actor, "mentions.search")
    stmt = _filtered(query)
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Mention.id).subquery())) or 0
    rows = session.execute(stmt.order_by(Mention.crawled_at.desc(), Mention.id.desc()).limit(limit)).all()
    return total, [_row(m, name) for m, name in rows]


def list_sources(session: Session) -> list[tuple[int, str]]:
    return [(i, n) for i, n in session.execute(select(Source.id, Source.name).order_by(Source.name))]


def neutralise(value: Any) -> Any:
    """A cell value made inert for spreadsheets (formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _cells(rows: list[dict[str, Any]], zone: ZoneInfo) -> list[list[Any]]:
    out = []
    for r in rows:
        line = []
        for key, _ in COLUMNS:
            v = r[key]
            if isinstance(v, datetime):
                v = v.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
            line.append(neutralise(v) if v is not None else "")
        out.append(line)
    return out


def to_csv(rows: list[dict[str, Any]], zone: ZoneInfo) -> bytes:
    """UTF-8 with BOM, so Excel opens the Chinese correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([label for _, label in COLUMNS])
    writer.writerows(_cells(rows, zone))
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[dict[str, Any]], zone: ZoneInfo) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "信息检索"
    ws.append([label for _, label in COLUMNS])
    for line in _cells(rows, zone):
        ws.append(line)
    for cells in ws.iter_rows(min_row=2):
        for c in cells:
            if isinstance(c.value, str):
                c.data_type = "s"  # text, never a formula
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_mentions(session: Session, query: MentionQuery, actor: str, fmt: str, zone: ZoneInfo) -> bytes:
    """The matches as CSV (``fmt="csv"``) or Excel (``"xlsx"``); audited."""
    require(session, actor, "mentions.export")
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown export format {fmt!r}")
    stmt = _filtered(query).order_by(Mention.crawled_at.desc(), Mention.id.desc()).limit(MAX_EXPORT_ROWS)
    rows = [_row(m, name) for m, name in session.execute(stmt).all()]
    record(session, actor, "mention", "export", "exported", format=fmt, rows=len(rows), words=query.words,
           tiers=query.tier_codes, sources=query.source_ids)
    return to_csv(rows, zone) if fmt == "csv" else to_xlsx(rows, zone)


__all__ = ["MentionQuery", "search_mentions", "list_sources", "neutralise", "to_csv", "to_xlsx", "export_mentions",
           "COLUMNS", "MAX_ROWS"]
