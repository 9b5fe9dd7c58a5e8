"""Receipt: the one place where what a vendor sent is first written to a topic, whatever the transport.

Webhooks, FHIR, poll pages and dropped files all come through here, so every rule about
what the hub keeps holds for all of them at once:

* **raw first**: the payload goes to ``raw.<vendor>`` (acknowledged) before anything is
  published from it, with receipt headers (``rh_vendor``, ``rh_received_at``,
  ``rh_correlation_id``, ``content-type``, ``rh_trust``, transport extras);
* **redacted before the write**: the copy written is the mapping's redaction
  (:mod:`rosterhub.mapping.engine.redact`: NI number, date of birth, address never reach a
  topic in clear); ``rh_redacted`` names the fields, and ``rh_keyed`` carries the keyed
  values the mapping derived from them (``identity_match_key``), so a replay of the
  redacted copy makes the same events (docs/security.md, "Personal data");
* **refusals keep their bytes and their sender's trail**: a payload refused before the raw
  write (too large, wrong content type) is dead-lettered on ``dlq.ingest``, redacted the
  same way, with the same receipt headers, so the sender's correlation id finds it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NotRequired, TypedDict, Unpack

from rosterhub.deadletter import dead_letter
from rosterhub.envelope import KafkaRecord
from rosterhub.errors import PayloadTooLarge, RosterhubError
from rosterhub.kafka.limits import MAX_RECORD_BYTES
from rosterhub.mapping.engine import MappingSpec
from rosterhub.mapping.engine.redact import Redacted, redact_payload
from rosterhub.runtime import TopicNames

if TYPE_CHECKING:
    from rosterhub.connectors.pipeline import IngestContext

__all__ = [
    "DLQ_VALUE_LIMIT",
    "RAW_RECORD_LIMIT",
    "Receipt",
    "Received",
    "kept_copy",
    "mapping_name",
    "raw_record",
    "receipt_headers",
    "refused",
    "write_raw",
]

#: The part of a refused payload a dead letter keeps (``dlq.*`` take records of ``MAX_RECORD_BYTES`` like the raw
#: topics; a refusal keeps the head, enough to see what was sent, not a second copy of a whole file).
DLQ_VALUE_LIMIT = 4 * 1024 * 1024
#: A raw record, value and headers (``rh_keyed`` grows with the records of a file: ~112 bytes a person of an
#: ESR refresh), must fit the ``MAX_RECORD_BYTES`` the producer sends and raw topics take
#: (``rosterhub.topics.LARGE_RECORDS``), with room for Kafka's framing.
RAW_RECORD_LIMIT = MAX_RECORD_BYTES - 64 * 1024


class Receipt(TypedDict):
    """How a transport describes a payload's arrival: the keyword arguments shared by :func:`receipt_headers`,
    :func:`raw_record`, :func:`write_raw` and :func:`refused` (declared once here, so every receipt carries the
    same facts); a caller may gather them once and pass them to more than one of them."""

    trust: str | None
    content_type: str
    received_at: datetime
    correlation_id: str
    extra: NotRequired[Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Received:
    """A payload as written to its raw topic."""

    record: KafkaRecord  # as written: the redacted copy and the receipt headers
    origin: tuple[str, int, int]  # topic, partition, offset
    kept: Redacted  # what topics may hold of the payload (record.value)


def receipt_headers(vendor: str, **receipt: Unpack[Receipt]) -> list[tuple[str, bytes]]:
    headers = [
        ("rh_vendor", vendor.encode()),
        ("rh_received_at", receipt["received_at"].isoformat().encode()),
        ("rh_correlation_id", receipt["correlation_id"].encode()),
        ("content-type", receipt["content_type"].encode()),
    ]
    if receipt["trust"]:
        headers.append(("rh_trust", receipt["trust"].encode()))
    headers += [(f"rh_{k}", v.encode()) for k, v in receipt.get("extra", {}).items()]
    return headers


def raw_record(
    names: TopicNames, vendor: str, payload: bytes, *, key: bytes | None, **receipt: Unpack[Receipt]
) -> KafkaRecord:
    """A record for ``raw.<vendor>``: ``payload`` exactly as given (callers give a kept copy)."""
    return KafkaRecord(names.raw(vendor), key, payload, receipt_headers(vendor, **receipt))


def mapping_name(vendor: str, headers: Mapping[str, str] | list[tuple[str, bytes]] | None = None) -> str:
    """The mapping a payload is read with: the ``mapping`` extra / ``rh_mapping`` header when the transport
    set one (NHSP bookings and timesheets, HealthRoster XML and CSV), else the vendor's declared mapping."""
    if isinstance(headers, Mapping) and headers.get("mapping"):
        return str(headers["mapping"])
    if isinstance(headers, list):
        found = next((v.decode() for k, v in headers if k == "rh_mapping"), None)
        if found:
            return found
    from rosterhub.connectors.registry import connectors

    spec = connectors().get(vendor)
    return spec.mapping_name if spec is not None else vendor


