"""Raw first, then map: the one path every inbound payload takes, whatever its transport.

1. The vendor's mapping reads the payload as received, in memory (pure, ``rosterhub.mapping``).
2. The payload's redacted copy goes to ``raw.<vendor>`` with receipt metadata in headers
   (``connectors/receipt.py``), and the broker acknowledges it before anything is
   published: nothing received is lost, nothing personal is written in clear.
3. Mapped events go to their ``events.<domain>`` topics; records that could not be
   mapped go to ``dlq.mapping`` with their (redacted) bytes and the reason.
4. Whatever fails after step 2 ends as a dead letter naming the reason (``internal_error``),
   never as an exception that keeps nothing (issue #12).

A payload pushed by an authenticated sender carries the sender's trust on its raw record
(``rh_sender_trust``); a record it holds for another trust is rejected (``trust_mismatch``),
live and on replay alike, so a trust's credentials publish only that trust's events.

``rosterhub replay`` re-runs steps 1, 3 and 4 over records already on ``raw.<vendor>``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from rosterhub.connectors import metrics
from rosterhub.connectors.receipt import Receipt, Received, mapping_name, raw_record, receipt_headers, write_raw
from rosterhub.connectors.state import Dedupe
from rosterhub.deadletter import dead_letter
from rosterhub.envelope import Envelope, KafkaRecord
from rosterhub.errors import BrokerUnavailable, EncodeError, InternalError, RosterhubError, TrustMismatch
from rosterhub.kafka.producer import EventSink, PartialSend
from rosterhub.mapping.engine import MappingSpec, apply_mapping, find_mapping, load_mapping
from rosterhub.mapping.engine.apply import MappingOutcome, Rejection, Skipped
from rosterhub.runtime import Encoder, TopicNames

__all__ = [
    "IngestContext",
    "IngestFailed",
    "IngestResult",
    "Mapped",
    "Rejected",
    "ingest",
    "internal_error",
    "map_and_publish",
    "map_payload",
    "packaged_mapping",
    "publish_mapped",
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


@cache
def packaged_mapping(vendor: str, trust: str | None) -> MappingSpec:
    """The installed mapping file for a vendor (trust variant first), loaded once per process."""
    return load_mapping(find_mapping(vendor, trust))


@dataclass
class IngestContext:
    sink: EventSink
    encoder: Encoder
    names: TopicNames
    secrets: Mapping[str, bytes] = field(default_factory=dict)
    state: Dedupe | None = None  # dedupe; None only in tools that publish nothing twice by design
    mapping_for: Callable[[str, str | None], MappingSpec] = field(default_factory=lambda: packaged_mapping)


class IngestFailed(InternalError):
    """The hub failed on a payload after keeping it: it is on the raw topic, and a dead letter says why."""

    def __init__(self, message: str, *, raw: tuple[str, int, int], correlation_id: str) -> None:
        super().__init__(message)
        self.raw, self.correlation_id = raw, correlation_id


@dataclass(frozen=True, slots=True)
class Mapped:
    """A payload read by its mapping (pure): the outcome, or why there is none."""

    spec: MappingSpec | None
    outcome: MappingOutcome | None
    error: RosterhubError | None = None


def map_payload(
    ctx: IngestContext,
    vendor: str,
    payload: bytes,
    *,
    trust: str | None,
    received_at: datetime,
    headers: list[tuple[str, bytes]],
) -> Mapped:
    """Step 2 (pure, no I/O): the payload's mapping applied; never raises.

    A problem of the mapping itself (no mapping file, a secret not configured) is ``error``; so is
    any failure the mapping engine was not written to expect (a bug), as an ``internal_error``.
    """
    spec: MappingSpec | None = None
    try:
        spec = ctx.mapping_for(mapping_name(vendor, headers), trust)
        mapped_input = _mapping_input(vendor, payload, headers)
        outcome = apply_mapping(
            spec, mapped_input, received_at=received_at, trust=trust, secrets=ctx.secrets, keyed=_keyed(headers)
        )
    except RosterhubError as exc:
        return Mapped(spec, None, exc)
    except Exception as exc:  # a bug must not lose the payload: it is dead-lettered with this reason
        log.error("mapping failed unexpectedly", exc_info=True, extra={"vendor": vendor})
        return Mapped(spec, None, internal_error(exc, "mapping"))
    return Mapped(spec, outcome)


def internal_error(exc: BaseException, stage: str) -> InternalError:
    """The reason a dead letter gives for an unexpected failure: the exception's type and message, nothing else."""
    return InternalError(f"the hub failed while {stage} this payload: {type(exc).__name__}: {exc}"[:1000])


