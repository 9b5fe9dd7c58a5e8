"""Re-run mapping over payloads already kept on ``raw.<vendor>``, e.g. after a mapping fix.

Replay reads the raw topic (never writes it again) and runs the same
:func:`~rosterhub.connectors.pipeline.map_and_publish` the live connectors use. Events
that were published before carry the same deterministic ids and are dropped by the
dedupe store, so a replay publishes only what is new: records that failed before and
map now. ``--from-dlq`` replays exactly the raw payloads that dead-lettered records
point at (their ``dlq_origin_*`` headers).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from rosterhub.connectors.pipeline import IngestContext, map_and_publish
from rosterhub.envelope import headers_dict
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.position import next_offset

__all__ = ["ReplaySummary", "dlq_origins", "replay_raw"]


@dataclass
class ReplaySummary:
    payloads: int = 0
    published: int = 0
    duplicates: int = 0
    rejected: int = 0


def _records(
    kafka: KafkaAccess, topic: str, *, partition: int | None, start: int | None, stop: int | None
) -> Iterator[ConsumerRecord]:
    consumer = KafkaConsumer(**kafka.kafka_python(), enable_auto_commit=False, client_id="rosterhub-replay")
    try:
        parts = sorted(consumer.partitions_for_topic(topic) or set())
        tps = [TopicPartition(topic, p) for p in parts if partition is None or p == partition]
        if not tps:
            return
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        for tp in tps:
            if start is not None:
                consumer.seek(tp, start)
            else:
                consumer.seek_to_beginning(tp)
        remaining = {
            tp for tp in tps if next_offset(consumer, tp) < min(ends[tp], stop if stop is not None else ends[tp])
        }
        while remaining:
            for tp, batch in consumer.poll(timeout_ms=1000).items():
                limit = min(ends[tp], stop if stop is not None else ends[tp])
                for rec in batch:
                    if rec.offset < limit:
                        yield rec
                if next_offset(consumer, tp) >= limit:
                    remaining.discard(tp)
                    consumer.pause(tp)
    finally:
        consumer.close()


def replay_raw(
    ctx: IngestContext,
    kafka: KafkaAccess,
    vendor: str,
    *,
    partition: int | None = None,
    start: int | None = None,
    stop: int | None = None,
    only: set[tuple[int, int]] | None = None,
) -> ReplaySummary:
    """Replay ``raw.<vendor>`` (optionally one partition, offsets [start, stop), or just ``only``)."""
    summary = ReplaySummary()
    topic = ctx.names.raw(vendor)
    for rec in _records(kafka, topic, partition=partition, start=start, stop=stop):
        if only is not None and (rec.partition, rec.offset) not in only:
            continue
        headers = headers_dict(rec.headers)
        trust = headers["rh_trust"].decode() if "rh_trust" in headers else None
        received = headers.get("rh_received_at")
        received_at = datetime.fromisoformat(received.decode()) if received else datetime.now(UTC)
        result = map_and_publish(
            ctx,
            vendor,
            rec.value,
            trust=trust,
            received_at=received_at,
            origin=(topic, rec.partition, rec.offset),
            original_headers=list(headers.items()),
        )
        summary.payloads += 1
        summary.published += len(result.event_ids)
        summary.duplicates += result.duplicates
        summary.rejected += len(result.rejected)
    return summary


def dlq_origins(kafka: KafkaAccess, dlq_topic: str, vendor: str, raw_topic: str) -> set[tuple[int, int]]:
    """(partition, offset) of every raw payload that a dead letter of ``vendor`` points at."""
    origins: set[tuple[int, int]] = set()
    for rec in _records(kafka, dlq_topic, partition=None, start=None, stop=None):
        h = headers_dict(rec.headers)
        if h.get("dlq_connector") == vendor.encode() and h.get("dlq_origin_topic") == raw_topic.encode():
            origins.add((int(h["dlq_origin_partition"]), int(h["dlq_origin_offset"])))
    return origins
