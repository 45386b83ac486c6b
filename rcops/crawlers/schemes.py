"""Monitoring schemes (监测方案) as the matchers use them: loaded once from the store,
expressions parsed once, and :func:`match_scheme` deciding relevance.

Shared by the scheme-match pipeline, manual monitoring (人工监测) and the preview;
imports no Scrapy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.store.models import MonitoringScheme

from .expression import ExpressionError
from .expression import parse as parse_expression


def enabled_schemes(session: Session) -> tuple[list[dict[str, Any]], list[str]]:
    """The enabled schemes as matcher dicts (expressions parsed), and the problems found.

    A stored expression that does not parse (saved before validation existed, or
    edited by hand) skips its scheme, with a reason in the problems: it then
    matches nothing rather than everything.
    """
    rows = session.scalars(
        select(MonitoringScheme).where(MonitoringScheme.enabled.is_(True)).order_by(MonitoringScheme.id)
    ).all()
    schemes: list[dict[str, Any]] = []
    problems: list[str] = []
    for row in rows:
        try:
            expression = parse_expression(row.expression) if row.expression else None
        except ExpressionError as exc:
            problems.append(f"监测方案 {row.name} 的表达式无效，已跳过（{exc}）")
            continue
        schemes.append(
            {
                "name": row.name,
                "subject_words": list(row.subject_words or []),
                "region_words": list(row.region_words or []),
                "event_words": list(row.event_words or []),
                "exclusion_words": list(row.exclusion_words or []),
                "expression": expression,
            }
        )
    return schemes, problems


def match_scheme(scheme: dict[str, Any], haystack: str) -> dict[str, list[str]] | None:
    """Words of ``scheme`` found in ``haystack`` (casefolded), or None when it does not match.

    Relevant: (no subject words, or any subject word), and (no event words, or any
    event word), and (no expression, or the expression matches — see
    :mod:`rcops.crawlers.expression`), and no exclusion word. Region words never
    decide; the ones found are recorded. A scheme with neither subject words nor
    an expression matches nothing. ``scheme["expression"]`` may be text or a parsed
    :class:`~rcops.crawlers.expression.Expression`.
    """

    def found(group: str) -> list[str]:
        return [w for w in scheme.get(group) or [] if w and w.casefold() in haystack]

    expression = scheme.get("expression")
    if not scheme.get("subject_words") and not expression:
        return None
    subject = found("subject_words")
    if scheme.get("subject_words") and not subject:
        return None
    event = found("event_words")
    if scheme.get("event_words") and not event:
        return None
    if found("exclusion_words"):
        return None
    result = {"subject": subject, "event": event, "region": found("region_words")}
    if expression:
        if isinstance(expression, str):
            expression = parse_expression(expression)
        hits = expression.match(haystack)
        if hits is None:
            return None
        result["expression"] = hits
    return result


def match_all(schemes: list[dict[str, Any]], title: str, text: str) -> dict[str, Any]:
    """``{scheme name: matched words}`` of every scheme that matches the title and text."""
    haystack = f"{title}\n{text}".casefold()
    matched = {}
    for scheme in schemes:
        words = match_scheme(scheme, haystack)
        if words is not None:
            matched[scheme["name"]] = words
    return matched


__all__ = ["enabled_schemes", "match_scheme", "match_all"]
