"""Reads the console's busiest pages need at volume (100,000 mentions, 2,000 incidents):
one aggregate query each (GROUP BY in the database) instead of one query per incident
or a loop over every mention.

Pure reads; the caller owns the session. Ordering follows
``rcops.triage.service.list_incidents`` (gravest tier first, newest first).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session, selectinload

from rcops.store.models import Incident, Mention, Source
from rcops.store.models_disposal import AnalysisReport

#: how mentions entered by hand without a source name are counted
MANUAL_SOURCE = "人工录入"


def incident_counts_by_tier(session: Session, states: list[str]) -> dict[str, int]:
    """Number of incidents in ``states`` per tier code."""
    rows = session.execute(
        select(Incident.tier_code, func.count()).where(Incident.state.in_(states)).group_by(Incident.tier_code)
    ).all()
    return {code: n for code, n in rows}


def top_incidents(session: Session, states: list[str], ranks: dict[str, int], limit: int) -> list[Incident]:
    """The ``limit`` gravest incidents in ``states`` (newest first within a tier), with their tasks.

    Ordered in the database over all matching incidents, so an old Ⅰ incident is
    never crowded out by many newer minor ones.
    """
    rank = case(ranks, value=Incident.tier_code, else_=99) if ranks else Incident.tier_code
    return list(session.scalars(
        select(Incident).options(selectinload(Incident.tasks)).where(Incident.state.in_(states))
        .order_by(rank, Incident.last_mention_at.desc(), Incident.id.desc()).limit(limit)
    ))


def incident_choices(session: Session, ranks: dict[str, int], open_states: list[str],
                     limit: int = 300) -> list[tuple[int, str, str, str]]:
    """(id, title, tier code, state) for a picker: open incidents gravest and newest first, then closed ones newest first."""
    cols = (Incident.id, Incident.title, Incident.tier_code, Incident.state)
    rank = case(ranks, value=Incident.tier_code, else_=99) if ranks else Incident.tier_code
    opened = session.execute(
        select(*cols).where(Incident.state.in_(open_states))
        .order_by(rank, Incident.last_mention_at.desc(), Incident.id.desc()).limit(limit)
    ).all()
    closed = session.execute(
        select(*cols).where(Incident.state.not_in(open_states))
        .order_by(Incident.last_mention_at.desc(), Incident.id.desc()).limit(max(limit - len(opened), limit // 3))
    ).all()
    return [tuple(r) for r in [*opened, *closed]]  # type: ignore[misc]


def _hour(session: Session) -> Any:
    """The UTC hour of a mention's crawl time, as a GROUP BY expression of the session's backend."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", Mention.crawled_at)
    return func.strftime("%Y-%m-%d %H:00:00", Mention.crawled_at)  # SQLite keeps naive UTC text


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _window(q: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        q = q.where(Mention.crawled_at >= since)
    if until is not None:
        q = q.where(Mention.crawled_at < until)
    return q


def mentions_per_hour(session: Session, since: datetime | None, until: datetime | None = None,
                      incident_states: list[str] | None = None) -> list[tuple[datetime, str | None, int]]:
    """(UTC hour, tier code, count) of the mentions crawled in the window, counted in the database.

    With ``incident_states`` only mentions of incidents in those states count, by the
    incident's tier (the alert desk); without, every mention counts by its own tier
    (None: not graded).
    """
    hour = _hour(session).label("hour")
    if incident_states is not None:
        q = (select(hour, Incident.tier_code, func.count()).join(Incident, Mention.incident_id == Incident.id)
             .where(Incident.state.in_(incident_states)).group_by(hour, Incident.tier_code))
    else:
        q = select(hour, Mention.tier_code, func.count()).group_by(hour, Mention.tier_code)
    rows = session.execute(_window(q, since, until)).all()
    return sorted(((_utc(h), code, n) for h, code, n in rows if h is not None), key=lambda r: (r[0], r[1] or ""))


def mentions_by_tier(session: Session, since: datetime | None, until: datetime | None = None) -> dict[str | None, int]:
    """Mentions crawled in the window per tier code of the mention (None: not graded)."""
    q = select(Mention.tier_code, func.count()).group_by(Mention.tier_code)
    return {code: n for code, n in session.execute(_window(q, since, until)).all()}


def mentions_by_source(session: Session, since: datetime | None, until: datetime | None = None,
                       limit: int = 20) -> list[tuple[str, int]]:
    """(source name, count) of the mentions crawled in the window, most first; hand-entered
    mentions count under the name they were given."""
    name = func.coalesce(Source.name, func.nullif(Mention.source_name, ""), literal(MANUAL_SOURCE)).label("name")
    q = (select(name, func.count().label("n")).select_from(Mention).outerjoin(Source, Mention.source_id == Source.id)
         .group_by(name).order_by(func.count().desc(), name).limit(limit))
    return [(n, c) for n, c in session.execute(_window(q, since, until)).all()]


def mentions_by_category(session: Session, since: datetime | None, until: datetime | None = None) -> dict[str | None, int]:
    """Mentions crawled in the window per risk category (None: not classified)."""
    q = select(Mention.category, func.count()).group_by(Mention.category)
    return {c: n for c, n in session.execute(_window(q, since, until)).all()}


def incidents_in_states(session: Session, states: list[str], limit: int = 300) -> list[tuple[int, str, str, str]]:
    """(id, title, tier code, state) of incidents in ``states``, newest first."""
    rows = session.execute(
        select(Incident.id, Incident.title, Incident.tier_code, Incident.state).where(Incident.state.in_(states))
        .order_by(Incident.last_mention_at.desc(), Incident.id.desc()).limit(limit)
    ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


#: the columns of a report listed on the 报告 page (the content is loaded only for the one opened)
REPORT_COLUMNS = ("id", "incident_id", "version", "status", "title", "created_by", "created_at", "updated_at",
                  "submitted_by", "submitted_at", "archived_by", "archived_at", "supersedes_id", "sha256")


def report_list(session: Session, limit: int = 500) -> list[dict[str, Any]]:
    """Analysis reports, newest change first, with their incident's title and tier (no content)."""
    cols = [getattr(AnalysisReport, c) for c in REPORT_COLUMNS]
    rows = session.execute(
        select(*cols, Incident.title.label("incident_title"), Incident.tier_code, Incident.state.label("incident_state"))
        .join(Incident, AnalysisReport.incident_id == Incident.id)
        .order_by(AnalysisReport.updated_at.desc(), AnalysisReport.id.desc()).limit(limit)
    ).all()
    return [dict(r._mapping) for r in rows]


__all__ = ["incident_counts_by_tier", "top_incidents", "incident_choices", "mentions_per_hour",
           "mentions_by_tier", "mentions_by_source", "mentions_by_category", "incidents_in_states", "report_list",
           "MANUAL_SOURCE"]
