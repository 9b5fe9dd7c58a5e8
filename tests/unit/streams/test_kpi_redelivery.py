"""A KPI worker killed between sending a shift's record and writing its row: the record is sent again, not lost.

The agent (streams/kpi/agents.py) sends a step's ShiftKpi record on views.kpi, then writes the shift's facts. A
SIGKILL in between can keep the row (its changelog record, or a RocksDB flush) and lose the record; faust has not
committed the input, so it is delivered again to the restarted worker, which finds it folded already. Decision
0014: a row read back from the table sends its current record again on its first input (the same revision, the
same event id, the same body), and nothing is folded twice. These tests drive the agent's own pure step
(streams/kpi/step.py) over a FactsTable in the agent's order, with a producer that loses what a crash loses.
"""

from __future__ import annotations

from typing import Any

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, encode_event, event_id
from rosterhub.streams.kpi.agents import SHIFT_KPI, SOURCE
from rosterhub.streams.kpi.facts import SEEN_KEPT
from rosterhub.streams.kpi.facts_table import FactsTable
from rosterhub.streams.kpi.step import Step, again, fold, folded
from tests.unit.streams.kpi_builders import POLICIES, _time, cancelled, filled, posted, rejected

Event = tuple[str, str, dict[str, Any]]  # event id, type, data


def _events() -> list[Event]:
    return [
        ("e-posted", *posted()),
        ("e-refused", *rejected()),
        ("e-filled", *filled()),
        ("e-cancelled", *cancelled()),
        ("e-refilled", *filled(booking="b2", person="p2")),
    ]


class Changelog(dict[str, Any]):
    """The table, remembering each write as the changelog record faust sends for it."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[str, bytes]] = []

    def __setitem__(self, key: str, value: bytes) -> None:
        self.records.append((key, value))
        super().__setitem__(key, value)


class Worker:
    """One worker process: the agent's order (send the step's record, then write its facts) over a shared table.

    ``lose`` names the events whose record the producer loses: the worker is killed after the row's write reached
    the table (the changelog or a flush) and before the record reached the broker."""

    def __init__(self, table: dict[str, Any], lose: frozenset[str] = frozenset()) -> None:
        self.facts = FactsTable(table)  # a new process: an empty cache over what the table kept
        self.lose = lose
        self.sent: list[tuple[str, dict[str, Any]]] = []  # (event id, record) as views.kpi received them

    def handle(self, event: Event) -> None:
        ce_id, type_, data = event
        key = str(data["shift_id"])
        before = self.facts.get(key)
        loaded = self.facts.loaded(key)
        if before is not None and folded(before, ce_id):  # decided on the headers, before decoding
            step = again(before, loaded=loaded, policies=POLICIES)
        else:
            step = fold(before, type_, data, event_id=ce_id, at=_time(data), loaded=loaded, policies=POLICIES)
        self._send(key, ce_id, step)

    def _send(self, key: str, ce_id: str, step: Step) -> None:
        if step.record is not None and ce_id not in self.lose:
            self.sent.append((event_id("kpi", SHIFT_KPI, key, step.record["revision"]), step.record))
        if step.facts is not None:
            self.facts.set(key, step.facts)


def _body(record: dict[str, Any]) -> bytes:
    catalogue = default_catalogue()
    env = Envelope(SHIFT_KPI, SOURCE, record)
    return encode_event(env, catalogue.get(SHIFT_KPI), SingleObjectCodec(catalogue), "views.kpi").value


def _revision(worker: Worker) -> int:
    facts = worker.facts.get("s1")
    assert facts is not None
    return int(facts["revision"])


def _uninterrupted(events: list[Event]) -> list[tuple[str, dict[str, Any]]]:
    worker = Worker({})
    for e in events:
        worker.handle(e)
    return worker.sent


def test_an_input_redelivered_after_its_record_was_lost_sends_the_same_record_and_is_not_folded_twice() -> None:
    events = _events()
    table = Changelog()
    first = Worker(table, lose=frozenset({"e-cancelled"}))
    for e in events[:4]:
        first.handle(e)  # killed here: the cancellation's row is in the table, its record never left
    folded_revision = _revision(first)
    wanted = _uninterrupted(events[:4])[-1]
    assert first.sent == _uninterrupted(events[:4])[:-1]  # the lost record: the shift is one revision short

    restarted = Worker(table)
    row, table.records = table["s1"], []
    restarted.handle(events[3])  # faust did not commit it: delivered again, and found folded (its id is seen)
    assert restarted.sent == [wanted]  # the same event id and record: a reader keeps it once
    # the row is written again as it was: had only a RocksDB flush kept it, the changelog has it again
    assert table.records == [("s1", row)]
    assert _body(restarted.sent[0][1]) == _body(wanted[1])  # byte for byte on the wire
    assert _revision(restarted) == folded_revision  # not folded twice

    restarted.handle(events[3])  # once more (a duplicate on the topic): this worker has sent that record already
    assert restarted.sent == [wanted] and len(table.records) == 1
    restarted.handle(events[4])  # the shift's next event: its new record, as without the crash
    assert restarted.sent == [wanted, _uninterrupted(events)[-1]]


def test_a_redelivered_input_older_than_the_recent_ids_sends_the_current_record_again() -> None:
    table: dict[str, Any] = {}
    events = _events()
    later = [(f"e-refused-{n}", *rejected(booking=f"b{10 + n}")) for n in range(SEEN_KEPT)]
    first = Worker(table, lose=frozenset({later[-1][0]}))
    for e in [*events[:3], *later]:
        first.handle(e)
    assert not folded(first.facts.get("s1"), "e-filled")  # its id has left the recent ones
    restarted = Worker(table)
    restarted.handle(events[2])  # decoded and folded again: nothing changes, the current record goes out again
    assert restarted.sent == [_uninterrupted([*events[:3], *later])[-1]]
    assert _revision(restarted) == _revision(first)


def test_one_worker_sends_no_record_for_a_duplicate_and_a_rebalance_sends_the_current_one_once() -> None:
    events = _events()
    worker = Worker({})
    for e in [*events, events[2], events[0]]:  # exact duplicates on the topic
        worker.handle(e)
    assert worker.sent == _uninterrupted(events)
    worker.facts.forget()  # partitions revoked or reassigned: the rows are read from the table again
    worker.handle(events[2])
    worker.handle(events[1])
    assert worker.sent == [*_uninterrupted(events), _uninterrupted(events)[-1]]


def test_a_row_read_back_before_its_shift_can_be_placed_sends_nothing() -> None:
    table: dict[str, Any] = {}
    refused = ("e-refused", *rejected())
    Worker(table).handle(refused)  # a refusal before the posting: no trust and start, no record
    restarted = Worker(table)
    restarted.handle(refused)
    assert restarted.sent == []
    restarted.handle(("e-posted", *posted()))
    assert [r["revision"] for _, r in restarted.sent] == [2]
