"""Raw first, then map: the one path every inbound payload takes, whatever its transport.

1. The untouched payload goes to ``raw.<vendor>`` with receipt metadata in headers, and
   the broker acknowledges it before anything else happens: nothing received is lost.
2. The vendor's mapping turns it into canonical events (pure, ``rosterhub.mapping``).
3. Mapped events go to their ``events.<domain>`` topics; records that could not be
   mapped go to ``dlq.mapping`` with their original bytes and the reason.

A payload pushed by an authenticated sender carries the sender's trust on its raw record
(``rh_sender_trust``); a record it holds for another trust is rejected (``trust_mismatch``),
live and on replay alike, so a trust's credentials publish only that trust's events.

``rosterhub replay`` re-runs steps 2-3 over records already on ``raw.<vendor>``.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from rosterhub.connectors import metrics
from rosterhub.connectors.state import ConnectorState
from rosterhub.deadletter import dead_letter
from rosterhub.envelope import Envelope, KafkaRecord
from rosterhub.errors import EncodeError, RosterhubError, TrustMismatch
from rosterhub.kafka.producer import EventSink, PartialSend
from rosterhub.mapping.engine import MappingSpec, apply_mapping, find_mapping, load_mapping
from rosterhub.mapping.engine.apply import MappingOutcome, Rejection, Skipped
from rosterhub.runtime import Encoder, TopicNames

__all__ = [
    "IngestContext",
    "IngestResult",
    "Rejected",
    "ingest",
    "map_and_publish",
    "packaged_mapping",
    "publish_rejects",
    "raw_record",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rejected:
    record: str
    error: dict[str, str]


@dataclass
class IngestResult:
    raw_position: tuple[str, int, int] | None = None  # topic, partition, offset of the raw record
    event_ids: list[str] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0  # events already published earlier (redelivery, re-drop, overlapping page)
    echoes: list[str] = field(default_factory=list)  # records that were the hub's own change reported back

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": len(self.event_ids),
            "event_ids": self.event_ids,
            "event_types": self.event_types,
            "rejected": [{"record": r.record, **r.error} for r in self.rejected],
            "duplicates": self.duplicates,
            "echoes": len(self.echoes),
            "raw": None
            if self.raw_position is None
            else dict(zip(("topic", "partition", "offset"), self.raw_position, strict=True)),
        }


@dataclass
class IngestContext:
    sink: EventSink
    encoder: Encoder
    names: TopicNames
    secrets: Mapping[str, bytes] = field(default_factory=dict)
    state: ConnectorState | None = None  # dedupe; None only in tools that publish nothing twice by design
    mapping_for: Callable[[str, str | None], MappingSpec] = field(default_factory=lambda: packaged_mapping)


@cache
def packaged_mapping(vendor: str, trust: str | None) -> MappingSpec:
    """The installed mapping file for a vendor (trust variant first), loaded once per process."""
    return load_mapping(find_mapping(vendor, trust))


def raw_record(
    names: TopicNames,
    vendor: str,
    payload: bytes,
    *,
    key: bytes | None,
    trust: str | None,
    content_type: str,
    received_at: datetime,
    correlation_id: str,
    extra: Mapping[str, str] | None = None,
) -> KafkaRecord:
    headers = [
        ("rh_vendor", vendor.encode()),
        ("rh_received_at", received_at.isoformat().encode()),
        ("rh_correlation_id", correlation_id.encode()),
        ("content-type", content_type.encode()),
    ]
    if trust:
        headers.append(("rh_trust", trust.encode()))
    headers += [(f"rh_{k}", v.encode()) for k, v in (extra or {}).items()]
    return KafkaRecord(names.raw(vendor), key, payload, headers)


def ingest(
    ctx: IngestContext,
    vendor: str,
    payload: bytes,
    *,
    trust: str | None,
    content_type: str,
    correlation_id: str,
    received_at: datetime | None = None,
    key: bytes | None = None,
    sender_trust: str | None = None,
) -> IngestResult:
    """Write the raw payload, map it and publish the outcome. Blocking (kafka-python): run in a thread.

    ``sender_trust``: the trust the sender authenticated for; records of other trusts are rejected."""
    received_at = received_at or datetime.now(UTC)
    raw = raw_record(
        ctx.names,
        vendor,
        payload,
        key=key,
        trust=trust,
        content_type=content_type,
        received_at=received_at,
        correlation_id=correlation_id,
        extra={SENDER_TRUST: sender_trust} if sender_trust else None,
    )
    [(partition, offset)] = ctx.sink.send([raw])
    result = map_and_publish(
        ctx,
        vendor,
        payload,
        trust=trust,
        received_at=received_at,
        origin=(raw.topic, partition, offset),
        original_headers=raw.headers,
    )
    log.info(
        "ingested",
        extra={
            "vendor": vendor,
            "correlation_id": correlation_id,
            "events": len(result.event_ids),
            "rejected": len(result.rejected),
            "raw_offset": offset,
        },
    )
    return result


def map_and_publish(
    ctx: IngestContext,
    vendor: str,
    payload: bytes,
    *,
    trust: str | None,
    received_at: datetime,
    origin: tuple[str, int, int],
    original_headers: list[tuple[str, bytes]],
) -> IngestResult:
    """Steps 2-3 above; also what ``rosterhub replay`` runs for records already on the raw topic."""
    result = IngestResult(raw_position=origin)
    try:
        spec = ctx.mapping_for(_mapping_name(vendor, original_headers), trust)
        mapped_input = _mapping_input(vendor, payload, original_headers)
        outcome = apply_mapping(spec, mapped_input, received_at=received_at, trust=trust, secrets=ctx.secrets)
    except RosterhubError as exc:  # no usable mapping file: keep the payload, say why
        publish_rejects(ctx, vendor, [(exc, payload, "payload")], origin, original_headers, result)
        return result
    sender = next((v.decode() for k, v in original_headers if k == f"rh_{SENDER_TRUST}"), None)
    if sender:
        outcome = only_trust(outcome, sender)
    _count_echoes(vendor, outcome.skipped, origin, result)
    encoded: list[tuple[str, str, KafkaRecord]] = []
    failures: list[tuple[RosterhubError, bytes, str]] = []
    for event in outcome.events:
        env = Envelope(type=event.type, source=event.source, data=event.data, id=event.id, subject=event.subject)
        try:
            encoded.append((event.id, event.type, ctx.encoder.encode(env)))
        except EncodeError as exc:
            failures.append((exc, event.raw, event.record_ref))
    failures += [(rej.error, rej.raw, rej.record_ref) for rej in outcome.rejected]
    fresh_ids = set(_claim(ctx, vendor, [eid for eid, _, _ in encoded]))
    fresh = [(eid, etype, rec) for eid, etype, rec in encoded if eid in fresh_ids]
    result.duplicates = len(encoded) - len(fresh)
    _send_claimed(ctx, vendor, [eid for eid, _, _ in fresh], [rec for _, _, rec in fresh])
    result.event_ids = [eid for eid, _, _ in fresh]
    result.event_types = [etype for _, etype, _ in fresh]
    publish_rejects(ctx, vendor, failures, origin, original_headers, result)
    return result


SENDER_TRUST = "sender_trust"  # raw record header rh_sender_trust: the trust the sender authenticated for


def only_trust(outcome: MappingOutcome, trust: str) -> MappingOutcome:
    """The outcome with every event of another trust than ``trust`` turned into a rejection (pure)."""
    kept = MappingOutcome(rejected=list(outcome.rejected), skipped=list(outcome.skipped))
    for event in outcome.events:
        of = event.source.rsplit("/", 1)[-1]
        if of == trust:
            kept.events.append(event)
        else:
            error = TrustMismatch(
                f"the record is for trust {of}, but the sender is authenticated for {trust} only",
                record=event.record_ref,
                field="trust",
                value=of,
            )
            if not any(r.record_ref == event.record_ref for r in kept.rejected):
                kept.rejected.append(Rejection(error, event.record_ref, event.raw))
    return kept


def _count_echoes(vendor: str, skipped: list[Skipped], origin: tuple[str, int, int], result: IngestResult) -> None:
    """Echo suppression: a record the mapping's ``echo`` skip rule recognised as the hub's own change, reported
    back by the platform, is not a new change. Its bytes stay on the raw topic; it is counted and logged."""
    result.echoes = [s.record_ref for s in skipped if s.echo]
    if result.echoes:
        metrics.ECHOES.labels(vendor).inc(len(result.echoes))
        log.info("echo suppressed", extra={"vendor": vendor, "records": result.echoes, "raw": origin})


def _mapping_name(vendor: str, headers: list[tuple[str, bytes]]) -> str:
    """The mapping the payload was taken with: the raw record's ``rh_mapping`` header when the transport set one
    (a vendor with several file kinds: NHSP bookings and timesheets, HealthRoster XML and CSV), else the vendor's."""
    return next((v.decode() for k, v in headers if k == "rh_mapping"), vendor)