def _keyed(headers: list[tuple[str, bytes]]) -> dict[str, dict[str, str]] | None:
    """The keyed values a redacted raw copy carries (``rh_keyed``), for a replay of it."""
    raw = next((v for k, v in headers if k == "rh_keyed"), None)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


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
    extra: Mapping[str, str] | None = None,
) -> IngestResult:
    """Map (in memory), write the redacted raw copy, publish the outcome. Blocking (kafka-python): run in a thread.

    ``sender_trust``: the trust the sender authenticated for; records of other trusts are rejected (the raw
    record keeps it as ``rh_sender_trust``, so a replay holds to it too). Raises :class:`BrokerUnavailable`
    when the raw write fails (nothing kept: the sender must retry), and :class:`IngestFailed` when anything
    fails after it (the payload is kept, a dead letter says why).
    """
    if sender_trust:
        extra = {**(extra or {}), SENDER_TRUST: sender_trust}
    receipt = Receipt(
        trust=trust,
        content_type=content_type,
        received_at=received_at or datetime.now(UTC),
        correlation_id=correlation_id,
        extra=extra or {},
    )
    preview = receipt_headers(vendor, **receipt)
    mapped = map_payload(ctx, vendor, payload, trust=trust, received_at=receipt["received_at"], headers=preview)
    keyed = mapped.outcome.keyed if mapped.outcome is not None else None
    received = write_raw(ctx, vendor, payload, key=key, keyed=keyed, **receipt)
    result = publish_mapped(ctx, vendor, mapped, received, correlation_id=correlation_id)
    log.info(
        "ingested",
        extra={
            "vendor": vendor,
            "correlation_id": correlation_id,
            "events": len(result.event_ids),
            "rejected": len(result.rejected),
            "raw_offset": received.origin[2],
        },
    )
    return result


def publish_mapped(
    ctx: IngestContext, vendor: str, mapped: Mapped, received: Received, *, correlation_id: str
) -> IngestResult:
    """Steps 3-4 for a payload already on its raw topic; whatever fails, the payload ends with a dead letter."""
    try:
        return _publish(ctx, vendor, mapped, received.origin, received.record.headers, received.kept.value)
    except BrokerUnavailable:
        raise  # the caller retries (file drop, poll) or answers 503; the raw copy is kept either way
    except Exception as exc:  # no 500 that keeps nothing: say why on the dead-letter topic
        log.error("publishing failed after the raw write", exc_info=True, extra={"vendor": vendor})
        error = internal_error(exc, "publishing")
        dead = [(error, received.kept.value, "payload")]
        publish_rejects(ctx, vendor, dead, received.origin, received.record.headers, IngestResult())
        raise IngestFailed(str(error), raw=received.origin, correlation_id=correlation_id) from None


def map_and_publish(
    ctx: IngestContext,
    vendor: str,
    payload: bytes,
    *,
    trust: str | None,
    received_at: datetime,
    origin: tuple[str, int, int],
    original_headers: list[tuple[str, bytes]],
    kept: bytes | None = None,
) -> IngestResult:
    """Steps 2-4; also what ``rosterhub replay`` runs for records already on the raw topic.

    ``payload`` is what the mapping reads (the bytes as received, or a raw record's value on
    replay); ``kept`` is what a dead letter of the whole payload may hold (default ``payload``).
    """
    mapped = map_payload(ctx, vendor, payload, trust=trust, received_at=received_at, headers=original_headers)
    return _publish(ctx, vendor, mapped, origin, original_headers, payload if kept is None else kept)


def _publish(
    ctx: IngestContext,
    vendor: str,
    mapped: Mapped,
    origin: tuple[str, int, int],
    original_headers: list[tuple[str, bytes]],
    kept: bytes,
) -> IngestResult:
    result = IngestResult(raw_position=origin)
    if mapped.outcome is None:  # no usable mapping: keep the payload, say why
        assert mapped.error is not None
        publish_rejects(ctx, vendor, [(mapped.error, kept, "payload")], origin, original_headers, result)
        return result
    outcome = mapped.outcome
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
        except Exception as exc:  # e.g. a value fastavro cannot write: this record fails, not the others
            error = EncodeError(f"{event.type} cannot be encoded: {type(exc).__name__}: {exc}"[:1000])
            failures.append((error, event.raw, event.record_ref))
    # a whole-payload rejection (unreadable, wrong encoding) is dead-lettered as the kept (redacted) copy
    failures += [(r.error, kept if r.record_ref == "payload" else r.raw, r.record_ref) for r in outcome.rejected]
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
    kept = MappingOutcome(rejected=list(outcome.rejected), skipped=list(outcome.skipped), keyed=dict(outcome.keyed))
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


def _mapping_input(vendor: str, payload: bytes, headers: list[tuple[str, bytes]]) -> bytes:
    """What the mapping reads: the raw payload, unless the vendor's quirks name a converter.

    A connector whose wire payload is not what its mapping reads (FHIR XML, a FHIR Bundle
    whose entries need checking first) declares ``quirks.mapping_input``, a pure
    ``function(payload, headers) -> bytes`` (resolved once when the registry loads, even when
    a YAML declaration names it as ``"module:function"``). It runs here, so live ingest and
    ``rosterhub replay`` map exactly the same input; a :class:`RosterhubError` it raises
    dead-letters the payload like any parse error.
    """
    from rosterhub.connectors.registry import connectors

    spec = connectors().get(vendor)
    convert = spec.quirks.mapping_input if spec is not None else None
    return payload if convert is None else convert(payload, headers)


def _claim(ctx: IngestContext, vendor: str, keys: list[str]) -> list[str]:
    return keys if ctx.state is None else ctx.state.claim(vendor, keys)


def publish_rejects(
    ctx: IngestContext,
    vendor: str,
    failures: Sequence[tuple[RosterhubError, bytes, str]],
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
