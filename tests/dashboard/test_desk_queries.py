"""The alert desk's queries at volume: an old grave incident is never crowded out by newer minor ones."""

from __future__ import annotations

from datetime import timedelta

from rcops.operations import desk
from rcops.plans.store_io import tier_defs
from rcops.store.models import Incident, utcnow

from .conftest import TITLE_I, TITLE_II, TITLE_III, populate

OPEN = ["confirmed", "detected", "disposing"]


def test_gravest_first_over_all_open_incidents_and_exact_counts(session_factory):
    seeded = populate(session_factory)
    now = utcnow()
    with session_factory.begin() as s:
        for n in range(80):  # newer, minor, open
            s.add(Incident(title=f"小事{n}", tier_code="IV", suggested_tier_code="IV", state="detected",
                           detected_at=now + timedelta(minutes=n), last_mention_at=now + timedelta(minutes=n)))
        s.add(Incident(title="已办结", tier_code="I", suggested_tier_code="I", state="resolved",
                       last_mention_at=now + timedelta(hours=5)))
    with session_factory() as s:
        ranks = {t.code: t.rank for t in tier_defs(s)}
        top = desk.top_incidents(s, OPEN, ranks, 10)
        assert [i.id for i in top[:3]] == [seeded.ids[t] for t in (TITLE_I, TITLE_II, TITLE_III)]
        assert [i.title for i in top[3:5]] == ["小事79", "小事78"]
        assert desk.incident_counts_by_tier(s, OPEN) == {"I": 1, "II": 1, "III": 1, "IV": 80}
        choices = desk.incident_choices(s, ranks, OPEN, limit=5)
        assert [c[1] for c in choices][:3] == [TITLE_I, TITLE_II, TITLE_III]
        assert choices[-1][1] == "已办结"
        hours = desk.mentions_per_hour(s, now - timedelta(hours=3), incident_states=OPEN)
        assert sorted((code, n) for _, code, n in hours) == [("I", 1), ("II", 1)]
