"""Identity off the request path on the real broker: two workers, each with its own crosswalk copy, and a restart.

faust's GlobalTable has open reports with several workers (faust-streaming #283, #597), so the copy is a plain
follower of ``_rosterhub.identity-crosswalk`` (streams/identity/crosswalk_reader.py); the issue asks for any such
mechanism to be tested with two workers and a restart. Checked here, from the topics:

* requests from registered people are stamped by the shift stage itself: none of them goes through
  ``_rosterhub.identity-in`` (3 hops), whichever worker owns the shift;
* a merge moves later requests of the merged-away person to the survivor, on both workers;
* after one worker is restarted (its copy rebuilt from the compacted topic), requests it owns are again stamped
  without identity-in, and every request is decided once.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from rosterhub.envelope import Envelope
from rosterhub.streams.identity.commands import MergeCommand, command_record
from rosterhub.streams.identity.match import person_id_for
from tests.integration.helpers import read_topic, wait_for
from tests.integration.test_booking_saga import SagaHub, _request, _shift
from tests.support import isolated_settings
from tests.unit.streams.identity_harness import worker
from tests.unit.streams.passport_builders import nurse_passport

pytestmark = pytest.mark.integration

PEOPLE = [f"patchwork:RHQ:xw-{i}" for i in range(4)]
TWIN = "esr:RHQ:xw-twin"  # a second record of PEOPLE[0]'s human, under another register number until merged


def _pin(i: int) -> str:
    return f"{70 + i}X{i:04d}E"


def _requests(now: datetime, tag: str, locals_: list[str]) -> tuple[list[Envelope], list[Envelope]]:
    shifts, requests = [], []
    for i, local in enumerate(locals_):
        start = (now + timedelta(days=3 + i)).replace(hour=8, minute=0, second=0, microsecond=0)
        shift_id = f"patchwork:RHQ:{tag}-{i}"
        shifts.append(_shift(shift_id, "RHQ", start))
        requests.append(_request(f"patchwork:RHQ:{tag}-b{i}", shift_id, local, "RHQ", now))
    return shifts, requests


def _through_identity(hub: SagaHub, booking_ids: set[str]) -> set[str]:
    """Which of these requests went through _rosterhub.identity-in (by CloudEvents subject)."""
    records = read_topic(hub.bootstrap, hub.names.identity_in, at_least=0, timeout=3)
    subjects = {dict(r.headers).get("ce_subject", b"").decode() for r in records}
    return booking_ids & subjects


def test_two_workers_stamp_from_their_copies_follow_a_merge_and_reload_after_a_restart(
    kafka: Any, tmp_path: Path
) -> None:
    hub, now = SagaHub(isolated_settings(kafka.bootstrap, tmp_path, partitions=4), tmp_path), datetime.now(UTC)
    pins = {local: _pin(i) for i, local in enumerate(PEOPLE)}
    hub.publish(*(worker(local, nmc=pins[local]) for local in PEOPLE), worker(TWIN, nmc=_pin(9)))
    for local in [*PEOPLE, TWIN]:
        hub.publish(*nurse_passport(local, "RHQ", now))
    try:
        with ExitStack() as stack:
            first = ExitStack()
            stack.callback(first.close)
            hub.start_worker(first, "one", "state-one")
            hub.start_worker(stack, "two", "state-two")
            for name in ("one", "two"):
                wait_for(
                    lambda n=name: "identity crosswalk copy caught up" in (tmp_path / f"{n}.log").read_text(),
                    timeout=120,
                    what=f"worker {name}'s crosswalk copy",
                )
            wait_for(lambda: _linked(hub) >= len(PEOPLE) + 1, timeout=60, what="every record linked")
            time.sleep(1)  # the crosswalk records of those steps reach both copies
            # 1. registered people, both workers: the requests never touch identity-in
            ids1 = _wave(hub, now, "w1", PEOPLE)
            assert _through_identity(hub, ids1) == set()
            # 2. a merge: the twin's record now names PEOPLE[0]'s person on every copy
            into, gone = person_id_for(f"reg:nmc:{pins[PEOPLE[0]]}"), person_id_for(f"reg:nmc:{_pin(9)}")
            _merge(hub, into, gone)
            wait_for(lambda: _merged(hub), timeout=60, what="the merge on events.identity")
            time.sleep(1)
            ids2 = _wave(hub, now + timedelta(days=20), "w2", [TWIN])
            got = hub.wait_decided(sorted(ids2), timeout=90)
            assert {got[b].data["worker"]["person_id"] for b in ids2} == {into}
            # 3. restart worker one: its copy reloads from the compacted topic; nothing goes through identity-in
            first.close()
            hub.start_worker(stack, "one-again", "state-one-again")
            wait_for(
                lambda: "identity crosswalk copy caught up" in (tmp_path / "one-again.log").read_text(),
                timeout=120,
                what="the restarted worker's crosswalk copy",
            )
            time.sleep(3)  # the rebalance that gives it partitions back
            ids3 = _wave(hub, now + timedelta(days=40), "w3", PEOPLE)
            assert _through_identity(hub, ids1 | ids3) == set()
            every = hub.decisions()
            assert ids1 | ids2 | ids3 <= set(every)
    finally:
        hub.close()


def _wave(hub: SagaHub, now: datetime, tag: str, people: list[str]) -> set[str]:
    shifts, requests = _requests(now, tag, people)
    hub.publish(*shifts)
    hub.publish(*requests)
    ids = {r.data["booking_id"] for r in requests}
    hub.wait_decided(sorted(ids), timeout=90)
    return ids


def _merge(hub: SagaHub, into: str, gone: str) -> None:
    cmd = MergeCommand(into=into, merge=gone, reason="one NMC holder", requested_by="test")
    _key, rec = command_record(cmd, hub.names.identity_in, source="/test", now=datetime.now(UTC), command_id="m-1")
    producer = KafkaProducer(**hub.kafka.kafka_python(), acks="all")
    try:
        producer.send(rec.topic, key=rec.key, value=rec.value, headers=rec.headers).get(timeout=30)
    finally:
        producer.close()


def _linked(hub: SagaHub) -> int:
    return sum(1 for e in hub.events(hub.names.events("identity"), timeout=2) if e.type.endswith("PersonLinked"))


def _merged(hub: SagaHub) -> bool:
    return any(e.type.endswith("PersonsMerged") for e in hub.events(hub.names.events("identity"), timeout=2))
