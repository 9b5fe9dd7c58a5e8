"""``rosterhub redrive``: send dead-lettered updates again through the normal delivery path.

Reads ``dlq.outbound`` from the beginning, picks the outbound dead letters (optionally of one
destination, failed since a time), drops those whose idempotency key has since been delivered
(a ``DeliverySucceeded`` receipt on ``events.delivery``; found from headers only, the
receipt's ``ce_subject`` is the key) and repeats of one key, and re-queues the rest - the
queued record byte for byte, so the same idempotency key - on ``out.<destination>`` with a
``rh_redrive: 1`` header, in dead-letter order (which is per-shift order: the DLQ is keyed by
shift id). The delivery loop then treats them like any update, except that the update a shift
is parked behind may go again (docs/outbound.md, "Dead letters and redrive").
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kafka import KafkaConsumer, TopicPartition

from rosterhub.connectors.outbound.engine import REDRIVE_HEADER
from rosterhub.connectors.outbound.queue import decode_queued
from rosterhub.envelope import KafkaRecord, headers_dict
from rosterhub.errors import ConfigError, InputError
from rosterhub.events.models import DeliverySucceeded
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.position import next_offset
from rosterhub.runtime import TopicNames

__all__ = ["Candidate", "parse_since", "plan_redrive", "read_topic_to_end", "redrive"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One dead letter and what redrive does with it (``action``: send | delivered | repeat | unreadable | unknown)."""

    destination: str
    key: str
    kind: str
    shift_id: str
    reason: str
    failed_at: str
    action: str
    record: KafkaRecord | None = None  # what would be / was sent


def parse_since(text: str | None, now: datetime) -> datetime | None:
    """An ISO 8601 time (naive means UTC), or a duration back from now: 90s, 30m, 2h, 1d."""
    if not text:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", text.strip())
    if m:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m[2]]
        return now - timedelta(**{unit: float(m[1])})
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since {text!r}: give an ISO 8601 time or a duration like 30m, 2h, 1d") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def plan_redrive(
    dead_letters: Iterable[tuple[bytes | None, bytes, Sequence[tuple[str, bytes]]]],
    *,
    names: TopicNames,
    destinations: Iterable[str],
    delivered: set[str],
    only: str | None = None,
    since: datetime | None = None,
) -> list[Candidate]:
    """Pure: what to do with each outbound dead letter (key, value, headers), in dead-letter order."""
    known = set(destinations)
    seen: set[tuple[str, str]] = set()
    out: list[Candidate] = []
    for key, value, headers in dead_letters:
        h = headers_dict(headers)
        dest = h.get("dlq_destination", b"").decode()
        if h.get("dlq_stage") != b"outbound" or not dest or (only and dest != only):
            continue
        failed_at = h.get("dlq_failed_at", b"").decode()
        if since is not None and (not failed_at or datetime.fromisoformat(failed_at) < since):
            continue
        reason = h.get("dlq_reason", b"").decode()
        try:
            q = decode_queued(value)
        except InputError:
            out.append(Candidate(dest, "", "", (key or b"").decode(errors="replace"), reason, failed_at, "unreadable"))
            continue
        action = "send"
        if dest not in known:
            action = "unknown"
        elif q.key in delivered:
            action = "delivered"
        elif (dest, q.key) in seen:
            action = "repeat"
        seen.add((dest, q.key))
        record = None
        if action == "send":
            keep = [(k, v) for k, v in h.items() if not k.startswith("dlq_") and k != REDRIVE_HEADER]
            record = KafkaRecord(names.outbound(dest), key, value, [*keep, (REDRIVE_HEADER, b"1")])
        out.append(Candidate(dest, q.key, q.kind, q.shift_id, reason, failed_at, action, record))
    return out


def read_topic_to_end(
    kafka: KafkaAccess, topic: str, timeout_s: float = 60.0
) -> Iterator[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]:
    """Every record of ``topic`` up to its end offsets at the time of the call, partition by partition."""
    consumer = KafkaConsumer(**kafka.kafka_python(), enable_auto_commit=False, client_id="rosterhub-redrive")
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        if not tps:
            return
        ends = consumer.end_offsets(tps)
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        for tp in tps:  # partition by partition: per-shift order is per partition
            if ends[tp] == 0:
                continue
            consumer.assign([tp])
            consumer.seek_to_beginning(tp)
            deadline = time.monotonic() + timeout_s
            while next_offset(consumer, tp) < ends[tp]:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reading {topic}[{tp.partition}] did not reach offset {ends[tp]}")
                for batch in consumer.poll(timeout_ms=500).values():
                    for r in batch:
                        if r.offset < ends[tp]:
                            yield r.key, r.value, r.headers
    finally:
        consumer.close()


def _delivered_keys(kafka: KafkaAccess, topic: str) -> set[str]:
    out = set()
    for _k, _v, headers in read_topic_to_end(kafka, topic):
        h = headers_dict(headers)
        if h.get("ce_type") == DeliverySucceeded.AVRO_NAME.encode() and "ce_subject" in h:
            out.add(h["ce_subject"].decode())
    return out


def redrive(
    kafka: KafkaAccess,
    names: TopicNames,
    destinations: Iterable[str],
    *,
    only: str | None = None,
    since: datetime | None = None,
    dry_run: bool = False,
) -> list[Candidate]:
    """Plan from the broker's dlq.outbound and events.delivery; unless ``dry_run``, send and wait for acks."""
    from rosterhub.kafka.producer import EventSink

    known = list(destinations)
    if only is not None and only not in known:
        raise ConfigError(f"unknown outbound destination {only!r}; configured: {', '.join(known) or 'none'}")
    plan = plan_redrive(
        read_topic_to_end(kafka, names.dlq("outbound")),
        names=names,
        destinations=known,
        delivered=_delivered_keys(kafka, names.events("delivery")),
        only=only,
        since=since,
    )
    to_send = [c.record for c in plan if c.record is not None]
    if to_send and not dry_run:
        sink = EventSink(kafka, client_id="rosterhub-redrive")
        try:
            sink.send(to_send)
        finally:
            sink.close()
    return plan
