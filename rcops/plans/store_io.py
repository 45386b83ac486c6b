"""Tiers and plans in the store: install a validated rules document as new
versions, and read back the rules in force.

A plan version is never edited: a change creates version N+1 and marks it
current; incidents keep the ``plan_id`` they were handled under.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.store.access import require
from rcops.store.audit import record
from rcops.store.models import PlanStep, ResponsePlan, Tier

from .schema import PlanDef, Rules, StepDef, TierDef, parse_rules


def _plan_signature(name: str, steps: list[StepDef] | tuple[StepDef, ...]) -> tuple:
    return (name, tuple((s.title, s.role, s.deadline_minutes, tuple(s.notify), s.on_breach, s.relative_to,
                         tuple(s.checklist), bool(s.daily)) for s in steps))


def _stored_steps(plan: ResponsePlan) -> list[StepDef]:
    return [StepDef(s.title, s.role, s.deadline_minutes, tuple(s.notify), s.on_breach, s.relative_to or "detection",
                    tuple(s.checklist or ()), bool(s.daily)) for s in plan.steps]


def install_rules(session: Session, rules: Rules, actor: str) -> dict[str, int]:
    """Store ``rules``: changed tiers get a new version, changed plans a new plan version."""
    require(session, actor, "plans.edit")
    changed = {"tiers": 0, "plans": 0}
    existing = {t.code: t for t in session.scalars(select(Tier))}
    for td in rules.tiers:
        criteria = {"any_of": [dict(g) for g in td.any_of]}
        row = existing.get(td.code)
        if row is None:
            row = Tier(code=td.code, rank=td.rank, name=td.name, color=td.color, criteria=criteria,
                       version=1, updated_by=actor)
            session.add(row)
            session.flush()
            record(session, actor, "tier", td.code, "created", name=td.name, criteria=criteria)
            changed["tiers"] += 1
        elif (row.rank, row.name, row.color, row.criteria) != (td.rank, td.name, td.color, criteria):
            before = {"rank": row.rank, "name": row.name, "color": row.color, "criteria": row.criteria}
            row.rank, row.name, row.color, row.criteria = td.rank, td.name, td.color, criteria
            row.version += 1
            row.updated_by = actor
            record(session, actor, "tier", td.code, "updated", before=before, version=row.version)
            changed["tiers"] += 1
    for pd in rules.plans:
        current = current_plan(session, pd.tier)
        if current is not None and _plan_signature(current.name, _stored_steps(current)) == _plan_signature(
            pd.name, pd.steps
        ):
            continue
        version = 1
        if current is not None:
            current.is_current = False
            version = current.version + 1
        plan = ResponsePlan(tier_code=pd.tier, version=version, name=pd.name, is_current=True, created_by=actor)
        for i, s in enumerate(pd.steps, start=1):
            plan.steps.append(PlanStep(position=i, title=s.title, role=s.role, deadline_minutes=s.deadline_minutes,
                                       notify=list(s.notify), on_breach=s.on_breach, relative_to=s.relative_to,
                                       checklist=list(s.checklist), daily=s.daily))
        session.add(plan)
        session.flush()
        record(session, actor, "response_plan", plan.id, "created", tier=pd.tier, version=version,
               steps=len(pd.steps))
        changed["plans"] += 1
    return changed


def current_plan(session: Session, tier_code: str) -> ResponsePlan | None:
    return session.scalars(
        select(ResponsePlan).where(ResponsePlan.tier_code == tier_code, ResponsePlan.is_current.is_(True))
    ).first()


def current_rules(session: Session) -> Rules:
    """The rules in force, read from the store (validated again on the way out)."""
    tiers = list(session.scalars(select(Tier).order_by(Tier.rank)))
    doc = {
        "tiers": [
            {"code": t.code, "rank": t.rank, "name": t.name, "color": t.color, "any_of": t.criteria.get("any_of", [])}
            for t in tiers
        ],
        "plans": [],
    }
    for t in tiers:
        plan = current_plan(session, t.code)
        if plan is not None:
            doc["plans"].append({
                "tier": t.code, "name": plan.name,
                "steps": [{"title": s.title, "role": s.role,
                           ("after_previous_minutes" if s.relative_to == "previous" else "deadline_minutes"):
                               s.deadline_minutes,
                           "notify": list(s.notify), "on_breach": s.on_breach,
                           "checklist": list(s.checklist or []), "daily": bool(s.daily)} for s in plan.steps],
            })
    return parse_rules(doc)


def tier_defs(session: Session) -> list[TierDef]:
    return list(current_rules(session).tiers)


__all__ = ["install_rules", "current_plan", "current_rules", "tier_defs", "PlanDef"]
