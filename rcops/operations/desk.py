"""Reads the console's busiest pages need at volume (100,000 mentions, 2,000 incidents):
one aggregate query each instead of one query per incident.

Pure reads; the caller owns the session. Ordering follows
``rcops.triage.service.list_incidents`` (gravest tier first, newest first).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from rcops.store.models import Incident, Mention


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


def mention_times(session: Session, states: list[str], since: datetime) -> list[tuple[datetime, str]]:
    """(crawled_at, tier code of its incident) of every mention since ``since`` of incidents in ``states``."""
    rows = session.execute(
        select(Mention.crawled_at, Incident.tier_code)
        .join(Incident, Mention.incident_id == Incident.id)
        .where(Incident.state.in_(states), Mention.crawled_at >= since)
    ).all()
    return [(t, code) for t, code in rows]


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


__all__ = ["incident_counts_by_tier", "top_incidents", "mention_times", "incident_choices"]