def _spec(ctx: IngestContext, name: str, trust: str | None) -> MappingSpec | None:
    try:
        return ctx.mapping_for(name, trust)
    except RosterhubError:  # no mapping file: nothing is known to be sensitive in this vendor's data
        return None


def kept_copy(
    ctx: IngestContext, vendor: str, payload: bytes, *, trust: str | None, mapping: str | None = None
) -> Redacted:
    """What a topic may hold of ``payload``: its mapping's sensitive fields taken out."""
    return redact_payload(_spec(ctx, mapping or mapping_name(vendor), trust), payload)


def _kept(ctx: IngestContext, vendor: str, payload: bytes, receipt: Receipt) -> tuple[Redacted, dict[str, str]]:
    """The kept copy of ``payload`` (:func:`kept_copy`) and the receipt's extra headers, naming what it lacks."""
    headers = dict(receipt.get("extra", {}))
    kept = kept_copy(ctx, vendor, payload, trust=receipt["trust"], mapping=headers.get("mapping"))
    if kept.fields:
        headers["redacted"] = kept.header
    return kept, headers


def write_raw(
    ctx: IngestContext,
    vendor: str,
    payload: bytes,
    *,
    key: bytes | None = None,
    keyed: Mapping[str, Mapping[str, str]] | None = None,
    **receipt: Unpack[Receipt],
) -> Received:
    """Write the kept copy of ``payload`` to ``raw.<vendor>`` and wait for the broker's acknowledgement."""
    kept, extra = _kept(ctx, vendor, payload, receipt)
    if keyed:
        extra["keyed"] = json.dumps(keyed, separators=(",", ":"), sort_keys=True)
    receipt["extra"] = extra
    record = raw_record(ctx.names, vendor, kept.value, key=key, **receipt)
    size = len(record.value or b"") + sum(len(k) + len(v) for k, v in record.headers)
    if size > RAW_RECORD_LIMIT:  # refused as a payload too large, rather than retried for ever by the broker
        raise PayloadTooLarge(
            f"the raw copy would be {size} bytes with its headers, over the {RAW_RECORD_LIMIT} bytes a raw record "
            "may be: split the file",
            vendor=vendor,
        )
    [(partition, offset)] = ctx.sink.send([record])
    return Received(record, (record.topic, partition, offset), kept)


def refused(
    ctx: IngestContext,
    vendor: str,
    payload: bytes,
    error: RosterhubError,
    *,
    key: bytes | None = None,
    record_ref: str = "payload",
    **receipt: Unpack[Receipt],
) -> KafkaRecord:
    """The ``dlq.ingest`` record of a payload refused before its raw write: the kept copy (at most
    :data:`DLQ_VALUE_LIMIT` bytes), the reason, and the receipt headers a raw record would have had."""
    kept, extra = _kept(ctx, vendor, payload, receipt)
    if len(kept.value) > DLQ_VALUE_LIMIT:
        extra["truncated"] = f"{len(kept.value)} bytes, the first {DLQ_VALUE_LIMIT} kept"
    receipt["extra"] = extra
    headers = receipt_headers(vendor, **receipt)
    return dead_letter(
        topic=ctx.names.dlq("ingest"),
        stage="ingest",
        error=error,
        original=kept.value[:DLQ_VALUE_LIMIT],
        key=key,
        connector=vendor,
        record_ref=record_ref,
        original_headers=headers,
    )
