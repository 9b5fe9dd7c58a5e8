"""The booking stages' tables: a row is written only when an input changes it, read from a cache it is written
through, and stored as JSON bytes that an earlier version's rows (faust's ``json`` serializer) decode like.

Runs the stages' real agent bodies (``_ShiftStage.handle``, ``_PersonStage.handle``) over in-memory topics and a
table that counts what it is asked (streams/row_table.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.serializers import codecs

from rosterhub.envelope import decode_record
from rosterhub.streams.booking import person
from rosterhub.streams.booking.agents import _PersonStage, person_row, shift_row
from rosterhub.streams.booking.messages import Check
from rosterhub.streams.booking.saga import HEADER, dumps, loads
from rosterhub.streams.row_table import RowTable, json_bytes
from tests.unit.streams.saga_harness import CLEARED, POLICIES
from tests.unit.streams.test_booking_lost_decision import (
    BROKER,
    CODEC,
    NAMES,
    SHIFT,
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


def test_the_person_table_is_written_when_a_check_records_something_and_not_for_a_redelivery() -> None:
    async def run() -> tuple[list[int], list[Any]]:
        await _shift_writes()
        table = CountingTable()
        sent: list[Any] = []

        async def send(topic: Any, key: str, msg: Any) -> Any:
            sent.append(msg)

        stage = _PersonStage(RowTable(table, person_row, _encode), POLICIES, lambda _pid, _msg: CLEARED, send, None, 30)  # type: ignore[arg-type]
        check = _check_event(0)
        await stage.handle(check)  # recorded, answered: written
        sets = [table.sets]
        await stage.handle(check)  # delivered again: the same answer, nothing new to keep
        sets.append(table.sets)
        return sets, sent

    sets, sent = asyncio.run(run())
    assert sets == [1, 1]
    assert len(sent) == 2 and sent[0] == sent[1]


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
