"""Publication times as Chinese sites and feeds write them, to aware UTC.

``parse_published`` understands ISO 8601, RFC 822 (feeds), ``YYYY-MM-DD HH:MM[:SS]``,
``YYYY/MM/DD``, ``YYYY.MM.DD``, ``YYYY年M月D日[ HH:MM[:SS]]``, ``M月D日 HH:MM``,
``MM-DD HH:MM`` (no year), epoch seconds (10 digits, optionally with a fraction)
and milliseconds (13 digits), and the relative forms ``刚刚``, ``半小时前``,
``N秒前``, ``N分钟前``, ``N小时前``, ``N天前``, ``N周前``, ``今天/昨天/前天 [HH:MM]``.
Relative forms are resolved against ``now`` (the crawl time); a date without a
year is the latest such date not after the crawl day; times without a zone are
Asia/Shanghai. Anything else gives ``None``, never an exception: a page with a
garbled date is still a mention.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_SPACE = r"[\sT\u3000]*"
_TIME = r"(?:" + _SPACE + r"(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2}))?)?"
_NUMERIC_DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + r"$")
_CN_DATE_RE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME + r"$")
_CN_MONTH_DAY_RE = re.compile(r"^(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME + r"$")
_MONTH_DAY_TIME_RE = re.compile(r"^(\d{1,2})[-/](\d{1,2})" + _SPACE + r"(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2}))?$")
_EPOCH_RE = re.compile(r"^(\d{10})(?:\.\d{1,6})?$|^(\d{13})$")
_RELATIVE_RE = re.compile(r"^(\d{1,6})\s*(秒|分钟|分|小时|个小时|天|周|个星期|星期)\s*前$")
_DAY_WORD_RE = re.compile(r"^(今天|昨天|前天)" + _TIME + r"$")
_RELATIVE_UNITS = {
    "秒": "seconds",
    "分钟": "minutes",
    "分": "minutes",
    "小时": "hours",
    "个小时": "hours",
    "天": "days",
    "周": "weeks",
    "个星期": "weeks",
    "星期": "weeks",
}
_DAY_OFFSETS = {"今天": 0, "昨天": 1, "前天": 2}
_MIN_YEAR = 1970


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(timezone.utc)


def _local(year: int, month: int, day: int, hh: str | None, mm: str | None, ss: str | None) -> datetime:
    return datetime(year, month, day, int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=SHANGHAI)


def _without_year(local_now: datetime, month: int, day: int, hh: str | None, mm: str | None, ss: str | None) -> datetime:
    """The latest ``month``-``day`` not after the crawl day ("12月31日" read in January is last year;
    "02-29" read in a common year is the last leap year's)."""
    for year in range(local_now.year, local_now.year - 8, -1):
        try:
            candidate = _local(year, month, day, hh, mm, ss)
        except ValueError:  # 29 February of a common year, or no such date at all
            if month == 2 and day == 29:
                continue
            raise
        if candidate <= local_now + timedelta(days=1):
            return candidate
    raise ValueError("no such month and day")


def _parse(value: str, now: datetime) -> datetime | None:
    text = value.strip().replace("\u3000", " ")
    if not text:
        return None
    if text in ("刚刚", "刚才"):
        return now
    if text in ("半小时前", "半个小时前"):
        return now - timedelta(minutes=30)
    m = _EPOCH_RE.match(text)
    if m:
        seconds = float(text) if m.group(1) else int(m.group(2)) / 1000
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    m = _RELATIVE_RE.match(text)
    if m:
        return now - timedelta(**{_RELATIVE_UNITS[m.group(2)]: int(m.group(1))})
    local_now = now.astimezone(SHANGHAI)
    m = _DAY_WORD_RE.match(text)
    if m:
        day = local_now.date() - timedelta(days=_DAY_OFFSETS[m.group(1)])
        return _local(day.year, day.month, day.day, m.group(2), m.group(3), m.group(4))
    m = _CN_DATE_RE.match(text) or _NUMERIC_DATE_RE.match(text)
    if m:
        y, mo, d, hh, mi, ss = m.groups()
        return _local(int(y), int(mo), int(d), hh, mi, ss)
    m = _CN_MONTH_DAY_RE.match(text) or _MONTH_DAY_TIME_RE.match(text)
    if m:
        mo, d, hh, mi, ss = m.groups()
        return _without_year(local_now, int(mo), int(d), hh, mi, ss)
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # RFC 2822 "-0000": UTC, local zone unknown (the stdlib gives a naive datetime)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def parse_published(value: str, now: datetime) -> datetime | None:
    """The publication time in ``value`` as an aware UTC datetime, or ``None``.

    ``now`` is the crawl time (aware; a naive ``now`` is taken as UTC) against
    which relative forms (``5分钟前``, ``昨天 14:03``) are resolved.
    """
    if not isinstance(value, str) or len(value) > 200:
        return None
    try:
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        result = _parse(value, now)
        if result is None:
            return None
        result = _to_utc(result)
    except (ValueError, OverflowError, TypeError, ArithmeticError):
        return None
    if result.year < _MIN_YEAR or result > now + timedelta(days=2):
        return None
    return result


_EMBEDDED_RE = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号]?(?:\s*\d{1,2}[:：]\d{1,2}(?:[:：]\d{1,2})?)?"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[\sT]+\d{1,2}:\d{1,2}(?::\d{1,2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|(?:今天|昨天|前天)\s*\d{1,2}[:：]\d{1,2}"
    r"|(?<![\d-])\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}"
    r"|\d{1,6}\s*(?:秒|分钟|个小时|小时|天|周)\s*前"
    r"|半小时前"
    r"|刚刚"
)


def find_published(text: str, now: datetime) -> datetime | None:
    """Like :func:`parse_published`, but also finds a time inside a longer text
    (``"来源：新华网 2024-04-30 10:00"``); the first one that parses wins."""
    if not isinstance(text, str):
        return None
    result = parse_published(text, now)
    if result is not None:
        return result
    for match in _EMBEDDED_RE.finditer(text[:2000]):
        result = parse_published(match.group(0), now)
        if result is not None:
            return result
    return None


__all__ = ["parse_published", "find_published", "SHANGHAI"]
