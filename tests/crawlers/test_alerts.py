"""A blocked source: one alert per blocking episode, a growing back-off, closed by the next success."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from rcops.crawlers.alerts import backoff_until, note_run_outcome, queue_alert_notifications, source_alerts
from rcops.crawlers.health import source_health
from rcops.store.models import AuditEvent, CrawlRun, Source, SourceAlert
from rcops.store.models_disposal import Notification

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=timezone.utc)
BLOCKED = "疑似被拦截：页面是验证或登录页（“安全验证”）：https://w.example.cn/list.html"


def finish(session: Any, source: Source, status: str, error: str | None, at: datetime) -> dict[str, Any] | None:
    run = CrawlRun(source_id=source.id, status=status, error=error, started_at=at, finished_at=at)
    session.add(run)
    session.flush()
    return note_run_outcome(session, run, now=at)


def test_one_alert_per_episode_with_a_growing_backoff_closed_by_a_success(session_factory) -> None:
    with session_factory.begin() as s:
        source = Source(key="walled", name="某论坛", kind="html", url="https://w.example.cn/list.html", interval_seconds=600)
        s.add(source)
        s.flush()
        changes = [
            finish(s, source, "failed", BLOCKED, T0),
            finish(s, source, "failed", BLOCKED, T0 + timedelta(minutes=20)),
            finish(s, source, "failed", "信息源返回 HTTP 503：https://w.example.cn/list.html", T0 + timedelta(minutes=60)),
            finish(s, source, "failed", BLOCKED, T0 + timedelta(minutes=90)),
        ]
    assert [c and c["change"] for c in changes] == ["opened", "extended", None, "extended"]
    # 15 minutes, then 30, then 60: the site being down in between neither counts nor resets
    assert [c["retry_at"] - at for c, at in ((changes[0], T0), (changes[1], T0 + timedelta(minutes=20)),
                                             (changes[3], T0 + timedelta(minutes=90)))] == [
        timedelta(minutes=15), timedelta(minutes=30), timedelta(minutes=60)]
    with session_factory() as s:
        assert backoff_until(s, "walled", T0 + timedelta(minutes=100)) == T0 + timedelta(minutes=150)
        assert backoff_until(s, "walled", T0 + timedelta(minutes=151)) is None
        [alert] = source_alerts(s, T0 + timedelta(minutes=100))
        assert (alert["source"], alert["label"], alert["blocks"], alert["backing_off"]) == ("walled", "疑似被拦截", 3, True)
        assert alert["reason"] == BLOCKED and "rcops crawl walled" in alert["advice"]
        [row] = source_health(s, T0 + timedelta(minutes=100))
        assert row["flags"] == ["连续失败", "被拦截"] and row["blocked_until"] == T0 + timedelta(minutes=150)
        assert row["retry_after_seconds"] == 50 * 60 and row["alert"]["id"] == alert["id"]
    with session_factory.begin() as s:
        source = s.scalar(select(Source))
        closed = finish(s, source, "ok", None, T0 + timedelta(minutes=160))
        assert closed is not None and closed["change"] == "closed"
        assert finish(s, source, "ok", None, T0 + timedelta(minutes=170)) is None
        reopened = finish(s, source, "failed", BLOCKED, T0 + timedelta(minutes=180))
        assert reopened is not None and reopened["change"] == "opened"  # a new episode starts at 15 minutes again
        assert reopened["retry_at"] == T0 + timedelta(minutes=195)
    with session_factory() as s:
        alerts = s.scalars(select(SourceAlert).order_by(SourceAlert.id)).all()
        assert [(a.blocks, a.closed_reason) for a in alerts] == [(3, "抓取恢复成功"), (1, "")]
        assert source_alerts(s, T0 + timedelta(minutes=181))[0]["id"] == alerts[1].id
        assert len(source_alerts(s, T0, include_closed=True)) == 2
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "source").order_by(AuditEvent.id)).all()
        assert actions == ["alert_opened", "alert_extended", "alert_extended", "alert_closed", "alert_opened"]


def test_the_duty_officers_are_notified_once_per_alert(session_factory) -> None:
    targets = {"duty_officer": ["email:duty@example.cn", "wecom:https://qyapi.example.cn/hook"],
               "administrator": ["email:admin@example.cn"]}
    with session_factory.begin() as s:
        source = Source(key="walled", name="某论坛", kind="html", url="https://w.example.cn/list.html")
        s.add(source)
        s.flush()
        opened = finish(s, source, "failed", BLOCKED, T0)
        assert queue_alert_notifications(s, opened["alert_id"], targets, now=T0) == 2
        assert queue_alert_notifications(s, opened["alert_id"], targets, now=T0) == 0
    with session_factory() as s:
        notes = s.scalars(select(Notification).order_by(Notification.id)).all()
        assert [(n.channel, n.role, n.incident_id, n.status) for n in notes] == [
            ("email", "duty_officer", None, "queued"), ("wecom", "duty_officer", None, "queued")]
        assert notes[0].subject == "【信息源告警】某论坛（walled）疑似被拦截"
        assert "定时抓取暂停至：2026-05-01 10:15（北京时间）" in notes[0].body and "安全验证" in notes[0].body
