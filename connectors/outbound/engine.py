"""One delivery loop per destination: consume ``out.<destination>``, deliver, commit after.

Each destination has its own consumer group and its own loop, so a dead trust system only
ever holds up its own queue. Inside a loop, a batch of records is grouped by shift: shifts
are delivered concurrently (``outbound_concurrency``), each shift's updates strictly in
order; offsets are committed only after every record of the batch is delivered or
dead-lettered (at-least-once; receivers dedupe on the idempotency key).

Retries use exponential back-off with full jitter, behind a per-destination circuit breaker
(``breaker.py``). An update is given up - dead-lettered on ``dlq.outbound`` with the queued
record's original bytes, a ``DeliveryFailed`` receipt on ``events.delivery`` - when the
receiver refuses it permanently, when it is older than ``outbound_max_age_s`` (or used
``outbound_max_attempts``), or when it cannot be decoded or rendered.

Ordering after a failure ("parking"): once an update of shift S is given up, the later updates
of S for this destination are not sent ahead of it; they are dead-lettered too (reason
``parked``, naming the key they wait behind), so the shift's whole tail is on the DLQ in order.
``rosterhub redrive`` re-queues them in that order; the failed head is tried again and, once it
is delivered, the shift is unblocked and the rest follow. Blocks are written to the compacted
``_rosterhub.outbound-blocks`` topic and read back whenever the loop is assigned partitions, so
they survive restarts and partition moves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.structs import ConsumerRecord, TopicPartition

from rosterhub.codec.wire import EventCodec
from rosterhub.connectors.outbound import metrics
from rosterhub.connectors.outbound.breaker import STATE_VALUES, Breaker
from rosterhub.connectors.outbound.contract import Adapter, Destination, FileDrop, HttpCall, Update
from rosterhub.connectors.outbound.delivery import backoff_s
from rosterhub.connectors.outbound.queue import Queued, decode_queued, to_update
from rosterhub.connectors.outbound.transport import drop_file, send_http
from rosterhub.deadletter import dead_letter
from rosterhub.envelope import Envelope, KafkaRecord, event_id, headers_dict
from rosterhub.errors import DeliveryError, InputError
from rosterhub.events.models import DeliveryFailed, DeliverySucceeded
from rosterhub.kafka.access import KafkaAccess
from rosterhub.settings import Settings

__all__ = ["RECEIPT_SOURCE", "REDRIVE_HEADER", "DeliveryLoop", "EngineConfig", "Publish", "fold_blocks"]

log = logging.getLogger(__name__)

RECEIPT_SOURCE = "/rosterhub/outbound"
REDRIVE_HEADER = "rh_redrive"
_MAX_POLL_MS = 2**31 - 1

Publish = Callable[[KafkaRecord], Awaitable[None]]  # sends and waits for the broker's ack
#: A record of an outbound queue as the consumer reads it (no deserializers): key and value as bytes, either None.
QueuedRecord = ConsumerRecord[bytes, bytes]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    max_age_s: float = 86400.0
    max_attempts: int = 0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 60.0
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0
    concurrency: int = 8
    timeout_s: float = 5.0

    @classmethod
    def from_settings(cls, s: Settings) -> EngineConfig:
        return cls(
            s.outbound_max_age_s,
            s.outbound_max_attempts,
            s.outbound_backoff_base_s,
            s.outbound_backoff_cap_s,
            s.outbound_breaker_failures,
            s.outbound_breaker_reset_s,
            s.outbound_concurrency,
            s.outbound_timeout_s,
        )


@dataclass(frozen=True, slots=True)
class _GiveUp:
    reason: str  # permanent | expired | max_attempts | parked | undeliverable
    error: str
    attempts: int
    parked_behind: str | None = None


def fold_blocks(records: list[tuple[bytes | None, bytes | None]], destination: str) -> dict[str, str]:
    """Blocked shifts of one destination from the blocks topic's records, oldest first (the last one wins)."""
    prefix = f"{destination}\x1f".encode()
    blocked: dict[str, str] = {}
    for key, value in records:
        if key and key.startswith(prefix):
            shift = key[len(prefix) :].decode()
            if value:
                blocked[shift] = value.decode()
            else:
                blocked.pop(shift, None)
    return blocked


