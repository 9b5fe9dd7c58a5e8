"""Every worker's follower of ``_rosterhub.identity-crosswalk``: the I/O around :class:`.crosswalk.Crosswalk`.

Why not faust's GlobalTable: it has open reports of workers that stop reading part of the changelog or hang
when several run (faust-streaming #283, #597, robinhood/faust #716), and it gives no way to apply one resolver
step whole. This is a plain aiokafka consumer without a group, reading the one partition from the beginning, as
the availability read model does (:mod:`rosterhub.streams.availability.readmodel`); restarts rebuild it from
the compacted topic. Tested with two workers and a restart (tests/integration/test_identity_crosswalk.py).
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from rosterhub.kafka.access import KafkaAccess
from rosterhub.streams.identity.crosswalk import Crosswalk, decode

__all__ = ["follow"]

log = logging.getLogger(__name__)


async def follow(copy: Crosswalk, *, kafka: KafkaAccess, topic: str) -> None:
    """Keep ``copy`` up to date for as long as the worker runs (restarting on errors, from the beginning)."""
    while True:
        try:
            await _follow(copy, kafka=kafka, topic=topic)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("identity crosswalk: follower failed; reloading in 1 s")
            await asyncio.sleep(1)


async def _follow(copy: Crosswalk, *, kafka: KafkaAccess, topic: str) -> None:
    consumer = AIOKafkaConsumer(
        **kafka.aiokafka(),  # the worker's access (address and security): docs/kafka-security.md
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        client_id="rosterhub-identity-crosswalk",
        fetch_max_wait_ms=100,  # a change should reach the copy quickly: the shift stage falls back until it does
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for rec in records:
                    if rec.key is None or rec.value is None:
                        continue
                    try:
                        key, value = decode(rec.key, rec.value)
                        copy.apply(key, value)
                    except (ValueError, KeyError) as exc:
                        log.warning("identity crosswalk record at offset %s unreadable: %s", rec.offset, exc)
            if not copy.ready and await consumer.position(tp) >= end:
                copy.ready = True
                log.info(
                    "identity crosswalk copy caught up: %d keys, %d people, step %d",
                    len(copy.owners),
                    len(copy.people),
                    copy.step,
                )
    finally:
        await consumer.stop()
