"""The incident life cycle as a pure state machine: states, the transition
table, and one function that returns the new state or raises.

detected → confirmed → disposing → resolved → reported → archived;
dismissed from detected or confirmed (with a reason); a dismissed incident can
be reopened to detected, a resolved one back to disposing.
"""

from __future__ import annotations

from rcops.store.models import IncidentState as S

from .exceptions import IllegalTransition

#: task status → what users read
TASK_STATUS_LABELS: dict[str, str] = {"open": "待办", "done": "已完成", "cancelled": "已取消"}

STATE_LABELS: dict[str, str] = {
    S.detected.value: "待研判",
    S.confirmed.value: "已研判",
    S.disposing.value: "处置中",
    S.resolved.value: "已处置",
    S.reported.value: "已报告",
    S.archived.value: "已归档",
    S.dismissed.value: "已排除",
}

TRANSITIONS: dict[S, frozenset[S]] = {
    S.detected: frozenset({S.confirmed, S.dismissed}),
    S.confirmed: frozenset({S.disposing, S.dismissed}),
    S.disposing: frozenset({S.resolved}),
    S.resolved: frozenset({S.reported, S.disposing}),
    S.reported: frozenset({S.archived}),
    S.archived: frozenset(),
    S.dismissed: frozenset({S.detected}),
}

#: States in which an incident is still open: it gathers mentions and can be re-graded.
OPEN_STATES = frozenset({S.detected.value, S.confirmed.value, S.disposing.value})


def transition(current: str, target: str) -> str:
    """Return ``target`` if the move is allowed, else raise IllegalTransition."""
    try:
        cur, tgt = S(current), S(target)
    except ValueError as exc:
        raise IllegalTransition(f"未知的事件状态：{exc}") from exc
    if tgt not in TRANSITIONS[cur]:
        allowed = "、".join(STATE_LABELS[s.value] for s in sorted(TRANSITIONS[cur], key=lambda s: s.value)) or "无"
        raise IllegalTransition(
            f"事件状态为“{STATE_LABELS[cur.value]}”，不能变为“{STATE_LABELS[tgt.value]}”（可变为：{allowed}）"
        )
    return tgt.value


def allowed_targets(current: str) -> list[str]:
    return sorted(s.value for s in TRANSITIONS[S(current)])
