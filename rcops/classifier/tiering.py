"""Tier assignment: the administrator's criteria applied to what we know of a
mention or an incident.

A tier is reached when all conditions of any one of its rule groups hold; the
gravest tier reached wins. Every grade carries an explanation: the rule group
that fired and each condition with the observed value and the threshold.
Nothing reached means "no tier": the mention is stored but opens no incident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rcops.plans.schema import CONDITIONS, MEDIA_LEVELS, TierDef


@dataclass(frozen=True)
class Signals:
    """What grading looks at. For a single mention, mentions=1 and sources=1."""

    risk_score: float
    text: str = ""
    reach: int = 0
    mentions: int = 1
    sources: int = 1
    media_levels: frozenset[str] = field(default_factory=frozenset)
    growth_per_hour: int = 0
    #: risk category (:data:`rcops.classifier.taxonomy.CATEGORIES`) of the mention, or the
    #: incident's category (its mentions' most frequent one); None when not classified
    category: str | None = None


@dataclass(frozen=True)
class Grade:
    tier_code: str | None
    explanation: dict[str, Any]


def _check(name: str, threshold: Any, s: Signals) -> tuple[bool, Any]:
    if name == "risk_score_min":
        return s.risk_score >= threshold, round(s.risk_score, 3)
    if name == "keywords_any":
        hits = [w for w in threshold if w in s.text]
        return bool(hits), hits
    if name == "reach_min":
        return s.reach >= threshold, s.reach
    if name == "mentions_min":
        return s.mentions >= threshold, s.mentions
    if name == "sources_min":
        return s.sources >= threshold, s.sources
    if name == "media_levels":
        hits = sorted(set(threshold) & s.media_levels)
        return bool(hits), [MEDIA_LEVELS.get(h, h) for h in hits]
    if name == "growth_per_hour_min":
        return s.growth_per_hour >= threshold, s.growth_per_hour
    if name == "categories_any":
        hit = s.category is not None and s.category in threshold
        return hit, [s.category] if hit else (s.category or "未分类")
    raise ValueError(f"unknown condition {name}")


def assign_tier(signals: Signals, tiers: Sequence[TierDef]) -> Grade:
    """The gravest tier whose rule group fully holds, with the explanation."""
    for tier in sorted(tiers, key=lambda t: t.rank):
        for index, group in enumerate(tier.any_of, start=1):
            results = [(name, threshold, *_check(name, threshold, signals)) for name, threshold in group.items()]
            if all(ok for _, _, ok, _ in results):
                return Grade(
                    tier.code,
                    {
                        "tier": tier.code,
                        "tier_label": tier.label,
                        "rule_group": index,
                        "conditions": [
                            {"condition": name, "label": CONDITIONS[name][0], "value": value, "threshold": threshold}
                            for name, threshold, _, value in results
                        ],
                        "risk_score": round(signals.risk_score, 3),
                    },
                )
    return Grade(None, {"tier": None, "risk_score": round(signals.risk_score, 3), "reason": "未达到任何等级的标准"})


def explain_text(explanation: dict[str, Any]) -> str:
    """A one-line Chinese reading of an explanation, for lists and notifications."""
    if not explanation or not explanation.get("tier"):
        return explanation.get("reason", "未分级") if explanation else "未分级"
    parts = []
    for c in explanation.get("conditions", []):
        value = c["value"]
        if isinstance(value, list):
            value = "、".join(map(str, value))
        thr = c["threshold"]
        if isinstance(thr, list):
            parts.append(f"{c['label']}命中：{value}")
        else:
            parts.append(f"{c['label']} {value} ≥ {thr}")
    return f"{explanation.get('tier_label', explanation['tier'])}（规则组 {explanation.get('rule_group')}）：" + "；".join(parts)


def rank_of(code: str | None, tiers: Iterable[TierDef]) -> int:
    """Rank of a tier code (1 gravest); no tier ranks below every tier."""
    for t in tiers:
        if t.code == code:
            return t.rank
    return 10_000
