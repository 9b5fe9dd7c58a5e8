"""The shift stage's real agent body (``_ShiftStage.handle``): it measures how long answers take, and a tick
re-sends a hold's check only after the wait its beat's delay asks for (streams/booking/answer_delay.py)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from rosterhub.instants import to_ms
from rosterhub.streams.booking.agents import _ShiftStage
from rosterhub.streams.booking.answer_delay import tick_value
from tests.unit.streams.test_booking_lost_decision import (
    BROKER,
    NAMES,
    SHIFT,
    TIMERS,
    Event,
    Message,
    _canonical,
    _posted,
    _posted_requested_answered,
    _requested,
    _stage,
)


def _sent_back(table: dict[str, Any], seconds: int) -> None:
    """The hold's check as if sent ``seconds`` earlier (what a backlog in front of the person stage looks like)."""
    row = json.loads(table[SHIFT])
    row["hold_sent_ms"] -= seconds * 1000
    table[SHIFT] = json.dumps(row).encode()


def test_the_answer_to_the_held_check_is_measured_from_the_checks_last_send() -> None:
    async def run() -> int:
        BROKER.topics.clear()
        table: dict[str, Any] = {}
        answer = await _posted_requested_answered(_stage(table))
        _sent_back(table, 40)
        stage = _stage(table)  # a fresh cache over the rows
        await stage.handle(answer)
        return stage.delay.current(to_ms(datetime.now(UTC)))

    assert 40_000 <= asyncio.run(run()) < 45_000


def _tick(after_s: float, delay_ms: int) -> Event:
    """A tick through the shift's partition, ``after_s`` from now by this worker's clock."""
    return Event(Message(NAMES.booking_ticks, 0, 9, time.time() + after_s), SHIFT.encode(), tick_value(delay_ms), [])


async def _held(table: dict[str, Any]) -> _ShiftStage:
    BROKER.topics.clear()
    stage = _stage(table)
    await stage.handle(_canonical(_posted(), 0))
    await stage.handle(_canonical(_requested(), 1))
    return stage


def _checks_sent() -> int:
    return len(BROKER.topics.get(NAMES.booking_person, []))


def test_a_tick_with_no_recent_answer_delay_resends_after_the_interval() -> None:
    async def run() -> int:
        stage = await _held({})
        await stage.handle(_tick(TIMERS.resend.total_seconds() + 5, delay_ms=0))
        return _checks_sent()

    assert asyncio.run(run()) == 2  # the check, and the same check again


def test_a_tick_carrying_a_backlogs_delay_waits_twice_that_before_it_resends() -> None:
    async def run() -> tuple[int, int]:
        table: dict[str, Any] = {}
        stage = await _held(table)
        before = dict(table)
        await stage.handle(_tick(TIMERS.resend.total_seconds() + 5, delay_ms=20_000))  # waits 40 s
        not_yet = _checks_sent()
        assert table == before  # nothing written either
        await stage.handle(_tick(41, delay_ms=20_000))
        return not_yet, _checks_sent()

    assert asyncio.run(run()) == (1, 2)
