"""Reading stored mentions back: what ``rcops mentions`` and the console list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rcops.store.models import Mention, Source

from .exceptions import UnknownSourceError

DEFAULT_LIMIT = 100


def mention_row(mention: Mention, source: Source | None) -> dict[str, Any]:
    """One mention as plain data (times are aware UTC datetimes)."""
    return {
        "id": mention.id,
        "source": source.key if source is not None else None,
        "source_name": (source.name if source is not None else mention.source_name) or "",
        "origin": mention.origin,
        "url": mention.url,
        "title": mention.title,
        "text": mention.text,
        "author": mention.author,
        "published_at": mention.published_at,
        "crawled_at": mention.crawled_at,
        "reach": mention.reach,
        "matched": dict(mention.matched or {}),
        "story_key": mention.story_key,
        "is_first_source": bool(mention.is_first_source),
        "spread_rank": mention.spread_rank,
    }


def list_mentions(
    session: Session,
    source: str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[dict[str, Any]]:
    """Stored mentions, newest first (by publish time, else crawl time).

    ``source`` is a source key, or the name a hand-entered mention was given
    (人工监测); ``since`` keeps mentions published (else crawled) at or after it.
    Raises :class:`UnknownSourceError` for a key that is neither.
    """
    when = func.coalesce(Mention.published_at, Mention.crawled_at)
    query = select(Mention, Source).outerjoin(Source, Mention.source_id == Source.id)
    if source:
        row = session.scalar(select(Source.id).where(Source.key == source))
        if row is not None:
            query = query.where(Mention.source_id == row)
        elif session.scalar(select(Mention.id).where(Mention.source_name == source).limit(1)) is not None:
            query = query.where(Mention.source_id.is_(None), Mention.source_name == source)
        else:
            known = session.scalars(select(Source.key).order_by(Source.key)).all()
            hint = f"已配置的信息源：{'、'.join(known)}" if known else "尚未配置任何信息源"
            raise UnknownSourceError(f"未知的信息源 {source!r}（{hint}）")
    if since is not None:
        query = query.where(
            or_(
                Mention.published_at >= since,
                (Mention.published_at.is_(None)) & (Mention.crawled_at >= since),
            )
        )
    query = query.order_by(when.desc(), Mention.id.desc()).limit(max(1, int(limit)))
    return [mention_row(m, s) for m, s in session.execute(query).all()]


__all__ = ["list_mentions", "mention_row"]
