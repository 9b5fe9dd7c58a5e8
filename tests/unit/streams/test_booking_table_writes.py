"""The booking stages' tables: a row is written only when an input changes it, read from a cache it is written
through, and stored as JSON bytes that an earlier version's rows (faust's ``json`` serializer) decode like.

Runs the stages' real agent bodies (``_ShiftStage.handle``, ``_PersonStage.handle``) over in-memory topics and a
table that counts what it is asked (streams/row_table.py).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from faust.serializers import codecs

from rosterhub.envelope import decode_record
from rosterhub.instants import to_ms
from rosterhub.streams.booking import person
from rosterhub.streams.booking.agents import _PersonStage, person_row, shift_row
from rosterhub.streams.booking.messages import Check
from rosterhub.streams.booking.retention import DAY_MS
from rosterhub.streams.booking.saga import HEADER, dumps, loads
from rosterhub.streams.row_table import RowTable, json_bytes
from tests.unit.streams.saga_harness import CLEARED, NOW, POLICIES
from tests.unit.streams.test_booking_lost_decision import (
    BROKER,
    CODEC,
    NAMES,
    SHIFT,
    Event,
    Message,
    _canonical,
    _decisions,
    _event,
    _posted,
    _requested,
    _stage,
)
from tests.unit.streams.test_kpi_facts_table import CountingTable


def _check_event(offset: int) -> Any:
    """The person stage's input: the check the shift stage sent for b1 (after the shift and the request)."""
    [(key, value, headers)] = BROKER.topics[NAMES.booking_person]
    return _event(NAMES.booking_person, offset, key.decode(), value, headers)


async def _shift_writes() -> tuple[CountingTable, list[int]]:
    BROKER.topics.clear()
    table = CountingTable()
    stage = _stage(table)
    sets = []
    await stage.handle(_canonical(_posted(), 0))  # a new shift: written
    sets.append(table.sets)
    await stage.handle(_canonical(_requested(), 1))  # a request: held, the check sent, written
    sets.append(table.sets)
    await stage.handle(_canonical(_posted(), 2))  # the same posting again: nothing changes
    sets.append(table.sets)
    return table, sets


def test_the_shift_table_is_written_when_an_input_changes_the_shift_and_not_otherwise() -> None:
    table, sets = asyncio.run(_shift_writes())
    assert sets == [1, 2, 2]
    assert table.gets == 1  # the shift's first input found no row; the others read the row from the cache
    assert shift_row(table[SHIFT]).hold is not None  # what is stored is the state the stage holds


def test_the_shift_stage_ignores_its_own_decision_without_a_write() -> None:
    async def run() -> tuple[int, int]:
        table, _ = await _shift_writes()
        stage = _stage(table)  # a fresh cache over the same rows: the row is read once
        [(_, check_value, _)] = BROKER.topics[NAMES.booking_person]
        _, answer = person.check(
            person.PersonState("p1"), Check.from_wire(loads(check_value)), clearance=CLEARED, policy=POLICIES.get("RHQ")
        )
        await stage.handle(_event(NAMES.booking_requests, 7, SHIFT, dumps(answer), [(HEADER, b"answer")]))
        decided = table.sets
        assert [decode_record(v, h, CODEC).type.rsplit(".", 1)[-1] for _, v, h in _decisions()] == [
            "BookingConfirmed",
            "ShiftFilled",
        ]
        for n, (key, value, headers) in enumerate(_decisions()):  # the hub's decisions, read back from events.booking
            await stage.handle(_event(NAMES.events("booking"), 20 + n, key.decode(), value, headers))
        return decided, table.sets

    decided, after = asyncio.run(run())
    assert after == decided == 3


def _person_stage(table: CountingTable, answers: CountingTable, sent: list[Any], retention_days: int = 30) -> Any:
    async def send(topic: Any, key: str, msg: Any) -> Any:
        sent.append(msg)

    return _PersonStage(
        RowTable(table, person_row, _encode),
        RowTable(answers, json.loads, json_bytes),
        POLICIES,
        lambda _pid, _msg: CLEARED,
        send,
        None,  # type: ignore[arg-type]  # the topic: send above ignores it
        retention_days,
    )


