"""Follows the whole views.kpi topic into a :class:`~.store.KpiStore`, for the API, the dashboard and Prometheus.

Like any consumer of the view: every partition, no consumer group, from the beginning; records are kept
by revision (a redelivered one changes nothing). ``ready`` turns true once the follower has read up to the
end offsets it found at start, so the API answers 503 rather than figures of a half-read view.
:meth:`KpiReader.changed` lets a live page wait for the next change (server-sent events).
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import decode_record
from rosterhub.errors import InputError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.streams.kpi.store import KpiStore

__all__ = ["KpiReader", "read_view"]

log = logging.getLogger(__name__)


class KpiReader:
    def __init__(self, kafka: KafkaAccess, topic: str, codec: EventCodec, store: KpiStore | None = None) -> None:
        self.kafka, self.topic, self.codec = kafka, topic, codec
        self.store = store or KpiStore()
        self._event = asyncio.Event()

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
        """Follow for as long as the process runs (restarting after errors)."""
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("KPI view follower failed; restarting in 1 s")
                await asyncio.sleep(1)

    async def _partitions(self) -> list[int]:
        admin = AIOKafkaAdminClient(**self.kafka.aiokafka(), client_id="rosterhub-kpi-view")
        await admin.start()
        try:
            while True:
                (desc,) = await admin.describe_topics([self.topic])
                parts = sorted(p["partition"] for p in desc.get("partitions", ()))
                if parts and not desc.get("error_code"):
                    return parts
                await asyncio.sleep(0.5)
        finally:
            await admin.close()

    async def _follow(self) -> None:
        consumer = AIOKafkaConsumer(
            **self.kafka.aiokafka(),
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="earliest",
            client_id="rosterhub-kpi-view",
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        try:
            tps = [TopicPartition(self.topic, p) for p in await self._partitions()]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            while True:
                changed = False
                for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                    for rec in records:
                        try:
                            env = decode_record(rec.value, rec.headers, self.codec)
                        except InputError as exc:
                            log.warning("views.kpi record %s/%s unreadable: %s", rec.partition, rec.offset, exc)
                            continue
                        changed |= self.store.apply(env.type, env.data)
                if not self.store.ready:
                    positions = {tp: await consumer.position(tp) for tp in tps}
                    if all(positions[tp] >= ends[tp] for tp in tps):
                        self.store.ready = True
                        changed = True
                        log.info("KPI view caught up: %d shifts", len(self.store))
                if changed:
                    self._notify()
        finally:
            await consumer.stop()


def read_view(kafka: KafkaAccess, topic: str, codec: EventCodec, timeout: float = 600.0) -> KpiStore:
    """The whole view read once, to the end offsets found at start (the monthly report's way in; blocking)."""
    import time

    from kafka import KafkaConsumer
    from kafka import TopicPartition as Partition

    store = KpiStore()
    consumer = KafkaConsumer(**kafka.kafka_python(), enable_auto_commit=False, client_id="rosterhub-kpi-report")
    try:
        tps = [Partition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            raise InputError(f"topic {topic} does not exist on {kafka.bootstrap_servers}: is the hub's prefix right?")
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic} not read to its end within {timeout}s")
            for batch in consumer.poll(timeout_ms=500, max_records=5000).values():
                for rec in batch:
                    try:
                        env = decode_record(rec.value, rec.headers, codec)
                    except InputError as exc:
                        log.warning("views.kpi record %s/%s unreadable: %s", rec.partition, rec.offset, exc)
                        continue
                    store.apply(env.type, env.data)
    finally:
        consumer.close()
    store.ready = True
    return store
