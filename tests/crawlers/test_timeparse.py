from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rcops.crawlers.timeparse import find_published, parse_published

NOW = datetime(2024, 5, 1, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-04-30T10:00:00+08:00", utc(2024, 4, 30, 2)),
        ("2024-04-30T10:00:00Z", utc(2024, 4, 30, 10)),
        ("2024-04-30T10:00:00", utc(2024, 4, 30, 2)),  # naive: Shanghai
        ("Tue, 30 Apr 2024 10:00:00 GMT", utc(2024, 4, 30, 10)),
        ("Sat, 07 Jan 2006 11:22:33 +0800", utc(2006, 1, 7, 3, 22, 33)),
        ("Sat, 07 Jan 2006 11:22:33 -0000", utc(2006, 1, 7, 11, 22, 33)),
        ("2024-04-30 10:00", utc(2024, 4, 30, 2)),
        ("2024-04-30 10:00:05", utc(2024, 4, 30, 2, 0, 5)),
        ("2024/04/30", utc(2024, 4, 29, 16)),
        ("2024/4/3 08:05", utc(2024, 4, 3, 0, 5)),
        ("2024年4月30日", utc(2024, 4, 29, 16)),
        ("2024年4月30日 09:15", utc(2024, 4, 30, 1, 15)),
        ("2024年04月30日09:15:30", utc(2024, 4, 30, 1, 15, 30)),
        ("刚刚", NOW),
        ("5分钟前", NOW - timedelta(minutes=5)),
        ("3小时前", NOW - timedelta(hours=3)),
        ("2天前", NOW - timedelta(days=2)),
        ("昨天 14:03", utc(2024, 4, 30, 6, 3)),
        ("今天 08:00", utc(2024, 5, 1, 0, 0)),
        ("昨天", utc(2024, 4, 29, 16)),  # day precision: midnight in Shanghai
        ("4月30日 12:00", utc(2024, 4, 30, 4)),
        ("  2024-04-30 10:00  ", utc(2024, 4, 30, 2)),
    ],
)
def test_parse_published(value: str, expected: datetime) -> None:
    result = parse_published(value, NOW)
    assert result == expected
    assert result is not None and result.tzinfo is not None and result.utcoffset() == timedelta(0)


def test_yesterday_is_a_shanghai_day() -> None:
    # 23:30 UTC on 30 April is already 1 May in Shanghai: "昨天" is 30 April there
    now = utc(2024, 4, 30, 23, 30)
    assert parse_published("昨天 09:00", now) == utc(2024, 4, 30, 1)


def test_month_day_without_year_in_january_means_last_year() -> None:
    assert parse_published("12月31日 10:00", utc(2024, 1, 2)) == utc(2023, 12, 31, 2)


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "2024-13-01", "2024-02-30", "前年", "Mon, 99 Foo", "99999999分钟前", "2099-01-01", "\x00", "25:61"],
)
def test_garbage_gives_none(value: str) -> None:
    assert parse_published(value, NOW) is None


def test_non_string_gives_none() -> None:
    assert parse_published(None, NOW) is None  # type: ignore[arg-type]


def test_naive_now_is_taken_as_utc() -> None:
    assert parse_published("刚刚", NOW.replace(tzinfo=None)) == NOW


def test_find_published_in_a_longer_text() -> None:
    assert find_published("来源：新华网 2024-04-30 10:00 责任编辑：李四", NOW) == utc(2024, 4, 30, 2)
    assert find_published("发布于 3小时前 · 阅读 1万", NOW) == NOW - timedelta(hours=3)
    assert find_published("没有时间", NOW) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_parse_published_never_raises(value: str) -> None:
    result = parse_published(value, NOW)
    assert result is None or result.tzinfo is not None
    find_published(value, NOW)


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(
        r"\A(\d{1,6}(秒|分钟|小时|天)前|(今天|昨天|前天) ?\d{1,2}:\d{1,2}|\d{1,5}[-/年.]\d{1,3}[-/月.]\d{1,3}日?( \d{1,2}:\d{1,2}(:\d{1,2})?)?)\Z",
        fullmatch=True,
    ),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)),
)
def test_date_shaped_text_never_raises(value: str, now: datetime) -> None:
    result = parse_published(value, now)
    assert result is None or result.utcoffset() == timedelta(0)


