"""Masking of personal data in crawled text (个人信息脱敏).

Three kinds are masked, in this order so a longer number is never read as a
shorter one:

1. 18-digit mainland resident ID numbers: 17 digits + a digit or X, with a
   plausible region digit and birth date. The check digit is *not* required
   to be right: a mistyped ID number is still personal data (better over-mask).
2. Bank card numbers: 16–19 digits, contiguous or in groups of four, passing
   the Luhn check (python-stdnum).
3. Mobile numbers: ``1[3-9]`` + 9 digits, optionally ``+86``/``86`` in front and
   3-4-4 separators, never part of a longer digit run.

A few digits stay visible (``110101********123X``, ``6222 **** **** 1234``,
``138****5678``) so operators can still tell two people apart.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import luhn

_ID_RE = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})((?:18|19|20)\d{2})(\d{2})(\d{2})(\d{3})([0-9Xx])(?![0-9A-Za-z])")
_CARD_RE = re.compile(
    r"(?<![\d])(?:\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?|\d{16,19})(?![\d])"
)
_MOBILE_RE = re.compile(
    r"(?<![\d+])((?:\+86|86)[ -]?)?(1[3-9]\d)([ -]?)(\d{4})([ -]?)(\d{4})(?![\d])"
)


def _plausible_birth_date(year: str, month: str, day: str) -> bool:
    try:
        born = date(int(year), int(month), int(day))
    except ValueError:
        return False
    return date(1880, 1, 1) <= born <= date.today()


def _mask_digits(value: str, keep_head: int, keep_tail: int) -> str:
    """Replace digits except the first ``keep_head`` and last ``keep_tail`` ones; keep separators."""
    total = sum(ch.isdigit() or ch in "Xx" for ch in value)
    out = []
    seen = 0
    for ch in value:
        if ch.isdigit() or ch in "Xx":
            seen += 1
            out.append(ch if seen <= keep_head or seen > total - keep_tail else "*")
        else:
            out.append(ch)
    return "".join(out)


def mask_personal_data(text: str) -> tuple[str, int]:
    """Mask ID numbers, bank card numbers and mobile numbers; return (masked text, how many)."""
    if not text:
        return text or "", 0
    count = 0

    def id_sub(m: re.Match[str]) -> str:
        nonlocal count
        if not _plausible_birth_date(m.group(2), m.group(3), m.group(4)):
            return m.group(0)
        count += 1
        return _mask_digits(m.group(0), 6, 4)

    def card_sub(m: re.Match[str]) -> str:
        nonlocal count
        raw = m.group(0)
        digits = re.sub(r"[ -]", "", raw)
        if not 16 <= len(digits) <= 19 or not luhn.is_valid(digits):
            return raw
        count += 1
        return _mask_digits(raw, 4, 4)

    def mobile_sub(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        prefix, head, sep1, middle, sep2, tail = m.groups()
        return f"{prefix or ''}{head}{sep1}****{sep2}{tail}"

    text = _ID_RE.sub(id_sub, text)
    text = _CARD_RE.sub(card_sub, text)
    text = _MOBILE_RE.sub(mobile_sub, text)
    return text, count


__all__ = ["mask_personal_data"]
