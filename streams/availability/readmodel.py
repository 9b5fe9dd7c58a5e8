"""The queries' read model: every shift's latest view, read from the compacted views.availability topic.

The processor's own table is partitioned by shift id across workers, but a query ("open
shifts at RHQ") spans every shift. So each worker also follows the *whole* view topic
(all partitions, no consumer group, from the beginning) into memory, exactly as any
other consumer of the view would, and answers queries from it. Records with a revision
at or below the one held are ignored (a view redelivered after a crash). Until the
follower has read up to the end offsets it found at start, ``ready`` is false and the
HTTP API answers 503 rather than a partial list.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import decode_record
from rosterhub.errors import InputError
from rosterhub.kafka.access import KafkaAccess

__all__ = ["ViewStore", "follow"]

log = logging.getLogger(__name__)


@dataclass
class ViewStore:
    """Latest ShiftAvailability record per shift id (decoded Avro dicts)."""

    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    ready: bool = False

    def apply(self, view: dict[str, Any]) -> bool:
        """Keep ``view`` if it is newer than the one held; True when it was kept."""
        held = self.views.get(view["shift_id"])
        if held is not None and held["revision"] >= view["revision"]:
            return False
        self.views[view["shift_id"]] = view
        return True

    def get(self, shift_id: str) -> dict[str, Any] | None:
        return self.views.get(shift_id)

    def all(self) -> list[dict[str, Any]]:
        return list(self.views.values())


async def _partitions(kafka: KafkaAccess, topic: str) -> list[int]:
    """The topic's partition ids (the worker creates the topic at start; wait for it)."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka(), client_id="rosterhub-availability-view")
    await admin.start()
    try:
        while True:
            (desc,) = await admin.describe_topics([topic])
            parts = sorted(p["partition"] for p in desc.get("partitions", ()))
            if parts and not desc.get("error_code"):
                return parts
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def follow(store: ViewStore, *, kafka: KafkaAccess, topic: str, codec: EventCodec) -> None:
    """Read ``topic`` from the beginning into ``store`` for as long as the worker runs (restarting on errors)."""
    while True:
        try:
            await _follow(store, kafka=kafka, topic=topic, codec=codec)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("availability read model: follower failed; restarting in 1 s")
            await asyncio.sleep(1)


async def _follow(store: ViewStore, *, kafka: KafkaAccess, topic: str, codec: EventCodec) -> None:
    consumer = AIOKafkaConsumer(
        **kafka.aiokafka(),
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        client_id="rosterhub-availability-view",
    )
    await consumer.start()
    try:
        parts = await _partitions(kafka, topic)
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for rec in records:
                    try:
                        env = decode_record(rec.value, rec.headers, codec)
                    except InputError as exc:
                        log.warning("availability view record %s/%s unreadable: %s", rec.partition, rec.offset, exc)
                        continue
                    store.apply(env.data)
            if not store.ready:
                positions = {tp: await consumer.position(tp) for tp in tps}
                if all(positions[tp] >= ends[tp] for tp in tps):
                    store.ready = True
                    log.info("availability read model caught up: %d shifts", len(store.views))
    finally:
        await consumer.stop()
