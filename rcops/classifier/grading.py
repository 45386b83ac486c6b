"""Grade texts: risk score, category, abusive flag and tier with its explanation.

Used by ``rcops grade`` and by triage (``grade_pending``) so both explain a grade
the same way: the explanation of :func:`rcops.classifier.tiering.assign_tier`
gains ``category`` (with the keywords or model probability that decided it) and
``abusive`` (the flag and its probability, when the model has one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rcops.classifier.category import categorize
from rcops.classifier.model import RiskModel
from rcops.classifier.tiering import Signals, assign_tier, explain_text
from rcops.plans.schema import TierDef


@dataclass(frozen=True)
class TextGrade:
    text: str
    risk_score: float
    tier_code: str | None
    category: str
    abusive: bool | None
    explanation: dict[str, Any]

    def explanation_text(self) -> str:
        return explain_text_full(self.explanation)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier_code,
            "tier_label": self.explanation.get("tier_label"),
            "score": round(self.risk_score, 4),
            "category": self.category,
            "abusive": self.abusive,
            "explanation": self.explanation,
            "explanation_text": self.explanation_text(),
        }


def explain_text_full(explanation: dict[str, Any]) -> str:
    """:func:`explain_text` followed by the category and abusive-language reasons."""
    parts = [explain_text(explanation)]
    cat = explanation.get("category")
    if isinstance(cat, dict) and cat.get("reason"):
        parts.append(str(cat["reason"]))
    ab = explanation.get("abusive")
    if isinstance(ab, dict) and ab.get("flag"):
        parts.append(f"含辱骂/攻击性语言（概率 {ab['probability']:.2f}）")
    return "；".join(parts)


def annotate(model: RiskModel, texts: Sequence[str], scores: Sequence[float]) -> list[dict[str, Any]]:
    """Per text: ``{"category": {...}, "abusive": {...} or None}`` from the companion
    models saved with *model* (keyword rules alone when it has no category model)."""
    cats = categorize(texts, model.category, scores)
    abusive = model.abusive.proba(texts) if model.abusive is not None else [None] * len(texts)
    out = []
    for cat, ab in zip(cats, abusive, strict=True):
        out.append({
            "category": cat.as_dict(),
            "abusive": None if ab is None else {"flag": ab >= 0.5, "probability": round(ab, 3)},
        })
    return out


def annotate_scored(scorer: object, texts: Sequence[str], scores: Sequence[float]) -> list[dict[str, Any]]:
    """:func:`annotate` when *scorer* is a :class:`RiskModel`; for any other scorer
    (a stand-in in tests, say) an empty note per text."""
    if isinstance(scorer, RiskModel):
        return annotate(scorer, texts, scores)
    return [{} for _ in texts]


def mention_fields(note: dict[str, Any]) -> tuple[str | None, bool | None]:
    """``(category, abusive)`` to store on a mention from an :func:`annotate` note."""
    cat = note.get("category")
    ab = note.get("abusive")
    return (cat.get("category") if isinstance(cat, dict) else None,
            bool(ab["flag"]) if isinstance(ab, dict) else None)


def grade_texts(model: RiskModel, texts: Sequence[str], tiers: Sequence[TierDef]) -> list[TextGrade]:
    """Grade each text as a single mention (no reach, one source of unknown level)."""
    scores = model.score(list(texts))
    notes = annotate(model, texts, scores)
    out = []
    for text, score, note in zip(texts, scores, notes, strict=True):
        grade = assign_tier(Signals(risk_score=score, text=text, category=note["category"]["category"]), tiers)
        explanation = {**grade.explanation, **note, "model_version": model.version}
        out.append(TextGrade(text, score, grade.tier_code, note["category"]["category"],
                             None if note["abusive"] is None else bool(note["abusive"]["flag"]), explanation))
    return out


__all__ = ["TextGrade", "grade_texts", "annotate", "annotate_scored", "mention_fields", "explain_text_full"]
