"""The shared topic follower (rosterhub/kafka/follow.py) against an in-memory broker: fold, readiness, topics
that appear late, stopping, broker errors. The same follower on the real broker: tests/integration/test_follow.py.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError

from rosterhub.errors import InputError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.follow import Follower, Progress, Record

ACCESS = KafkaAccess("fake:9092")


@dataclass
class Rec:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


class Broker:
    """Topics as lists of records per partition; consumers made by :meth:`consumer` read them."""

    def __init__(self) -> None:
        self.logs: dict[str, list[list[Rec]]] = {}
        self.fail_fetches = 0  # the next N getmany calls raise a retriable error
        self.consumers: list[FakeConsumer] = []
        self.asked = 0  # how often a follower asked for the partitions
        self.metadata_closed = False

    def create(self, topic: str, partitions: int = 1) -> None:
        self.logs[topic] = [[] for _ in range(partitions)]

    def append(self, topic: str, partition: int, *values: bytes) -> None:
        log = self.logs[topic][partition]
        log += [Rec(partition, len(log) + i, b"k", v, [("h", b"1")]) for i, v in enumerate(values)]

    def consumer(self) -> FakeConsumer:
        c = FakeConsumer(self)
        self.consumers.append(c)
        return c

    def metadata(self) -> Broker:
        return self

    async def partitions(self, topics: list[str]) -> list[tuple[str, int]] | None:
        self.asked += 1
        if any(t not in self.logs for t in topics):
            return None
        return [(t, p) for t in topics for p in range(len(self.logs[t]))]

    async def ends(self, parts: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        return {(t, p): len(self.logs[t][p]) for t, p in parts}

    async def close(self) -> None:
        self.metadata_closed = True


class FakeConsumer:
    def __init__(self, broker: Broker, batch: int = 2) -> None:
        self.broker, self.batch = broker, batch
        self.positions: dict[TopicPartition, int] = {}
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.positions = {tp: -1 for tp in partitions}

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        for tp in partitions:
            self.positions[tp] = 0

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.positions[partition] = offset

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: len(self.broker.logs[tp.topic][tp.partition]) for tp in partitions}

    async def position(self, partition: TopicPartition) -> int:
        return self.positions[partition]

    async def getmany(self, *_p: Any, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, list[Rec]]:
        if self.broker.fail_fetches:
            self.broker.fail_fetches -= 1
            raise KafkaConnectionError("broker went away")
        out: dict[TopicPartition, list[Rec]] = {}
        for tp, pos in self.positions.items():
            recs = self.broker.logs[tp.topic][tp.partition][pos : pos + (max_records or self.batch)]
            if recs:
                out[tp] = recs
                self.positions[tp] = pos + len(recs)
        if not out:
            await asyncio.sleep(0.005)
        return out


def _decode(rec: Record) -> str:
    if rec.value == b"bad":
        raise InputError("not a record")
    return (rec.value or b"").decode()


class Model:
    """A fold that remembers what it saw and, at catch-up, how much it had seen."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.at_caught_up: list[int] = []

    def fold(self, item: str) -> None:
        self.items.append(item)


def _follower(broker: Broker, model: Model, topics: str | list[str] = "t", **kw: Any) -> Follower[str]:
    kw.setdefault("decode", _decode)
    return Follower(
        ACCESS,
        topics,
        model.fold,
        name="test-follower",
        on_caught_up=lambda: model.at_caught_up.append(len(model.items)),
        consumer=broker.consumer,
        metadata=broker.metadata,
        retry_s=0.01,
        discover_s=0.01,
        **kw,
    )


def _two_partitions() -> Broker:
    """Topic "t": a, b, c on partition 0 and d on partition 1."""
    broker = Broker()
    broker.create("t", 2)
    broker.append("t", 0, b"a", b"b", b"c")
    broker.append("t", 1, b"d")
    return broker


async def _until(check: Any) -> None:
    while not check():
        await asyncio.sleep(0.005)


async def _running(follower: Follower[Any], check: Any) -> None:
    """Run ``follower`` until ``check()`` holds, then stop it; run() must return (not raise) after stop()."""
    task = asyncio.create_task(follower.run())
    await asyncio.wait_for(_until(check), 10)
    follower.stop()
    await asyncio.wait_for(task, 10)


# --- Progress: the pure part --------------------------------------------------------------------------------------


