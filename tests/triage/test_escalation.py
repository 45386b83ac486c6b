"""Durable escalation and notifications: real SMTP (aiosmtpd) and a real HTTP receiver."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from rcops.store.models import Incident, Task, utcnow
from rcops.store.models_disposal import Escalation, Notification, NotificationAttempt
from rcops.triage import service
from rcops.triage.engine import check_deadlines, process_pending
from rcops.triage.escalation import dispatch_notifications
from rcops.triage.notify import NotifySettings

from .receivers import HTTPReceiver, SMTPReceiver
from .test_engine import STORY, WordScorer, add_mention, db  # noqa: F401  (fixture)


def cfg(**kw) -> NotifySettings:
    return NotifySettings(_env_file=None, **kw)  # type: ignore[call-arg]


def overdue_incident(db, hours=5):  # noqa: F811
    """A tier-II incident detected ``hours`` ago: its 60 and 240 minute steps are overdue."""
    with db.begin() as s:
        add_mention(s, 1, "村镇银行泄露客户信息", STORY, when=utcnow() - timedelta(hours=hours))
        process_pending(s, WordScorer())
        return s.scalars(select(Incident.id)).one()


def test_breach_is_stored_and_notified_by_email_and_robots(db):  # noqa: F811
    inc_id = overdue_incident(db)
    with HTTPReceiver() as http, SMTPReceiver() as smtp:
        c = cfg(
            targets={
                "operator_lead": ["email:lead@example.cn", f"wecom:{http.url('/wecom')}", f"dingtalk:{http.url('/ding')}"],
                "administrator": ["email:admin@example.cn", f"feishu:{http.url('/feishu')}", f"webhook:{http.url('/hook')}",
                                  "email:lead@example.cn"],
            },
            smtp_port=smtp.port,
        )
        with db.begin() as s:
            assert check_deadlines(s, notify_settings=c) == 2
        with db.begin() as s:
            escs = s.scalars(select(Escalation).order_by(Escalation.id)).all()
            assert [(e.level, e.status) for e in escs] == [(1, "fired"), (2, "pending")] * 2
            assert set(escs[0].roles) == {"administrator", "operator_lead"}  # step notify + escalate roles
            notes = s.scalars(select(Notification)).all()
            # step 1 notifies administrator + operator_lead: lead email, wecom, dingtalk, admin email, feishu,
            # webhook (lead email once though named under both roles); step 2 only operator_lead: 3
            assert len(notes) == 6 + 3
            r = dispatch_notifications(s, c)
            assert (r.sent, r.failed) == (9, 0)
        assert sorted(m["To"] for m in smtp.messages) == ["admin@example.cn", "lead@example.cn", "lead@example.cn"]
        assert "任务超时" in smtp.messages[0]["Subject"] and "北京时间" in smtp.messages[0].get_content()
        by_path = {}
        for path, ctype, payload in http.received:
            by_path.setdefault(path, payload)
            assert ctype.startswith("application/json")
        assert by_path["/wecom"]["msgtype"] == "text" and "超时" in by_path["/wecom"]["text"]["content"]
        assert by_path["/ding"]["msgtype"] == "text" and "村镇银行" in by_path["/ding"]["text"]["content"]
        assert by_path["/feishu"]["msg_type"] == "text" and "督办" in by_path["/feishu"]["content"]["text"]
        assert by_path["/hook"]["title"].startswith("【舆情督办")
        with db() as s:
            assert s.scalars(select(NotificationAttempt)).all() and all(a.ok for a in s.scalars(select(NotificationAttempt)))
            assert all(n.status == "sent" for n in s.scalars(select(Notification)))
    # checking again sends nothing new
    with db.begin() as s:
        assert check_deadlines(s, notify_settings=c) == 0
        assert len(s.scalars(select(Notification)).all()) == 9


def test_escalation_never_fires_after_acknowledgement(db):  # noqa: F811
    inc_id = overdue_incident(db)
    c = cfg(targets={"administrator": ["webhook:http://127.0.0.1:9/never"]}, quiet_hours="")
    with db.begin() as s:
        check_deadlines(s, notify_settings=c)
        assert s.scalars(select(Notification).where(Notification.status == "queued")).all()
    with db.begin() as s:
        service.confirm_tier(s, inc_id, "op1")  # acknowledged
    later = utcnow() + timedelta(hours=3)
    with db.begin() as s:
        check_deadlines(s, now=later, notify_settings=c)
        r = dispatch_notifications(s, c, now=later)
        assert (r.sent, r.retrying, r.failed) == (0, 0, 0)
    with db() as s:
        escs = s.scalars(select(Escalation)).all()
        assert sorted(e.status for e in escs) == ["cancelled", "cancelled", "fired", "fired"]
        assert all(e.fired_at is None for e in escs if e.level == 2)
        assert {n.status for n in s.scalars(select(Notification))} == {"cancelled"}
        assert not s.scalars(select(NotificationAttempt)).all()


def test_second_level_fires_once_when_task_stays_open_and_not_after_completion(db):  # noqa: F811
    inc_id = overdue_incident(db)
    c = cfg(targets={"administrator": ["email:admin@example.cn"]}, escalate_roles=[], second_level_minutes=30)
    with db.begin() as s:
        check_deadlines(s, notify_settings=c)
        first, second = s.scalars(select(Task).where(Task.incident_id == inc_id).order_by(Task.position)).all()[:2]
        service.complete_task(s, first.id, "op1", note="已报告")
    later = utcnow() + timedelta(minutes=31)
    for _ in range(2):
        with db.begin() as s:
            check_deadlines(s, now=later, notify_settings=c)
    with db() as s:
        lvl2 = {e.task_id: e for e in s.scalars(select(Escalation).where(Escalation.level == 2))}
        assert lvl2[first.id].status == "cancelled" and lvl2[second.id].status == "fired"
        assert len(s.scalars(select(Notification).where(Notification.escalation_id == lvl2[second.id].id)).all()) == 1


def test_failed_sends_are_logged_and_retried_with_backoff(db):  # noqa: F811
    overdue_incident(db)
    with HTTPReceiver() as http:
        http.answers["/ding"] = [(500, {}), (200, {"errcode": 310000, "errmsg": "keywords not in content"}),
                                 (200, {"errcode": 0})]
        c = cfg(targets={"administrator": [f"dingtalk:{http.url('/ding')}"]}, escalate_roles=[],
                backoff_seconds=60, max_attempts=3)
        with db.begin() as s:
            check_deadlines(s, notify_settings=c)
            n = s.scalars(select(Notification)).first()
            nid = n.id
            t0 = utcnow()
            assert dispatch_notifications(s, c, now=t0).retrying == 1  # only step 1 notifies the administrator
            assert n.next_attempt_at == t0 + timedelta(seconds=60)
            assert dispatch_notifications(s, c, now=t0 + timedelta(seconds=30)).retrying == 0  # not yet due
            assert dispatch_notifications(s, c, now=t0 + timedelta(seconds=61)).retrying == 1
            assert n.next_attempt_at == t0 + timedelta(seconds=61 + 120)
            assert dispatch_notifications(s, c, now=t0 + timedelta(seconds=200)).sent == 1
        with db() as s:
            attempts = s.scalars(select(NotificationAttempt).where(NotificationAttempt.notification_id == nid)
                                 .order_by(NotificationAttempt.id)).all()
            assert [a.ok for a in attempts] == [False, False, True]
            assert "HTTP 500" in attempts[0].detail and "310000" in attempts[1].detail


def test_gives_up_after_max_attempts(db):  # noqa: F811
    overdue_incident(db)
    c = cfg(targets={"administrator": ["email:admin@example.cn"]}, escalate_roles=[], smtp_port=9, max_attempts=2,
            backoff_seconds=1)
    with db.begin() as s:
        check_deadlines(s, notify_settings=c)
        t = utcnow()
        dispatch_notifications(s, c, now=t)
        r = dispatch_notifications(s, c, now=t + timedelta(seconds=5))
        assert r.failed == 1
        assert {n.status for n in s.scalars(select(Notification))} == {"failed"}
        assert "邮件发送失败" in s.scalars(select(Notification)).first().last_error


def test_quiet_hours_hold_tier_ii_but_not_tier_i(db):  # noqa: F811
    c = cfg(quiet_hours="22:00-07:00")
    night = datetime(2026, 12, 3, 23, 30, tzinfo=timezone(timedelta(hours=8)))
    assert c.quiet_until(night, "II") == datetime(2026, 12, 4, 7, 0, tzinfo=timezone(timedelta(hours=8)))
    assert c.quiet_until(night, "I") is None
    assert c.quiet_until(datetime(2026, 12, 3, 12, 0, tzinfo=timezone(timedelta(hours=8))), "II") is None
    early = datetime(2026, 12, 4, 6, 59, tzinfo=timezone(timedelta(hours=8)))
    assert c.quiet_until(early, "III") == datetime(2026, 12, 4, 7, 0, tzinfo=timezone(timedelta(hours=8)))

    overdue_incident(db)
    c = cfg(targets={"administrator": ["email:admin@example.cn"]}, escalate_roles=[], quiet_hours="22:00-07:00")
    with db.begin() as s:
        check_deadlines(s, now=night.astimezone(timezone.utc), notify_settings=c)
        n = s.scalars(select(Notification)).first()
        assert n.next_attempt_at == datetime(2026, 12, 3, 23, 0, tzinfo=timezone.utc)  # 07:00 Beijing
        assert dispatch_notifications(s, c, now=night.astimezone(timezone.utc)).sent == 0


def test_a_misconfigured_target_is_recorded_and_does_not_block_the_others(db, tmp_path):  # noqa: F811
    from rcops.store.models import AuditEvent

    overdue_incident(db)
    bad_file = tmp_path / "targets.yaml"
    bad_file.write_text("targets: [unclosed", encoding="utf-8")
    c = cfg(targets={"administrator": ["admin@example.cn", "webhook:http://127.0.0.1:9/x"]}, escalate_roles=[],
            targets_file=str(bad_file))
    with db.begin() as s:
        assert check_deadlines(s, notify_settings=c) == 2
        assert [n.target for n in s.scalars(select(Notification))] == ["webhook:http://127.0.0.1:9/x"]
        actions = {e.action for e in s.scalars(select(AuditEvent))}
        assert {"notify_target_invalid", "notify_config_error"} <= actions


def test_bad_target_format_is_a_clear_error():
    from rcops.triage.notify import NotifyError, split_target

    with pytest.raises(NotifyError, match="渠道:地址"):
        split_target("admin@example.cn")
