"""The KPI processor's pure core run over a delivered stream, exactly as the agents do, into a read model."""

from __future__ import annotations

from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.streams.kpi.facts import reads
from rosterhub.streams.kpi.policy import KpiPolicies
from rosterhub.streams.kpi.step import fold
from rosterhub.streams.kpi.store import KpiStore
from rosterhub.streams.kpi.view import person_kpi

__all__ = ["run_pure"]


def run_pure(
    delivered: list[tuple[str, str, Envelope]], policies: KpiPolicies, last: dict[str, dict[str, Any]] | None = None
) -> tuple[KpiStore, int]:
    """Fold every event (skipping what the agent skips) into a store as views.kpi; how many ShiftKpi it published.

    Each shift event goes through the agent's own step (streams/kpi/step.py) as one worker that never restarts:
    no row is read back from a table, so nothing is sent again.

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
        step = fold(table.get(key), env.type, env.data, event_id=env.id, at=env.time, loaded=False, policies=policies)
        if step.record is not None:
            store.apply("rosterhub.kpi.v1.ShiftKpi", step.record)
            published += 1
            if last is not None:
                last[key] = step.record
        if step.facts is not None:
            table[key] = step.facts
    return store, published
