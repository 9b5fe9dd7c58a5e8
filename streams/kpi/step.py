"""What the KPI agent does with one shift event, in pure code: the facts to write and the ShiftKpi to send.

The agent sends a shift's record on views.kpi and then writes the shift's facts to its table. The two reach the
broker (and RocksDB) separately, so a worker killed between them can keep the fold (the changelog record, or a
memtable flush) and lose the record. faust commits an input only after flushing its producer, so that input is
delivered again after the restart; finding itself folded already, it used to send nothing, and the shift's
record stayed one revision short until the shift's next event. The answer is decision 0013's, in the KPI's form
(decision 0014): the record is a function of the facts, so the input that finds its fold already made sends the
shift's *current* record again (the same revision, event id and body: a reader keeps it once).

Only a row this worker read from the table needs that (``loaded``): a row it wrote itself since its cache was
last emptied had its record sent by this same process before the write. So a normal run sends no extra record
for a duplicated event, and after a crash or a rebalance each shift's first input sends its current record
once, whatever it is: an exact redelivery (its id among the recent ones), an older input the facts absorb
without a change, or a new one (its new record supersedes). That input also writes the row (unchanged when it
changed nothing), so a row that a memtable flush made durable in the instant before its changelog record was
sent, which a crash then lost, is on the changelog again before the input is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rosterhub.streams.kpi.facts import ShiftFacts, apply
from rosterhub.streams.kpi.policy import KpiPolicies
from rosterhub.streams.kpi.view import shift_kpi

__all__ = ["Step", "again", "fold", "folded"]


@dataclass(frozen=True, slots=True)
class Step:
    """``record`` is sent first, then ``facts`` written; either may be None (nothing to send, nothing to write)."""

    facts: ShiftFacts | None
    record: dict[str, Any] | None


def folded(before: ShiftFacts | None, event_id: str) -> bool:
    """The event is among the shift's recent ones: folded already (decided before its body is decoded)."""
    return before is not None and event_id in before["seen"]


def again(before: ShiftFacts, *, loaded: bool, policies: KpiPolicies) -> Step:
    """An event folded already: nothing changes. A row read from the table sends its current record again, and is
    written again as it is: a row that reached RocksDB (a flush) but not the changelog gets its changelog record."""
    if not loaded:
        return Step(None, None)
    return Step(before, shift_kpi(before, policies))


def fold(
    before: ShiftFacts | None,
    type_: str,
    data: dict[str, Any],
    *,
    event_id: str,
    at: datetime,
    loaded: bool,
    policies: KpiPolicies,
) -> Step:
    """Fold a decoded event: a new revision sends its record; an unchanged row read from the table its current one."""
    if before is not None and folded(before, event_id):
        return again(before, loaded=loaded, policies=policies)
    after = apply(before, type_, data, event_id=event_id, at=at)
    changed = before is None or after["revision"] != before["revision"]
    return Step(after, shift_kpi(after, policies) if changed or loaded else None)
