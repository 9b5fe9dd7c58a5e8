"""Follows the whole views.kpi topic into a :class:`~.store.KpiStore`, for the API, the dashboard and Prometheus.

Like any consumer of the view: every partition, no consumer group, from the beginning; records are kept
by revision (a redelivered one changes nothing). ``ready`` turns true once the follower has read up to the
end offsets it found at start, so the API answers 503 rather than figures of a half-read view.
:meth:`KpiReader.changed` lets a live page wait for the next change (server-sent events).
"""

from __future__ import annotations

import asyncio
import logging

from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import Envelope
from rosterhub.errors import InputError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.follow import Follower, envelopes, read_once
from rosterhub.streams.kpi.store import KpiStore

__all__ = ["KpiReader", "read_view"]

log = logging.getLogger(__name__)


class KpiReader:
    def __init__(self, kafka: KafkaAccess, topic: str, codec: EventCodec, store: KpiStore | None = None) -> None:
        self.kafka, self.topic, self.codec = kafka, topic, codec
        self.store = store or KpiStore()
        self._event = asyncio.Event()
        self._changed = False  # a fold since the last batch changed the store

    async def changed(self, version: int, timeout: float) -> int:
        """The store's version once it is above ``version`` (or after ``timeout`` seconds)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.store.version <= version:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), left)
            except TimeoutError:
                break
        return self.store.version

    def _notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def run(self) -> None:
        """Follow for as long as the process runs (:mod:`rosterhub.kafka.follow`)."""
        await Follower(
            self.kafka,
            self.topic,
            self._fold,
            name="rosterhub-kpi-view",
            decode=envelopes(self.codec),
            on_caught_up=self._caught_up,
            on_batch=self._batch,
            max_records=5000,
        ).run()

    def _fold(self, env: Envelope) -> None:
        self._changed |= self.store.apply(env.type, env.data)

    def _caught_up(self) -> None:
        self.store.ready = True
        self._changed = True
        log.info("KPI view caught up: %d shifts", len(self.store))

    def _batch(self) -> None:
        if self._changed:
            self._changed = False
            self._notify()


def read_view(kafka: KafkaAccess, topic: str, codec: EventCodec, timeout: float = 600.0) -> KpiStore:
    """The whole view read once, to the end offsets found at start (the monthly report's way in; blocking)."""
    store = KpiStore()

    def fold(env: Envelope) -> None:
        store.apply(env.type, env.data)

    found = read_once(
        kafka, topic, fold, name="rosterhub-kpi-report", decode=envelopes(codec), timeout=timeout, max_records=5000
    )
    if not found:
        raise InputError(f"topic {topic} does not exist on {kafka.bootstrap_servers}: is the hub's prefix right?")
    store.ready = True
    return store