# --------------------------------------------------------------------------- every form in the issue


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("前天", utc(2024, 4, 28, 16)),
        ("前天 08:30", utc(2024, 4, 29, 0, 30)),
        ("半小时前", NOW - timedelta(minutes=30)),
        ("2周前", NOW - timedelta(weeks=2)),
        ("04-30 10:00", utc(2024, 4, 30, 2)),  # MM-DD HH:MM: this year
        ("4/30 10:00:30", utc(2024, 4, 30, 2, 0, 30)),
        ("12-31 23:59", utc(2023, 12, 31, 15, 59)),  # not after the crawl day: last year
        ("02-29 08:00", utc(2024, 2, 29, 0)),
        ("1714442400", utc(2024, 4, 30, 2)),  # epoch seconds
        ("1714442400.5", utc(2024, 4, 30, 2, 0, 0) + timedelta(milliseconds=500)),
        ("1714442400000", utc(2024, 4, 30, 2)),  # epoch milliseconds
        ("Tue, 30 Apr 2024 10:00:00 +0800", utc(2024, 4, 30, 2)),  # RFC 822
        ("30 Apr 2024 10:00 +0800", utc(2024, 4, 30, 2)),
        ("2024-04-30T10:00:00.123+08:00", utc(2024, 4, 30, 2, 0, 0, 123000)),  # ISO
        ("2024-04-30T10:00:00+0800", utc(2024, 4, 30, 2)),
    ],
)
def test_every_form_of_the_issue(value: str, expected: datetime) -> None:
    assert parse_published(value, NOW) == expected


def test_month_day_of_a_leap_day_read_in_a_common_year_is_the_last_leap_year() -> None:
    assert parse_published("02-29 08:00", utc(2025, 3, 1)) == utc(2024, 2, 29, 0)


@pytest.mark.parametrize("value", ["13-01 10:00", "02-30 10:00", "9999999999999", "123456789", "12345678901", "半天前"])
def test_impossible_short_forms_give_none(value: str) -> None:
    assert parse_published(value, NOW) is None


def test_find_published_finds_month_day_without_year() -> None:
    assert find_published("网友 张三 发表于 04-30 10:00 来自 iPhone", NOW) == utc(2024, 4, 30, 2)


SHANGHAI_TZ = ZoneInfo("Asia/Shanghai")
MOMENTS = st.datetimes(
    # from 2002: epoch seconds have 10 digits since September 2001
    min_value=datetime(2002, 1, 1), max_value=datetime(2024, 4, 30), timezones=st.just(timezone.utc)
).map(lambda d: d.replace(microsecond=0))

FORMS = {
    "iso": lambda d: d.astimezone(SHANGHAI_TZ).isoformat(),
    "iso-z": lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "rfc822": lambda d: format_datetime(d),
    "rfc822-local": lambda d: format_datetime(d.astimezone(SHANGHAI_TZ)),
    "epoch": lambda d: str(int(d.timestamp())),
    "epoch-ms": lambda d: str(int(d.timestamp()) * 1000),
    "cn": lambda d: d.astimezone(SHANGHAI_TZ).strftime("%Y年%-m月%-d日 %H:%M:%S"),
    "numeric": lambda d: d.astimezone(SHANGHAI_TZ).strftime("%Y/%m/%d %H:%M:%S"),
}


@settings(max_examples=300, deadline=None)
@given(MOMENTS, st.sampled_from(sorted(FORMS)))
def test_absolute_forms_round_trip(moment: datetime, form: str) -> None:
    assert parse_published(FORMS[form](moment), NOW) == moment


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=24 * 300 - 1), st.integers(0, 59))
def test_relative_and_yearless_forms_round_trip(hours_ago: int, minute: int) -> None:
    moment = (NOW - timedelta(hours=hours_ago)).replace(minute=minute, second=0)
    assume(moment <= NOW)
    local = moment.astimezone(SHANGHAI_TZ)
    assert parse_published(local.strftime("%m-%d %H:%M"), NOW) == moment
    assert parse_published(local.strftime("%-m月%-d日 %H:%M"), NOW) == moment
    minutes = int((NOW - moment).total_seconds() // 60)
    assert parse_published(f"{minutes}分钟前", NOW) == NOW - timedelta(minutes=minutes)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(categories=["Lu", "Ll"]), min_size=1, max_size=30))
def test_letters_alone_are_never_a_time(value: str) -> None:
    assume(value.strip().lower() not in {"z", "now"})
    assert parse_published(value, NOW) is None
