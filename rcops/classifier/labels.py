"""Operators' judgements as training examples.

Every confirmation, correction or dismissal of an incident is a ``GradeLabel`` row
(written by ``rcops.triage.service``). For training, the *latest* label of each
incident decides: ``confirm`` or ``correct`` → every mention of the incident is a
risky example (label 1); ``dismiss`` → every mention is label 0. Who gave the
label and when is kept with each example and recorded in the model's metadata.

Category corrections (``kind="category"``, ``service.correct_category``) teach the
category model the same way: the latest one of an incident gives every mention of
the incident that category (:func:`category_examples`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.store.models import GradeLabel, Mention

#: label kind → training label
KIND_LABEL = {"confirm": 1, "correct": 1, "dismiss": 0}
#: the kind of an operator's category label
CATEGORY_KIND = "category"


@dataclass(frozen=True)
class OperatorExample:
    text: str
    label: int
    kind: str
    actor: str
    at: datetime
    incident_id: int
    mention_id: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "actor": self.actor,
            "at": self.at.isoformat(timespec="seconds"),
            "incident_id": self.incident_id,
            "mention_id": self.mention_id,
        }


def mention_text(title: str, text: str) -> str:
    """The text the risk model scores for a stored mention (as ``triage.engine`` does)."""
    return f"{title}。{text}"


def _latest_labels(session: Session, kinds: Iterable[str]) -> dict[int, GradeLabel]:
    """The latest label of one of *kinds* per incident."""
    wanted = set(kinds)
    latest: dict[int, GradeLabel] = {}
    for row in session.scalars(select(GradeLabel).order_by(GradeLabel.at, GradeLabel.id)):
        if row.kind in wanted:
            latest[row.incident_id] = row
    return latest


def _mentions_of(session: Session, incident_ids: Iterable[int]) -> list[Any]:
    return list(session.execute(
        select(Mention.id, Mention.incident_id, Mention.title, Mention.text)
        .where(Mention.incident_id.in_(list(incident_ids)))
        .order_by(Mention.id)
    ).all())


def operator_examples(session: Session) -> list[OperatorExample]:
    """One example per mention of every labelled incident, from its latest label."""
    latest = _latest_labels(session, KIND_LABEL)
    if not latest:
        return []
    out: list[OperatorExample] = []
    for mention_id, incident_id, title, text in _mentions_of(session, latest):
        lab = latest[incident_id]
        out.append(
            OperatorExample(
                text=mention_text(title, text),
                label=KIND_LABEL[lab.kind],
                kind=lab.kind,
                actor=lab.actor,
                at=lab.at,
                incident_id=incident_id,
                mention_id=mention_id,
            )
        )
    return out


@dataclass(frozen=True)
class CategoryExample:
    """A mention's text with the risk category an operator gave its incident."""

    text: str
    category: str
    actor: str
    at: datetime
    incident_id: int
    mention_id: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "actor": self.actor,
            "at": self.at.isoformat(timespec="seconds"),
            "incident_id": self.incident_id,
            "mention_id": self.mention_id,
        }


def category_examples(session: Session) -> list[CategoryExample]:
    """One ``(text, category)`` example per mention of every incident whose category an
    operator corrected, from its latest category label."""
    latest = _latest_labels(session, {CATEGORY_KIND})
    out: list[CategoryExample] = []
    if not latest:
        return out
    for mention_id, incident_id, title, text in _mentions_of(session, latest):
        lab = latest[incident_id]
        if lab.category:
            out.append(CategoryExample(mention_text(title, text), lab.category, lab.actor, lab.at, incident_id,
                                       mention_id))
    return out


def category_summary(examples: list[CategoryExample]) -> dict[str, Any]:
    """What the model metadata keeps about the category labels it learned from."""
    return {
        "count": len(examples),
        "by_category": {c: sum(1 for e in examples if e.category == c) for c in sorted({e.category for e in examples})},
        "actors": sorted({e.actor for e in examples}),
        "latest_at": max(e.at for e in examples).isoformat(timespec="seconds") if examples else None,
        "examples": [e.as_dict() for e in examples],
    }


def summary(examples: list[OperatorExample]) -> dict[str, Any]:
    """What the model metadata keeps about the operator labels it learned from."""
    return {
        "count": len(examples),
        "by_kind": {k: sum(1 for e in examples if e.kind == k) for k in KIND_LABEL},
        "actors": sorted({e.actor for e in examples}),
        "latest_at": max(e.at for e in examples).isoformat(timespec="seconds") if examples else None,
        "examples": [e.as_dict() for e in examples],
    }


__all__ = ["OperatorExample", "operator_examples", "summary", "mention_text", "KIND_LABEL", "CategoryExample",
           "category_examples", "category_summary", "CATEGORY_KIND"]
