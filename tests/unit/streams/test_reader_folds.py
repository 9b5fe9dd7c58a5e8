"""What the ported readers keep of their own on the shared follower (rosterhub/kafka/follow.py): their folds.
The follower itself: tests/unit/core/test_follow.py; the readers on the real broker: their features' tests."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.follow import Record, _BrokerMetadata
from rosterhub.streams.identity.crosswalk import Crosswalk
from rosterhub.streams.identity.crosswalk_reader import folder
from rosterhub.streams.kpi.reader import KpiReader


def _rec(offset: int, key: bytes | None, value: bytes | None) -> Record:
    return Record("_rosterhub.identity-crosswalk", 0, offset, key, value, ())


def test_the_crosswalk_fold_skips_tombstones_and_unreadable_records(caplog: pytest.LogCaptureFixture) -> None:
    copy = Crosswalk()
    fold, caught_up = folder(copy)
    with caplog.at_level(logging.WARNING):
        fold(_rec(0, b"k:nmc|71A", None))  # a tombstone: nothing to apply
        fold(_rec(1, b"k:nmc|71A", b"not json"))
        fold(_rec(2, b"k:nmc|71A", json.dumps({"s": 5, "of": 1, "o": ["p1"]}).encode()))
    assert copy.owners == {"nmc|71A": ("p1",)} and copy.step == 5
    assert "offset 1 unreadable" in caplog.text
    assert not copy.ready
    caught_up()
    assert copy.ready


class _Store:
    def __init__(self) -> None:
        self.version = 0
        self.ready = False

    def apply(self, _type: str, data: dict[str, Any]) -> bool:
        if data.get("same"):
            return False
        self.version += 1
        return True

    def __len__(self) -> int:
        return self.version

    def __bool__(self) -> bool:  # a store, even an empty one (KpiReader takes ``store or KpiStore()``)
        return True


class _Env:
    def __init__(self, data: dict[str, Any]) -> None:
        self.type, self.data = "rosterhub.kpi.v1.ShiftKpi", data


def test_the_kpi_reader_wakes_live_pages_after_a_batch_that_changed_the_view_or_made_it_ready() -> None:
    async def scenario() -> list[int]:
        store = _Store()
        reader = KpiReader(KafkaAccess("fake:9092"), "views.kpi", codec=None, store=store)  # type: ignore[arg-type]
        woken: list[int] = []
        reader._notify = lambda: woken.append(store.version)  # type: ignore[method-assign]
        reader._fold(_Env({"same": True}))  # type: ignore[arg-type]
        reader._batch()  # nothing changed: no wake-up
        reader._caught_up()
        reader._batch()  # ready is a change
        reader._fold(_Env({}))  # type: ignore[arg-type]
        reader._fold(_Env({}))  # type: ignore[arg-type]
        reader._batch()  # one wake-up for the batch
        reader._batch()
        assert store.ready
        return woken

    assert asyncio.run(scenario()) == [0, 2]


class _Admin:
    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers

    async def describe_topics(self, topics: list[str]) -> list[dict[str, Any]]:
        return [self.answers.get(topics[0], {"error_code": 3, "partitions": []})]


def test_partitions_wait_for_every_topic_and_for_leaders_of_a_new_one() -> None:
    meta = _BrokerMetadata(KafkaAccess("fake:9092"), "test")
    ok = {"error_code": 0, "partitions": [{"partition": 1}, {"partition": 0}]}
    leaderless = {"error_code": 5, "partitions": [{"partition": 0}]}  # LEADER_NOT_AVAILABLE: just created
    meta._admin = _Admin({"a": ok, "b": leaderless})
    assert asyncio.run(meta.partitions(["a"])) == [("a", 0), ("a", 1)]
    assert asyncio.run(meta.partitions(["a", "b"])) is None
    assert asyncio.run(meta.partitions(["a", "missing"])) is None
