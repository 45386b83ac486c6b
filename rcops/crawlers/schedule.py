"""When a source is crawled: every ``interval_seconds``, or by a 5-field cron expression.

A cron expression is read as standard cron (``分 时 日 月 星期``) in Asia/Shanghai (the
settings' time zone), with two differences from APScheduler 3's ``CronTrigger.from_crontab``
smoothed over so that what an operator writes is what runs:

* day of week: cron counts ``0``/``7`` = Sunday, ``1`` = Monday; APScheduler counts
  ``0`` = Monday. Numbers are translated to day names here, so ``1-5`` is Monday–Friday.
* day of month *and* day of week restricted: cron runs when either matches (``0 9 1 * 1``
  runs on the 1st and on every Monday); APScheduler would need both. Such an expression
  becomes an ``OrTrigger`` of the two.

``@hourly``, ``@daily`` (``@midnight``), ``@weekly``, ``@monthly`` and ``@yearly``
(``@annually``) are accepted too. :func:`check_cron` says which field is wrong, in Chinese.
Imports no Scrapy.
"""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timezone as dt_timezone

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

#: the five fields: APScheduler name, Chinese name, allowed values (for the error message)
FIELDS = (
    ("minute", "分钟", "0–59"),
    ("hour", "小时", "0–23"),
    ("day", "日", "1–31"),
    ("month", "月", "1–12 或 jan–dec"),
    ("day_of_week", "星期", "0–7（0 和 7 为星期日，1 为星期一）或 sun–sat"),
)
MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
#: cron numbering of days (0 and 7 are Sunday) → APScheduler's day names
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_ITEM = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")


class CronError(ValueError):
    """A cron expression that cannot be used; the message (Chinese) names the field."""


def _day(token: str, text: str) -> int:
    if token.isdigit():
        number = int(token)
        if not 0 <= number <= 7:
            raise CronError(f"第 5 段“星期”的值 {text!r} 无效：{token} 超出范围（可用 {FIELDS[4][2]}）")
        return number % 7
    if token[:3] in DAY_NAMES and len(token) == 3:
        return DAY_NAMES.index(token)
    raise CronError(f"第 5 段“星期”的值 {text!r} 无效：不认识 {token!r}（可用 {FIELDS[4][2]}）")


def _day_of_week(text: str) -> str:
    """A cron day-of-week field as APScheduler's list of day names (``*`` stays ``*``)."""
    days: set[int] = set()
    for item in text.lower().split(","):
        match = _DOW_ITEM.match(item)
        if match is None:
            raise CronError(f"第 5 段“星期”的值 {text!r} 无效：无法识别 {item!r}（写法如 1-5、mon,wed、*/2）")
        span, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise CronError(f"第 5 段“星期”的值 {text!r} 无效：步长须不小于 1")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first_token, last_token = span.split("-")
            first, last = _day(first_token, text), _day(last_token, text)
            if last == 0 and first > 0:  # 5-7, fri-sun: up to Sunday
                last = 7
            if last < first:
                raise CronError(f"第 5 段“星期”的值 {text!r} 无效：范围 {span} 的起点大于终点")
        else:
            first = last = _day(span, text)
            if step_text:
                last = 6
        days.update(d % 7 for d in range(first, last + 1, step))
    if days == set(range(7)):
        return "*"
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def parse_cron(expression: str) -> dict[str, str]:
    """The APScheduler ``CronTrigger`` fields of a 5-field cron expression.

    Raises :class:`CronError` naming the bad field (第 n 段“…”) and why.
    """
    text = " ".join(str(expression or "").split())
    text = MACROS.get(text.lower(), text)
    parts = text.split(" ") if text else []
    if len(parts) != 5:
        raise CronError(
            f"须为 5 段（分钟 小时 日 月 星期，以空格分隔，如 “30 8 * * 1-5”），实际为 {len(parts)} 段：{expression!r}"
        )
    fields: dict[str, str] = {}
    for position, ((name, label, allowed), value) in enumerate(zip(FIELDS, parts), start=1):
        if name == "day_of_week":
            fields[name] = _day_of_week(value)
            continue
        try:
            CronTrigger(**{name: value}, timezone="UTC")
        except ValueError:
            raise CronError(f"第 {position} 段“{label}”的值 {value!r} 无效（可用 {allowed}，写法如 5、1-5、*/10、1,15）") from None
        fields[name] = value
    return fields


def check_cron(expression: str) -> str:
    """The expression normalised (single spaces), or :class:`CronError` — also for a valid expression
    that never fires (31 February, 31 April …): the source would silently never be crawled."""
    parse_cron(expression)
    normalised = " ".join(str(expression).split())
    if cron_trigger(normalised, "Asia/Shanghai").get_next_fire_time(None, datetime.now(dt_timezone.utc)) is None:
        raise CronError(f"cron “{normalised}”永远不会触发（日期不存在，如 2 月 31 日）；请检查“日”和“月”两段")
    return normalised


def cron_trigger(expression: str, timezone: str) -> BaseTrigger:
    """The trigger of a cron expression in ``timezone`` (cron semantics, see the module docstring)."""
    fields = parse_cron(expression)
    day_given, dow_given = fields["day"] != "*", fields["day_of_week"] != "*"
    if day_given and dow_given:
        return OrTrigger([
            CronTrigger(**{**fields, "day_of_week": "*"}, timezone=timezone),
            CronTrigger(**{**fields, "day": "*"}, timezone=timezone),
        ])
    return CronTrigger(**fields, timezone=timezone)


def source_trigger(cron: str | None, interval_seconds: int, timezone: str) -> BaseTrigger:
    """The trigger of a source: its cron expression when it has one, else its interval."""
    if cron:
        return cron_trigger(cron, timezone)
    return IntervalTrigger(seconds=max(5, int(interval_seconds)), timezone=timezone)


def describe(cron: str | None, interval_seconds: int) -> str:
    """The schedule in words, for ``rcops sources`` and the console."""
    if cron:
        return f"cron {cron}"
    seconds = int(interval_seconds)
    if seconds % 3600 == 0:
        return f"每 {seconds // 3600} 小时"
    if seconds % 60 == 0:
        return f"每 {seconds // 60} 分钟"
    return f"每 {seconds} 秒"


__all__ = ["CronError", "parse_cron", "check_cron", "cron_trigger", "source_trigger", "describe"]
