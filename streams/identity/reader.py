"""Re-read earlier records of ``_rosterhub.identity-in`` by offset (the one I/O helper of the resolver).

Identity state keeps offsets, not event bodies, so a merge, a split or a worker record
that finally arrives can re-publish the credential events it concerns. The topic has
one partition and is kept forever (``topics.IDENTITY_IN``), so an offset names one
record for good. One consumer, no group, created on first use and kept open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

__all__ = ["Fetched", "IdentityInReader"]


@dataclass(frozen=True, slots=True)
class Fetched:
    offset: int
    value: bytes
    headers: list[tuple[str, bytes]]


class IdentityInReader:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self._tp = TopicPartition(topic, 0)
        self._consumer: AIOKafkaConsumer | None = None

    async def _open(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            # fetch_max_wait_ms: after a seek, aiokafka first lets the fetch in flight at the old position (the
            # log's end, where no data comes) run out; at the 500 ms default every re-read cost half a second.
            consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False, group_id=None,
                                        fetch_max_wait_ms=10)  # fmt: skip
            await consumer.start()
            consumer.assign([self._tp])
            self._consumer = consumer
        return self._consumer

    async def fetch(self, offsets: Iterable[int]) -> list[Fetched]:
        """The records at these offsets, in offset order (reads runs of neighbours in one go)."""
        wanted = sorted(set(offsets))
        if not wanted:
            return []
        consumer = await self._open()
        found: dict[int, Fetched] = {}
        position = -1
        for offset in wanted:
            if offset in found:
                continue
            if position != offset:
                consumer.seek(self._tp, offset)
            while offset not in found:
                batch = await consumer.getmany(self._tp, timeout_ms=5000)
                messages = batch.get(self._tp, [])
                if not messages:
                    raise LookupError(f"offset {offset} of {self._tp.topic} could not be read")
                for msg in messages:
                    if msg.offset in wanted:
                        found[msg.offset] = Fetched(msg.offset, msg.value or b"", list(msg.headers or ()))
                    position = msg.offset + 1
                if position > offset and offset not in found:
                    raise LookupError(f"offset {offset} of {self._tp.topic} holds no record")
        return [found[o] for o in wanted]

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
