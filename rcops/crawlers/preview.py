"""Preview a draft monitoring scheme against the stored mentions, before saving it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.store.models import Mention, Source

from .expression import parse
from .mentions import mention_row

#: newest stored mentions a preview looks at
DEFAULT_SCAN = 5000
SNIPPET_CHARS = 120


def _snippet(text: str, hits: list[str]) -> str:
    """The text around the first hit (casefold keeps the length of CJK and ASCII text)."""
    folded = text.casefold()
    starts = [folded.find(h) for h in hits if folded.find(h) >= 0]
    start = max(min(starts) - SNIPPET_CHARS // 3, 0) if starts else 0
    piece = " ".join(text[start : start + SNIPPET_CHARS].split())
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(text) else "")


def preview_scheme(session: Session, expression: str, limit: int = 20, scan: int = DEFAULT_SCAN) -> dict[str, Any]:
    """What the draft ``expression`` would match among the newest ``scan`` stored mentions.

    Raises :class:`~rcops.crawlers.expression.ExpressionError` (with the position)
    when the expression is invalid. Returns ``{"expression": canonical form,
    "scanned", "matched", "truncated", "matches": [mention rows + "hits", "snippet"]}``
    with at most ``limit`` matches, newest first.
    """
    parsed = parse(expression)
    rows = session.execute(
        select(Mention, Source)
        .outerjoin(Source, Mention.source_id == Source.id)
        .order_by(Mention.id.desc())
        .limit(scan + 1)
    ).all()
    truncated = len(rows) > scan
    rows = rows[:scan]
    matches: list[dict[str, Any]] = []
    count = 0
    for mention, source in rows:
        hits = parsed.match(f"{mention.title}\n{mention.text}")
        if hits is None:
            continue
        count += 1
        if len(matches) < limit:
            row = mention_row(mention, source)
            row["hits"] = hits
            row["snippet"] = _snippet(mention.text, hits)
            del row["text"]
            matches.append(row)
    return {
        "expression": str(parsed),
        "scanned": len(rows),
        "matched": count,
        "truncated": truncated,
        "matches": matches,
    }


__all__ = ["preview_scheme"]