def test_the_person_table_is_written_when_a_check_records_something_and_not_for_a_redelivery() -> None:
    async def run() -> tuple[list[tuple[int, int]], list[Any], CountingTable, CountingTable]:
        await _shift_writes()
        table, answers, sent = CountingTable(), CountingTable(), []
        stage = _person_stage(table, answers, sent)
        check = _check_event(0)
        await stage.handle(check)  # recorded, answered: the row and the answer written
        sets = [(table.sets, answers.sets)]
        await stage.handle(check)  # delivered again: the same answer, nothing new to keep
        sets.append((table.sets, answers.sets))
        fresh = _person_stage(table, answers, sent)  # a restarted worker: empty caches, the answer read back
        await stage.handle(check)
        await fresh.handle(check)
        sets.append((table.sets, answers.sets))
        return sets, sent, table, answers

    sets, sent, table, answers = asyncio.run(run())
    assert sets == [(1, 1), (1, 1), (1, 1)]
    assert len(sent) == 4 and sent[0] == sent[1] == sent[2] == sent[3]
    assert answers.gets >= 1  # the restarted worker's answer came from the answers table
    row = json.loads(table["p1"])
    assert "a" not in row and set(row["e"]) == {"patchwork:RHQ:b1"}  # the row says it was answered, not what
    assert json.loads(answers["patchwork:RHQ:b1"]) == sent[0].to_wire()


def _checks(n: int, first_start_ms: int) -> list[Any]:
    """``n`` checks of p1 for one-hour shifts a day apart from ``first_start_ms``, from the stage's own check."""
    [(_, check_value, _)] = BROKER.topics[NAMES.booking_person]
    wire = loads(check_value)
    out = []
    for i in range(n):
        start = first_start_ms + i * DAY_MS
        shift = {**wire["shift"], "shift_id": f"s{i}", "start": start, "end": start + 3_600_000}
        out.append(Check.from_wire({**wire, "booking_id": f"b{i}", "shift_id": f"s{i}", "shift": shift}))
    return out


def _at(offset: int, msg: Any, when_ms: int) -> Event:
    return Event(Message(NAMES.booking_person, 0, offset, when_ms / 1000), b"p1", dumps(msg), [(HEADER, b"check")])


def test_a_persons_row_keeps_which_bookings_were_answered_not_the_answers() -> None:
    """Each answer is written once, in its own row; the person's row, rewritten on every answer, holds only the ids
    (docs/benchmarks.md, "The person row"): before, it held every answer until retention, every rule's result."""

    async def run() -> tuple[CountingTable, CountingTable, list[Any]]:
        await _shift_writes()
        table, answers, sent = CountingTable(), CountingTable(), []
        stage = _person_stage(table, answers, sent)
        for n, msg in enumerate(_checks(40, to_ms(NOW) + DAY_MS)):
            await stage.handle(_at(n, msg, to_ms(NOW)))
        return table, answers, sent

    table, answers, sent = asyncio.run(run())
    row = json.loads(table["p1"])
    ids = {f"b{i}" for i in range(40)}
    assert "a" not in row and set(row["e"]) == ids and table.sets == 40
    assert set(answers) == ids and answers.sets == 40
    assert [json.loads(answers[a.booking_id]) for a in sent] == [a.to_wire() for a in sent]


def test_answers_pruned_with_the_persons_bookings_leave_the_answers_table() -> None:
    async def run() -> tuple[CountingTable, CountingTable]:
        await _shift_writes()
        table, answers, sent = CountingTable(), CountingTable(), []
        stage = _person_stage(table, answers, sent, retention_days=30)
        old, new = _checks(2, to_ms(NOW) - 2 * DAY_MS)[0], _checks(1, to_ms(NOW) + 40 * DAY_MS)[0]
        new = Check.from_wire({**new.to_wire(), "booking_id": "b-new"})
        await stage.handle(_at(0, old, to_ms(NOW)))  # answered and kept: its shift ended two days ago
        assert set(answers) == {"b0"}
        await stage.handle(_at(1, new, to_ms(NOW) + 40 * DAY_MS))  # 40 days on, b0 is past retention
        return table, answers

    table, answers = asyncio.run(run())
    assert set(answers) == {"b-new"} and set(json.loads(table["p1"])["e"]) == {"b-new"}


def _encode(state: person.PersonState) -> bytes:
    return json_bytes(state.to_table())


def test_rows_written_by_faust_json_serializer_read_the_same() -> None:
    """A deployed hub's changelogs and RocksDB rows hold faust's ``json`` values: they decode unchanged."""
    table, _ = asyncio.run(_shift_writes())
    state = shift_row(table[SHIFT])
    old = codecs.get_codec("json").dumps(state.to_table())
    assert shift_row(old) == state and shift_row(old.decode()) == state
    someone = person.PersonState("p1", {"b1": {"trust": "RHQ", "shift": SHIFT, "start": 1, "end": 2}}, version=3)
    assert person_row(codecs.get_codec("json").dumps(someone.to_table())) == someone
    assert person_row(_encode(someone)) == someone
