"""Why the KPI worker publishes fewer views.kpi records than the pure core run in delivery order, and why that is right.

A worker reads events.shift and events.booking (six partitions each) and meets a shift's events in each topic's
order, but not in the order the two topics were written in: it may fold a shift's booking outcomes (a refusal, a
fill) before the shift's posting. A revision made while nothing places the shift yet (no trust or start:
``known`` is false) has no ShiftKpi to publish; the record published once the shift is placed carries it. So the
number of records depends on the order; the revisions made, and each shift's last record (the one a reader of
the compacted topic keeps), do not. bench/kpi_bench.py reports both counts and checks the last records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rosterhub.streams.booking.policy import load_booking_policies
from rosterhub.streams.kpi.facts import apply, known, reads
from rosterhub.streams.kpi.policy import KpiPolicies, load_kpi_policies
from tests.kpi_pure import run_pure
from tests.kpi_traffic import generate

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def policies() -> KpiPolicies:
    return load_kpi_policies([REPO / "policies/kpi"], load_booking_policies([REPO / "policies/booking"]))


def _unplaced_revisions(order: list) -> int:
    """Revisions made while the shift could not be placed (what the agent does not publish)."""
    table: dict[str, Any] = {}
    unplaced = 0
    for _, key, env in order:
        if not reads(env.type, env.source) or (key in table and env.id in table[key]["seen"]):
            continue
        after = apply(table.get(key), env.type, env.data, event_id=env.id, at=env.time)
        if (key not in table or after["revision"] != table[key]["revision"]) and not known(after):
            unplaced += 1
        table[key] = after
    return unplaced


def test_the_order_of_the_two_topics_changes_how_many_records_not_each_shifts_last_record(
    policies: KpiPolicies,
) -> None:
    delivered = [d for d in generate(seed=13, shifts_per_trust_day=3).delivered() if d[0] != "passport"]
    orders = {  # each keeps every topic's own order, as a worker meets it
        "delivered": delivered,
        "shift topic first": [d for d in delivered if d[0] == "shift"] + [d for d in delivered if d[0] != "shift"],
        "booking topic first": [d for d in delivered if d[0] != "shift"] + [d for d in delivered if d[0] == "shift"],
    }
    runs = {}
    for name, order in orders.items():
        last: dict[str, dict[str, Any]] = {}
        _, published = run_pure(order, policies, last)
        revisions = sum(row["revision"] for row in last.values())  # a shift's revision counts its changes
        runs[name] = (published, revisions, last)
        assert published == revisions - _unplaced_revisions(order), name
    published, revisions, last = runs["delivered"]
    for name, (_, other_revisions, other_last) in runs.items():
        assert other_last == last, name  # the compacted topic's content: the same, record for record
        assert other_revisions == revisions, name
    assert runs["booking topic first"][0] < published - 100  # booking outcomes before their posting: not published
