"""The risk categories of a mention, by name — no imports, so that the rules schema
(:mod:`rcops.plans.schema`) can validate ``categories_any`` without loading the
category model's libraries. :mod:`rcops.classifier.category` classifies into them.
"""

from __future__ import annotations

OTHER = "其他"

#: graver categories first (ties between categories go to the earlier one)
CATEGORIES: tuple[str, ...] = (
    "非法集资/诈骗",
    "信息泄露/隐私",
    "暴力催收",
    "贷款不公/拒贷",
    "系统故障",
    "工作人员违规",
    "政策误解",
    OTHER,
)



def dominant_category(categories: list[str | None] | tuple[str | None, ...]) -> str | None:
    """The category of an incident from its mentions' categories: the most frequent one
    other than 其他 (ties go to the graver, earlier in :data:`CATEGORIES`); 其他 when
    every classified mention is 其他; None when none is classified."""
    known = [c for c in categories if c in CATEGORIES]
    if not known:
        return None
    risky = [c for c in known if c != OTHER]
    if not risky:
        return OTHER
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return min(set(risky), key=lambda c: (-risky.count(c), order[c]))


__all__ = ["CATEGORIES", "OTHER", "dominant_category"]
