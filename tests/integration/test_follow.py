"""The shared topic follower (rosterhub/kafka/follow.py) on the real broker: readiness at the end offsets
counted at start, a topic created after the follower started, stopping while it waits, and the one-shot read.
Its logic in detail (broker errors, given starts): tests/unit/core/test_follow.py.
"""

from __future__ import annotations

import asyncio

import pytest
from kafka import KafkaProducer

from rosterhub.kafka.admin import ensure_topics
from rosterhub.kafka.follow import Follower, Record, read_once
from rosterhub.kafka.resolve import Resolved
from rosterhub.topics import TopicSpec
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


def _create(kafka: Resolved, topic: str, partitions: int = 3) -> None:
    ensure_topics(kafka.access, [TopicSpec(topic, partitions=partitions)], default_partitions=1, replication_factor=1)


def _produce(kafka: Resolved, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(**kafka.access.kafka_python())
    try:
        for i, v in enumerate(values):
            producer.send(topic, key=str(i).encode(), value=v)  # keys spread the records over the partitions
        producer.flush(30)
    finally:
        producer.close()


class Seen:
    def __init__(self) -> None:
        self.values: list[bytes] = []
        self.at_caught_up: list[int] = []

    def fold(self, rec: Record) -> None:
        self.values.append(rec.value or b"")

    def caught_up(self) -> None:
        self.at_caught_up.append(len(self.values))


def _follower(kafka: Resolved, topic: str | list[str], seen: Seen) -> Follower[Record]:
    return Follower(kafka.access, topic, seen.fold, name="test-follow", on_caught_up=seen.caught_up, max_records=7)


def test_ready_once_everything_on_the_topic_at_start_is_folded(kafka: Resolved, unique: str) -> None:
    topic = f"t{unique}.events.follow"
    _create(kafka, topic)
    _produce(kafka, topic, [b"%d" % i for i in range(200)])
    seen = Seen()
    follower = _follower(kafka, topic, seen).start_thread()
    try:
        follower.wait_ready(60)
        with follower.progress.lock:
            assert sorted(seen.values) == sorted(b"%d" % i for i in range(200))
            assert seen.at_caught_up == [200]  # reported once, with all 200 counted at start folded
        _produce(kafka, topic, [b"later"])
        follower.wait_until_now(60)
        with follower.progress.lock:
            assert seen.values.count(b"later") == 1
    finally:
        follower.stop()


def test_an_empty_topic_is_ready_at_once(kafka: Resolved, unique: str) -> None:
    topic = f"t{unique}.events.empty"
    _create(kafka, topic)
    seen = Seen()
    follower = _follower(kafka, topic, seen).start_thread()
    try:
        follower.wait_ready(60)
        assert seen.at_caught_up == [0]
    finally:
        follower.stop()


def test_a_topic_created_after_the_follower_started_is_followed(kafka: Resolved, unique: str) -> None:
    topics = [f"t{unique}.events.late-a", f"t{unique}.events.late-b"]
    seen = Seen()
    follower = _follower(kafka, topics, seen).start_thread()
    try:
        follower.wait_until_now(60)  # nothing exists: nothing to wait for
        assert not follower.ready
        _create(kafka, topics[0])
        _produce(kafka, topics[0], [b"a"])
        _create(kafka, topics[1], partitions=1)  # followed once every topic exists
        _produce(kafka, topics[1], [b"b"])
        follower.wait_until_now(60)
        follower.wait_ready(60)
        with follower.progress.lock:
            assert sorted(seen.values) == [b"a", b"b"]
    finally:
        follower.stop()


def test_stop_while_waiting_for_a_topic_ends_the_thread(kafka: Resolved, unique: str) -> None:
    follower = _follower(kafka, f"t{unique}.events.never", Seen()).start_thread()
    wait_for(lambda: follower._metadata._admin is not None, timeout=60, what="the follower asking for its topic")
    follower.stop()
    assert follower._thread is not None and not follower._thread.is_alive()
    with pytest.raises(TimeoutError):
        follower.wait_ready(60)  # at once: a stopped follower is never going to be ready


def test_stop_while_following_in_a_worker_loop_returns(kafka: Resolved, unique: str) -> None:
    topic = f"t{unique}.events.loop"
    _create(kafka, topic)
    _produce(kafka, topic, [b"x"])
    seen = Seen()
    follower = _follower(kafka, topic, seen)

    async def scenario() -> None:
        task = asyncio.create_task(follower.run())
        while not follower.ready:
            await asyncio.sleep(0.05)
        follower.stop()
        await asyncio.wait_for(task, 30)  # returns (no exception) once asked to stop

    asyncio.run(scenario())
    assert seen.values == [b"x"]


def test_read_once_folds_to_the_end_and_says_when_the_topic_is_missing(kafka: Resolved, unique: str) -> None:
    topic = f"t{unique}.events.once"
    _create(kafka, topic)
    _produce(kafka, topic, [b"%d" % i for i in range(50)])
    seen: list[Record] = []
    assert read_once(kafka.access, topic, seen.append, name="test-once", timeout=60)
    assert len(seen) == 50
    assert not read_once(kafka.access, f"t{unique}.events.none", seen.append, name="test-once", timeout=60)
