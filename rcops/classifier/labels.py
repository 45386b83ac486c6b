"""Operators' judgements as training examples.

Every confirmation, correction or dismissal of an incident is a ``GradeLabel`` row
(written by ``rcops.triage.service``). For training, the *latest* label of each
incident decides: ``confirm`` or ``correct`` → every mention of the incident is a
risky example (label 1); ``dismiss`` → every mention is label 0. Who gave the
label and when is kept with each example and recorded in the model's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.store.models import GradeLabel, Mention

#: label kind → training label
KIND_LABEL = {"confirm": 1, "correct": 1, "dismiss": 0}


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


def operator_examples(session: Session) -> list[OperatorExample]:
    """One example per mention of every labelled incident, from its latest label."""
    latest: dict[int, GradeLabel] = {}
    for row in session.scalars(select(GradeLabel).order_by(GradeLabel.at, GradeLabel.id)):
        if row.kind in KIND_LABEL:
            latest[row.incident_id] = row
    if not latest:
        return []
    out: list[OperatorExample] = []
    mentions = session.execute(
        select(Mention.id, Mention.incident_id, Mention.title, Mention.text)
        .where(Mention.incident_id.in_(list(latest)))
        .order_by(Mention.id)
    ).all()
    for mention_id, incident_id, title, text in mentions:
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


def summary(examples: list[OperatorExample]) -> dict[str, Any]:
    """What the model metadata keeps about the operator labels it learned from."""
    return {
        "count": len(examples),
        "by_kind": {k: sum(1 for e in examples if e.kind == k) for k in KIND_LABEL},
        "actors": sorted({e.actor for e in examples}),
        "latest_at": max(e.at for e in examples).isoformat(timespec="seconds") if examples else None,
        "examples": [e.as_dict() for e in examples],
    }


__all__ = ["OperatorExample", "operator_examples", "summary", "mention_text", "KIND_LABEL"]