def _mapping_input(vendor: str, payload: bytes, headers: list[tuple[str, bytes]]) -> bytes:
    """What the mapping reads: the raw payload, unless the vendor's spec names a converter.

    A connector whose wire payload is not what its mapping reads (FHIR XML, a FHIR Bundle
    whose entries need checking first) declares ``quirks["mapping_input"] = "module:function"``,
    a pure ``function(payload, headers) -> bytes``. It runs here, so live ingest and
    ``rosterhub replay`` map exactly the same input; a :class:`RosterhubError` it raises
    dead-letters the payload like any parse error.
    """
    from rosterhub.connectors.registry import connectors

    spec = connectors().get(vendor)
    target = spec.quirks.get("mapping_input") if spec is not None else None
    if not target:
        return payload
    module, _, name = str(target).partition(":")
    convert: Callable[[bytes, list[tuple[str, bytes]]], bytes] = getattr(importlib.import_module(module), name)
    return convert(payload, headers)


def _claim(ctx: IngestContext, vendor: str, keys: list[str]) -> list[str]:
    return keys if ctx.state is None else ctx.state.claim(vendor, keys)


def publish_rejects(
    ctx: IngestContext,
    vendor: str,
    failures: list[tuple[RosterhubError, bytes, str]],
    origin: tuple[str, int, int],
    original_headers: list[tuple[str, bytes]],
    result: IngestResult,
) -> None:
    """Report every rejection to the caller; dead-letter each distinct one once (a re-sent bad record is no news)."""
    records: list[tuple[str, KafkaRecord]] = []
    for error, raw, ref in failures:
        result.rejected.append(Rejected(ref, error.as_dict()))
        key = "reject:" + hashlib.sha256(b"%s\x1f%s\x1f%s" % (raw, ref.encode(), str(error).encode())).hexdigest()
        records.append((key, _dlq(ctx, vendor, error, raw, origin, ref, original_headers)))
    fresh = set(_claim(ctx, vendor, [k for k, _ in records]))
    _send_claimed(ctx, vendor, [k for k, _ in records if k in fresh], [rec for k, rec in records if k in fresh])


def _send_claimed(ctx: IngestContext, vendor: str, keys: list[str], records: list[KafkaRecord]) -> None:
    """Send; confirm the claims once acknowledged, release them if sending failed."""
    try:
        ctx.sink.send(records)
    except PartialSend as exc:  # keep what the broker has; only the rest may be retried
        if ctx.state is not None:
            done = set(exc.acked)
            ctx.state.confirm(vendor, [k for i, k in enumerate(keys) if i in done])
            ctx.state.release(vendor, [k for i, k in enumerate(keys) if i not in done])
        raise
    except BaseException:
        if ctx.state is not None:
            ctx.state.release(vendor, keys)
        raise
    if ctx.state is not None:
        ctx.state.confirm(vendor, keys)


def _dlq(
    ctx: IngestContext,
    vendor: str,
    error: RosterhubError,
    original: bytes,
    origin: tuple[str, int, int],
    record_ref: str,
    original_headers: list[tuple[str, bytes]],
) -> KafkaRecord:
    return dead_letter(
        topic=ctx.names.dlq("mapping"),
        stage="mapping",
        error=error,
        original=original,
        connector=vendor,
        origin=origin,
        record_ref=record_ref,
        original_headers=original_headers,
    )
