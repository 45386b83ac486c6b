"""Write an audit event in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import AuditEvent, utcnow


def record(
    session: Session,
    actor: str,
    entity_type: str,
    entity_id: object,
    action: str,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        at=utcnow(),
        actor=actor,
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        detail=detail,
    )
    session.add(event)
    return event
