"""Issue #17's lost decision, reproduced: the shift stage's table write reached the broker, its decision did not.

The probe saw ``nhsp:RCU:NHSP-BK-2723229`` recorded as decided in ``booking-shift-state`` with no decision on
events.booking: faust queues the decision and the changelog record separately, and a worker killed (SIGKILL)
between the two flushes can keep the state and lose the output. The answer's offset was never committed (faust
commits only after flushing the producer), so it is delivered again after the restart; the shift stage must then
send the same decision, byte for byte, instead of seeing "already decided" and sending nothing.

This runs the shift stage's real agent body (``_ShiftStage.handle``) with in-memory topics and table: the
crash is a producer that loses everything sent while handling the answer, while the table write stays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import decode_record, headers_dict
from rosterhub.kafka.access import KafkaAccess
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.settings import Settings
from rosterhub.streams.app import StreamContext
from rosterhub.streams.booking import person
from rosterhub.streams.booking.agents import _ShiftStage, shift_row
from rosterhub.streams.booking.answer_delay import AnswerDelay
from rosterhub.streams.booking.decide import HoldTimers
from rosterhub.streams.booking.messages import Check
from rosterhub.streams.booking.saga import HEADER, dumps, loads
from rosterhub.streams.identity.crosswalk import Crosswalk
from rosterhub.streams.row_table import RowTable, json_bytes
from rosterhub.streams.schedule import Schedule
from tests.integration.test_booking_saga import _request, _shift
from tests.unit.streams.saga_harness import CLEARED, NOW, POLICIES

NAMES = TopicNames("")
CATALOGUE = default_catalogue()
CODEC = SingleObjectCodec(CATALOGUE)
TIMERS = HoldTimers(timedelta(seconds=60), timedelta(seconds=10), timedelta(seconds=300))


@dataclass
class Broker:
    """What reached the broker, per topic; ``lose`` drops sends (the worker is killed before they are flushed)."""

    topics: dict[str, list[tuple[bytes, bytes, list[tuple[str, bytes]]]]] = field(default_factory=dict)
    lose: bool = False

    def topic(self, name: str) -> Any:
        broker = self

        class _Topic:
            async def send(self, key: bytes, value: bytes, headers: Any = None) -> None:
                if not broker.lose:
                    broker.topics.setdefault(name, []).append((key, value, list(headers or ())))

            def get_topic_name(self) -> str:
                return name

        return _Topic()


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    timestamp: float


@dataclass
class Event:
    message: Message
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class Ctx(StreamContext):
    def raw_topic(self, app: Any, *names: str) -> Any:
        return BROKER.topic(names[0])


BROKER = Broker()
SHIFT = "patchwork:RHQ:s1"
KEY = "vid:patchwork/RHQ|pw-1"  # the identity key of the requester's Patchwork record


def _posted() -> Any:
    return _shift(SHIFT, "RHQ", (NOW + timedelta(days=3)).replace(hour=8, minute=0))


def _requested() -> Any:
    return _request("patchwork:RHQ:b1", SHIFT, "patchwork:RHQ:pw-1", "RHQ", NOW)


def _stage(table: dict[str, Any]) -> _ShiftStage:
    settings = Settings(state_dir=Path("/nonexistent"))
    ctx = Ctx(settings, KafkaAccess("127.0.0.1:9"), NAMES, CODEC, CATALOGUE, Encoder(CODEC, NAMES, CATALOGUE), None)  # type: ignore[arg-type]
    copy = Crosswalk(ready=True)  # the requester is known: the stage stamps the request itself
    copy.apply(f"k:{KEY}", {"o": ["p1"], "s": 1, "of": 1})
    rows = RowTable(table, shift_row, lambda s: json_bytes(s.to_table()))  # a new worker: an empty cache
    return _ShiftStage(None, ctx, rows, TIMERS, POLICIES, copy, Schedule(3_600_000), AnswerDelay())  # type: ignore[arg-type]


def _event(topic: str, offset: int, key: str, value: bytes, headers: list[tuple[str, bytes]]) -> Event:
    return Event(Message(topic, 0, offset, NOW.timestamp()), key.encode(), value, headers)


def _canonical(env: Any, offset: int) -> Event:
    rec = Encoder(CODEC, NAMES, CATALOGUE).encode(env)
    return _event(rec.topic, offset, (rec.key or b"").decode(), rec.value, list(rec.headers))


def _decisions() -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    return [
        r
        for r in BROKER.topics.get(NAMES.events("booking"), [])
        if headers_dict(r[2]).get("ce_source") == b"/rosterhub/booking"
    ]


async def _posted_requested_answered(stage: _ShiftStage) -> Event:
    """The shift posted and b1 requested through ``stage``; the person stage's answer to its check, to deliver."""
    await stage.handle(_canonical(_posted(), 0))
    await stage.handle(_canonical(_requested(), 1))
    [(_, check_value, _)] = BROKER.topics[NAMES.booking_person]
    _, answer = person.check(
        person.PersonState("p1"), Check.from_wire(loads(check_value)), clearance=CLEARED, policy=POLICIES.get("RHQ")
    )
    return _event(NAMES.booking_requests, 7, "patchwork:RHQ:s1", dumps(answer), [(HEADER, b"answer")])


async def _run() -> tuple[list[Any], list[Any]]:
    table: dict[str, Any] = {}
    stage = _stage(table)
    answer_event = await _posted_requested_answered(stage)
    # the crash: the table write lands, the decision never reaches the broker
    BROKER.lose = True
    await stage.handle(answer_event)
    BROKER.lose = False
    assert json.loads(table[SHIFT])["decided"] == ["patchwork:RHQ:b1"]
    lost = list(_decisions())
    # the restart: a new worker, the table rebuilt from its changelog, the answer delivered again
    restarted = _stage(dict(table))
    await restarted.handle(answer_event)
    return lost, _decisions()


def test_a_decision_lost_between_the_table_write_and_its_publish_is_sent_on_redelivery() -> None:
    import asyncio

    BROKER.topics.clear()
    lost, after = asyncio.run(_run())
    assert lost == []  # the crash lost it
    kinds = [decode_record(v, h, CODEC).type.rsplit(".", 1)[-1] for _, v, h in after]
    assert kinds == ["BookingConfirmed", "ShiftFilled"], f"after the restart the decision is still lost: {kinds}"


def test_the_resent_decision_is_byte_identical_to_what_the_first_run_would_have_sent() -> None:
    import asyncio

    async def uncrashed() -> list[Any]:
        BROKER.topics.clear()
        stage = _stage({})
        await stage.handle(await _posted_requested_answered(stage))
        return _decisions()

    first = asyncio.run(uncrashed())
    BROKER.topics.clear()
    _, resent = asyncio.run(_run())
    assert [(k, v) for k, v, _ in resent] == [(k, v) for k, v, _ in first]
    assert [sorted(h) for _, _, h in resent] == [sorted(h) for _, _, h in first]