def test_progress_is_caught_up_once_every_counted_end_is_reached() -> None:
    p = Progress()
    assert not p.advance({("t", 0): 5})  # not started: nothing counted yet
    assert not p.start({("t", 0): 0, ("t", 1): 0}, {("t", 0): 3, ("t", 1): 1})
    assert p.behind() == 4
    assert not p.advance({("t", 0): 3})
    assert p.behind() == 1
    assert p.advance({("t", 1): 1})
    assert p.caught_up and p.behind() == 0
    assert not p.advance({("t", 1): 2})  # reported once


def test_progress_counts_the_ends_only_at_the_first_start() -> None:
    p = Progress()
    p.start({("t", 0): 0}, {("t", 0): 2})
    p.start({("t", 0): 1}, {("t", 0): 9})  # a restart after an error: the target stays what it was
    assert p.targets == {("t", 0): 2}
    assert p.advance({("t", 0): 2})


def test_an_empty_topic_is_caught_up_at_start() -> None:
    assert Progress().start({("t", 0): 0}, {("t", 0): 0})


def test_reached_is_measured_against_any_ends() -> None:
    p = Progress()
    p.start({("t", 0): 4}, {("t", 0): 4})
    assert p.reached({("t", 0): 4}) and not p.reached({("t", 0): 5}) and p.reached({})
    assert not p.reached({("u", 0): 1})  # a partition not read at all is not reached


def test_wait_raises_at_once_when_stopped() -> None:
    p = Progress()
    p.stopped = True
    with pytest.raises(TimeoutError, match=r"events\.x could not be read"):
        p.wait(lambda: False, 30, "events.x could not be read")


# --- the follower on the in-memory broker -------------------------------------------------------------------------


def test_folds_every_partition_from_the_beginning_and_is_ready_at_the_counted_ends() -> None:
    broker = _two_partitions()
    model = Model()
    follower = _follower(broker, model, max_records=1)
    assert not follower.ready
    asyncio.run(_running(follower, lambda: follower.ready))
    assert sorted(model.items) == ["a", "b", "c", "d"]
    assert model.at_caught_up == [4]  # on_caught_up ran once, with everything counted at start folded
    assert follower.progress.positions == {("t", 0): 3, ("t", 1): 1}
    assert all(c.stopped for c in broker.consumers) and broker.metadata_closed  # every client closed


def test_records_written_after_start_are_folded_but_do_not_hold_readiness() -> None:
    broker = Broker()
    broker.create("t")
    broker.append("t", 0, b"a", b"b")
    model = Model()
    follower = _follower(broker, model, max_records=1)

    def fold(item: str) -> None:
        model.items.append(item)
        if item == "a":
            broker.append("t", 0, *[b"x"] * 50)  # more arrives while the follower is catching up

    follower._fold = fold  # type: ignore[assignment]
    asyncio.run(_running(follower, lambda: len(model.items) == 52))
    assert model.at_caught_up == [2]  # ready at the two records counted at start, not at the 52nd


def test_unreadable_records_are_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    broker = Broker()
    broker.create("t")
    broker.append("t", 0, b"a", b"bad", b"c")
    model = Model()
    follower = _follower(broker, model)
    with caplog.at_level(logging.WARNING, "rosterhub.kafka.follow"):
        asyncio.run(_running(follower, lambda: follower.ready))
    assert model.items == ["a", "c"]
    assert "t/0@1 unreadable: not a record" in caplog.text


def test_without_decode_the_fold_gets_the_record() -> None:
    broker = Broker()
    broker.create("t")
    broker.append("t", 0, b"a")
    seen: list[Record] = []
    follower: Follower[Record] = Follower(
        ACCESS, "t", seen.append, name="raw", consumer=broker.consumer, metadata=broker.metadata, discover_s=0.01
    )
    asyncio.run(_running(follower, lambda: follower.ready))
    assert seen == [Record("t", 0, 0, b"k", b"a", (("h", b"1"),))]


def test_a_topic_created_after_start_is_followed() -> None:
    broker = Broker()
    model = Model()
    follower = _follower(broker, model)

    async def scenario() -> None:
        task = asyncio.create_task(follower.run())
        await asyncio.wait_for(_until(lambda: broker.asked), 10)  # the follower is asking for the topic
        assert not follower.ready
        broker.create("t")
        broker.append("t", 0, b"a")
        await asyncio.wait_for(_until(lambda: follower.ready), 10)
        broker.append("t", 0, b"b")
        await asyncio.wait_for(_until(lambda: len(model.items) == 2), 10)
        follower.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert model.items == ["a", "b"] and model.at_caught_up == [1]


