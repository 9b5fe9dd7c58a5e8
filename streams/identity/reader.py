"""Re-read earlier records of ``_rosterhub.identity-in`` by offset (the one I/O helper of the resolver).

Identity state keeps offsets, not event bodies, so a merge, a split or a worker record
that finally arrives can re-publish the credential events it concerns. The topic has
one partition and is kept forever (``topics.IDENTITY_IN``), so an offset names one
record for good. One consumer per re-read, no group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from rosterhub.kafka.access import KafkaAccess

__all__ = ["Fetched", "IdentityInReader"]


@dataclass(frozen=True, slots=True)
class Fetched:
    offset: int
    value: bytes
    headers: list[tuple[str, bytes]]


class IdentityInReader:
    def __init__(self, kafka: KafkaAccess, topic: str) -> None:
        self._kafka = kafka
        self._tp = TopicPartition(topic, 0)

    async def _open(self) -> AIOKafkaConsumer:
        """A fresh consumer for each re-read: a kept one prefetches at the log end between re-reads, and a seek
        racing that prefetch was seen to leave it fetching at the end forever (the resolver stalled)."""
        # fetch_max_wait_ms: a fetch at the log end must not hold a re-read for aiokafka's 500 ms default.
        consumer = AIOKafkaConsumer(
            **self._kafka.aiokafka(), enable_auto_commit=False, group_id=None, fetch_max_wait_ms=10
        )
        await consumer.start()
        consumer.assign([self._tp])
        return consumer

    async def fetch(self, offsets: Iterable[int]) -> list[Fetched]:
        """The records at these offsets, in offset order.

        Offsets close together are read in one forward pass; each pass has its own consumer that seeks once,
        before its first fetch, so no seek ever races a fetch in flight.
        """
        wanted = sorted(set(offsets))
        found: dict[int, Fetched] = {}
        for run in _runs(wanted):
            consumer = await self._open()
            try:
                found.update(await self._read(consumer, run))
            finally:
                await consumer.stop()
        return [found[o] for o in wanted]

    async def _read(self, consumer: AIOKafkaConsumer, run: list[int]) -> dict[int, Fetched]:
        found: dict[int, Fetched] = {}
        consumer.seek(self._tp, run[0])
        last = run[-1]
        position = run[0]
        while position <= last:
            batch = await consumer.getmany(self._tp, timeout_ms=5000)
            messages = batch.get(self._tp, [])
            if not messages:
                raise LookupError(f"offset {position} of {self._tp.topic} could not be read")
            for msg in messages:
                if msg.offset in run:
                    found[msg.offset] = Fetched(msg.offset, msg.value or b"", list(msg.headers or ()))
                position = max(position, msg.offset + 1)
        missing = [o for o in run if o not in found]
        if missing:
            raise LookupError(f"offsets {missing} of {self._tp.topic} hold no record")
        return found

    async def close(self) -> None:
        """Nothing is kept open between re-reads (see :meth:`_open`)."""


#: Offsets at most this far apart are read in one forward pass rather than with a fresh seek.
_GAP = 500


def _runs(offsets: list[int]) -> list[list[int]]:
    """Sorted offsets split where the gap to the next one is larger than :data:`_GAP`."""
    runs: list[list[int]] = []
    for o in offsets:
        if runs and o - runs[-1][-1] <= _GAP:
            runs[-1].append(o)
        else:
            runs.append([o])
    return runs