class DeliveryLoop:
    """Delivers one destination's queue. ``run()`` until cancelled; ``handle()`` is one record."""

    def __init__(
        self,
        destination: Destination,
        adapter: Adapter,
        *,
        topic: str,
        group_id: str,
        kafka: KafkaAccess,
        dlq_topic: str,
        codec: EventCodec,
        encode: Callable[[Envelope], KafkaRecord],
        publish: Publish,
        client: httpx.AsyncClient,
        config: EngineConfig,
        blocks_topic: str | None = None,
    ) -> None:
        self.destination, self.adapter, self.topic, self.group_id = destination, adapter, topic, group_id
        self.kafka, self.dlq_topic, self.codec, self.encode = kafka, dlq_topic, codec, encode
        self.publish, self.client, self.config, self.blocks_topic = publish, client, config, blocks_topic
        self.breaker = Breaker(config.breaker_failures, config.breaker_reset_s)
        self.blocked: dict[str, str] = {}  # shift id -> idempotency key of the given-up update it waits behind
        self._gauge()

    # --- the loop ------------------------------------------------------------------------------
    async def run(self) -> None:
        """Consume and deliver until cancelled; a crash restarts from the last commit after a pause."""
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "outbound %s: delivery loop failed; restarting from its last commit", self.destination.name
                )
                await asyncio.sleep(2.0)

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            **self.kafka.aiokafka(),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"rosterhub-outbound-{self.destination.name}",
            # a batch may wait out a whole outage: the group must not evict the consumer meanwhile
            max_poll_interval_ms=min(_MAX_POLL_MS, int((self.config.max_age_s + 600) * 1000)),
        )
        stale = [True]  # blocks must be (re)read before the first batch after any assignment

        class _Assigned(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked: Any) -> None:
                pass

            async def on_partitions_assigned(self, assigned: Any) -> None:
                stale[0] = True

        consumer.subscribe([self.topic], listener=_Assigned())
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=500)
                if stale[0]:  # read here, not in the listener: a failure must stop the loop, not be logged
                    await self.reload_blocks()
                    stale[0] = False
                if not batches:
                    continue
                await self.process([r for records in batches.values() for r in records])
                await consumer.commit({tp: records[-1].offset + 1 for tp, records in batches.items()})
        finally:
            await consumer.stop()

    async def process(self, records: list[QueuedRecord]) -> None:
        """Deliver a batch: shifts concurrently, each shift in offset order."""
        by_shift: dict[bytes | None, list[QueuedRecord]] = {}
        for r in records:
            by_shift.setdefault(r.key, []).append(r)
        gate = asyncio.Semaphore(self.config.concurrency)

        async def one_shift(rs: list[QueuedRecord]) -> None:
            async with gate:
                for r in rs:
                    await self.handle(r)

        # a TaskGroup cancels the other shifts when one fails (e.g. the broker is gone): the batch is not
        # committed and is delivered again from the last commit, instead of leaving orphan deliveries running
        async with asyncio.TaskGroup() as group:
            for rs in by_shift.values():
                group.create_task(one_shift(rs))

    # --- one record ------------------------------------------------------------------------------
    async def handle(self, record: QueuedRecord) -> None:
        headers = headers_dict(record.headers)
        redriven = headers.get(REDRIVE_HEADER) == b"1"
        queued_ms = record.timestamp
        try:
            q = decode_queued(record.value)
        except InputError as exc:
            await self._give_up(record, None, None, _GiveUp("undeliverable", str(exc), 0), redriven)
            return
        head = self.blocked.get(q.shift_id)
        if head is not None and not (redriven and q.key == head):
            await self._give_up(record, q, None, _GiveUp("parked", f"waits behind {head}", 0, head), redriven)
            return
        try:
            update = to_update(q, self.codec)
            rendered = self.adapter.render(update, self.destination)
        except Exception as exc:  # a bad record or an adapter bug must not stop the destination's queue
            await self._give_up(record, q, None, _GiveUp("undeliverable", f"{type(exc).__name__}: {exc}", 0), redriven)
            return
        if rendered is None:
            metrics.SKIPPED.labels(self.destination.name, q.kind).inc()
            return
        outcome = await self._deliver(q, rendered, queued_ms)
        if isinstance(outcome, _GiveUp):
            await self._give_up(record, q, update, outcome, redriven)
            return
        attempts = outcome
        if head is not None:
            await self._set_block(q.shift_id, None)
            log.info("outbound %s: shift %s unblocked by redriven %s", self.destination.name, q.shift_id, q.key)
        latency_ms = max(0, int(time.time() * 1000) - queued_ms)
        metrics.DELIVERED.labels(self.destination.name, q.kind).inc()
        metrics.LATENCY.labels(self.destination.name).observe(latency_ms / 1000)
        await self._receipt(
            DeliverySucceeded.AVRO_NAME,
            q,
            update,
            record,
            {
                "attempts": attempts,
                "latency_ms": latency_ms,
                "redriven": redriven,
                "delivered_at": datetime.now(UTC),
            },
        )

    async def _deliver(self, q: Queued, rendered: HttpCall | FileDrop, queued_ms: int) -> int | _GiveUp:
        """Attempt until delivered (returns the attempt count) or given up."""
        attempts = 0
        deadline_ms = queued_ms + self.config.max_age_s * 1000
        last_error = "never attempted: the circuit breaker stayed open"
        while True:
            if not await self._acquire(deadline_ms):
                return _GiveUp("expired", last_error, attempts)
            attempts += 1
            try:
                if isinstance(rendered, HttpCall):
                    await send_http(self.client, self.destination, rendered, q.key, time.time())
                else:
                    await asyncio.to_thread(drop_file, self.destination, rendered, q.key)
            except DeliveryError as exc:
                last_error = str(exc)
                if not exc.retriable:
                    self._set_breaker(self.breaker.on_success())  # it answered: the endpoint is up
                    return _GiveUp("permanent", last_error, attempts)
                self._set_breaker(self.breaker.on_failure(time.monotonic()))
                metrics.RETRIES.labels(self.destination.name).inc()
                log.info("outbound %s: %s attempt %d failed: %s", self.destination.name, q.key, attempts, exc)
                if self.config.max_attempts and attempts >= self.config.max_attempts:
                    return _GiveUp("max_attempts", last_error, attempts)
                if time.time() * 1000 >= deadline_ms:
                    return _GiveUp("expired", last_error, attempts)
                delay = backoff_s(attempts, base=self.config.backoff_base_s, cap=self.config.backoff_cap_s)
                await asyncio.sleep(min(delay, max(0.0, deadline_ms / 1000 - time.time())))
                continue
            self._set_breaker(self.breaker.on_success())
            return attempts

    async def _acquire(self, deadline_ms: float) -> bool:
        """Wait until the breaker lets a call through; False when the update expires first."""
        while True:
            allowed, breaker = self.breaker.acquire(time.monotonic())
            self._set_breaker(breaker)
            if allowed:
                return True
            if time.time() * 1000 >= deadline_ms:
                return False
            retry_at = self.breaker.retry_at() or time.monotonic()
            await asyncio.sleep(min(1.0, max(0.05, retry_at - time.monotonic())))

    def _set_breaker(self, breaker: Breaker) -> None:
        before = self.breaker.state(time.monotonic())
        self.breaker = breaker
        after = breaker.state(time.monotonic())
        if after != before:
            log.warning("outbound %s: circuit breaker %s -> %s", self.destination.name, before, after)
        self._gauge()

    def _gauge(self) -> None:
        metrics.BREAKER.labels(self.destination.name).set(STATE_VALUES[self.breaker.state(time.monotonic())])

    # --- blocks -----------------------------------------------------------------------------------
    async def _set_block(self, shift_id: str, head: str | None) -> None:
        """Block a shift behind ``head`` (None: unblock), in memory and on the blocks topic."""
        if head is None:
            self.blocked.pop(shift_id, None)
        else:
            self.blocked[shift_id] = head
        if self.blocks_topic:
            key = f"{self.destination.name}\x1f{shift_id}".encode()
            await self.publish(KafkaRecord(self.blocks_topic, key, (head or "").encode(), []))

    async def reload_blocks(self) -> None:
        """Read this destination's blocks from the compacted topic (at start and on every assignment)."""
        if not self.blocks_topic:
            return
        # no group: a fresh position starts at the earliest offset (an explicit seek_to_beginning right after
        # assign() was overridden by the default "latest" reset in aiokafka 0.14)
        reader = AIOKafkaConsumer(**self.kafka.aiokafka(), enable_auto_commit=False, auto_offset_reset="earliest")
        await reader.start()
        try:
            tps = [TopicPartition(self.blocks_topic, 0)]  # declared with one partition (topics.OUTBOUND_BLOCKS)
            reader.assign(tps)
            ends = await reader.end_offsets(tps)
            records: list[tuple[bytes | None, bytes | None]] = []
            while [tp for tp in tps if await reader.position(tp) < ends[tp]]:
                for batch in (await reader.getmany(timeout_ms=500)).values():
                    records.extend((r.key, r.value) for r in batch)
        finally:
            await reader.stop()
        self.blocked = fold_blocks(records, self.destination.name)
        blocked = self.blocked
        if blocked:
            log.warning(
                "outbound %s: %d shift(s) blocked behind dead letters (redrive them)",
                self.destination.name,
                len(blocked),
            )

    # --- giving up, receipts -----------------------------------------------------------------------
    async def _give_up(
        self, record: QueuedRecord, q: Queued | None, update: Update | None, why: _GiveUp, redriven: bool
    ) -> None:
        name = self.destination.name
        error = DeliveryError(why.error, retriable=False)
        original = [(k, v) for k, v in headers_dict(record.headers).items() if k != REDRIVE_HEADER]
        rec = dead_letter(
            topic=self.dlq_topic,
            stage="outbound",
            error=error,
            original=record.value if record.value is not None else b"",  # a tombstone: nothing to keep
            key=record.key,
            connector=f"outbound:{name}",
            record_ref=q.key if q else None,
            origin=(record.topic, record.partition, record.offset),
            original_headers=original,
        )
        rec.headers.extend([("dlq_destination", name.encode()), ("dlq_reason", why.reason.encode())])
        if why.parked_behind:
            rec.headers.append(("dlq_parked_behind", why.parked_behind.encode()))
        await self.publish(rec)
        metrics.FAILED.labels(name, why.reason).inc()
        if q is None:
            log.error("outbound %s: undeliverable record dead-lettered: %s", name, why.error)
            return
        if q.shift_id not in self.blocked:
            await self._set_block(q.shift_id, q.key)
        log.warning(
            "outbound %s: %s (%s, shift %s) dead-lettered: %s: %s",
            name,
            q.key,
            q.kind,
            q.shift_id,
            why.reason,
            why.error,
        )
        await self._receipt(
            DeliveryFailed.AVRO_NAME,
            q,
            update,
            record,
            {
                "attempts": why.attempts,
                "latency_ms": max(0, int(time.time() * 1000) - record.timestamp),
                "reason": why.reason,
                "error": why.error,
                "parked_behind": why.parked_behind,
                "failed_at": datetime.now(UTC),
            },
        )

    async def _receipt(
        self, type_: str, q: Queued, update: Update | None, record: QueuedRecord, extra: dict[str, Any]
    ) -> None:
        source = headers_dict(q.event.headers)
        d = self.destination
        data = {
            "destination": d.name,
            "trust": d.trust,
            "platform": d.platform,
            "kind": q.kind,
            "shift_id": q.shift_id,
            "source_event_id": update.event.id if update else source.get("ce_id", b"").decode(errors="replace"),
            "source_event_type": update.event.type if update else source.get("ce_type", b"").decode(errors="replace"),
            "idempotency_key": q.key,
            **extra,
        }
        rid = event_id("outbound-receipt", type_, q.key, record.topic, record.partition, record.offset)
        await self.publish(self.encode(Envelope(type=type_, source=RECEIPT_SOURCE, data=data, id=rid, subject=q.key)))
