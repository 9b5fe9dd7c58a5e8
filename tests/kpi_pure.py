"""The KPI processor's pure core run over a delivered stream, exactly as the agents do, into a read model."""

from __future__ import annotations

from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.streams.kpi.facts import ShiftFacts, apply, reads
from rosterhub.streams.kpi.policy import KpiPolicies
from rosterhub.streams.kpi.store import KpiStore
from rosterhub.streams.kpi.view import person_kpi, shift_kpi

__all__ = ["run_pure"]


def run_pure(
    delivered: list[tuple[str, str, Envelope]], policies: KpiPolicies, last: dict[str, dict[str, Any]] | None = None
) -> tuple[KpiStore, int]:
    """Fold every event (skipping what the agent skips) into a store as views.kpi; how many ShiftKpi it published.

    ``last``, when given, receives each shift's last published ShiftKpi (what a reader of the compacted topic
    keeps)."""
    table: dict[str, dict] = {}
    store = KpiStore()
    published = 0
    for domain, key, env in delivered:
        if domain == "passport":
            if env.type.endswith("PassportUpdated") and (row := person_kpi(env.data)) is not None:
                store.apply("rosterhub.kpi.v1.PersonKpi", row)
            continue
        if not reads(env.type, env.source):
            continue
        before: ShiftFacts | None = table.get(key)
        if before is not None and env.id in before["seen"]:
            continue
        after = apply(before, env.type, env.data, event_id=env.id, at=env.time)
        if before is None or after["revision"] != before["revision"]:
            row = shift_kpi(after, policies)
            if row is not None:
                store.apply("rosterhub.kpi.v1.ShiftKpi", row)
                published += 1
                if last is not None:
                    last[key] = row
        table[key] = after
    return store, published