def test_several_topics_are_followed_once_all_exist() -> None:
    broker = Broker()
    broker.create("a")
    broker.append("a", 0, b"1")
    model = Model()
    follower = _follower(broker, model, ["a", "b"])

    async def scenario() -> None:
        task = asyncio.create_task(follower.run())
        await asyncio.sleep(0.05)
        assert model.items == [] and not follower.ready  # "b" does not exist yet
        broker.create("b", 2)
        broker.append("b", 1, b"2")
        await asyncio.wait_for(_until(lambda: follower.ready), 10)
        follower.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert sorted(model.items) == ["1", "2"]


def test_stop_before_the_topic_exists_returns_and_closes_everything() -> None:
    broker = Broker()
    model = Model()
    follower = _follower(broker, model)
    asyncio.run(_running(follower, lambda: broker.asked > 2))
    assert not follower.ready and not broker.consumers and broker.metadata_closed


def test_cancellation_still_raises() -> None:
    """The faust worker and the API lifespan cancel the task: that must propagate, not be swallowed."""
    broker = Broker()
    follower = _follower(broker, Model())

    async def scenario() -> None:
        task = asyncio.create_task(follower.run())
        await asyncio.wait_for(_until(lambda: broker.asked), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_a_broker_error_resumes_where_it_left_off(caplog: pytest.LogCaptureFixture) -> None:
    broker = Broker()
    broker.create("t")
    broker.append("t", 0, b"a", b"b", b"c", b"d", b"e")
    model = Model()
    follower = _follower(broker, model, max_records=2)

    def fold(item: str) -> None:
        model.items.append(item)
        if item == "b":
            broker.fail_fetches = 2  # the next two fetches fail

    follower._fold = fold  # type: ignore[assignment]
    with caplog.at_level(logging.ERROR, "rosterhub.kafka.follow"):
        asyncio.run(_running(follower, lambda: follower.ready))
    assert model.items == ["a", "b", "c", "d", "e"]  # nothing folded twice, nothing skipped
    assert model.at_caught_up == [5]
    assert caplog.text.count("failed; resuming") == 2
    assert len(broker.consumers) == 3  # a fresh consumer for each of the three attempts
    assert all(c.stopped for c in broker.consumers) and broker.metadata_closed


def test_a_given_start_is_where_reading_begins() -> None:
    broker = _two_partitions()
    model = Model()
    follower = _follower(broker, model, start={("t", 0): 2})
    asyncio.run(_running(follower, lambda: follower.ready))
    assert sorted(model.items) == ["c", "d"]


# --- its own thread, for blocking callers -------------------------------------------------------------------------


def test_in_a_thread_wait_until_now_includes_records_written_after_catch_up() -> None:
    broker = Broker()
    broker.create("t")
    broker.append("t", 0, b"a")
    model = Model()
    follower = _follower(broker, model).start_thread()
    try:
        follower.wait_ready(10)
        broker.append("t", 0, b"b", b"c")
        follower.wait_until_now(10)
        with follower.progress.lock:
            assert model.items == ["a", "b", "c"]
    finally:
        follower.stop()
    assert follower._thread is not None and not follower._thread.is_alive()


def test_in_a_thread_stop_while_waiting_for_the_topic_ends_the_thread_and_the_waiters() -> None:
    broker = Broker()
    follower = _follower(broker, Model()).start_thread()
    failed: list[BaseException] = []

    def waiter() -> None:
        try:
            follower.wait_ready(60)
        except TimeoutError as exc:
            failed.append(exc)

    t = threading.Thread(target=waiter)
    t.start()
    follower.stop()
    t.join(10)
    assert follower._thread is not None and not follower._thread.is_alive()
    assert len(failed) == 1  # the waiter was told at once, not after its 60 s
    with pytest.raises(TimeoutError, match="not running"):
        follower.wait_until_now(10)


def test_until_now_on_a_topic_that_does_not_exist_is_nothing_to_wait_for() -> None:
    follower = _follower(Broker(), Model()).start_thread()
    try:
        follower.wait_until_now(10)
        assert follower.call(follower.ends_now(), 10) == {}
    finally:
        follower.stop()
