"""Which mentions tell the same story: character-shingle overlap.

Reposts and rewrites of one story share most of their character 3-grams even
when one adds a sentence or drops a paragraph, so we measure containment (the
share of the smaller shingle set found in the larger) of the normalized
title and opening text.
"""

from __future__ import annotations

import re

_KEEP = re.compile(r"[\w\u4e00-\u9fff]+")
SIGNATURE_CHARS = 400


def normalize(title: str, text: str) -> str:
    return "".join(_KEEP.findall(f"{title} {text}".lower()))[:SIGNATURE_CHARS]


def shingles(signature: str, k: int = 3) -> set[str]:
    if len(signature) <= k:
        return {signature} if signature else set()
    return {signature[i : i + k] for i in range(len(signature) - k + 1)}


def similarity(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    if len(small) < 8:  # too short to judge by overlap
        return 1.0 if small == large else 0.0
    return len(small & large) / len(small)
