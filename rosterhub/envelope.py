"""Canonical events as Kafka records: CloudEvents binary mode with an Avro body.

CloudEvents attributes travel in headers (``ce_id``, ``ce_type``, ``ce_source``,
``ce_time``, ``ce_subject``, ``ce_specversion``, ``ce_dataschema``, and
``content-type``); the value is the Avro body from the configured codec. The header
mapping is done by the CloudEvents SDK's Kafka binding, so it follows the spec rather
than our reading of it. ``ce_type`` is the Avro full name of the event's schema, so no
second lookup table exists.

Event ids are deterministic where the input has an identity (vendor, record id,
version): a redelivered input produces the same ``ce_id``, which is what downstream
processors deduplicate on.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.base import BaseCloudEvent, EventFactory
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent

from rosterhub.codec.catalogue import EventSchema
from rosterhub.codec.wire import EventCodec
from rosterhub.errors import DecodeError

__all__ = ["Envelope", "KafkaRecord", "decode_record", "encode_event", "event_id", "event_ids", "headers_dict"]

_NAMESPACE = uuid.UUID("6f1c7d2e-4b0a-5e7c-9a51-0c3f8e2d1b47")


def event_id(*parts: object) -> str:
    """A stable event id (UUIDv5) from the parts that identify an input, for idempotency."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(str(p) for p in parts)))


def event_ids(*prefix: object) -> Callable[..., str]:
    """:func:`event_id` with its first parts fixed, for a processor that names every output alike.

    ``event_ids(a, b)(c, d) == event_id(a, b, c, d)`` (at least one part after the prefix). The prefix is
    hashed once, and the UUIDv5 text is made from the SHA-1 digest without a :class:`uuid.UUID` object: a
    half the cost per id or less (tests/unit/core/test_envelope_ids.py checks it against :func:`event_id`)."""
    base = hashlib.sha1(_NAMESPACE.bytes + "".join(f"{p}\x1f" for p in prefix).encode(), usedforsecurity=False)

    def ids(*parts: object) -> str:
        h = base.copy()
        h.update("\x1f".join(str(p) for p in parts).encode())
        b = bytearray(h.digest()[:16])
        b[6] = (b[6] & 0x0F) | 0x50  # version 5
        b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
        x = b.hex()
        return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"

    return ids


@dataclass(frozen=True, slots=True)
class Envelope:
    """A canonical event: CloudEvents context plus the Avro record."""

    type: str  # Avro full name
    source: str  # e.g. /vendors/patchwork/RXX or /rosterhub/booking
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    subject: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    extensions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class _PassThrough:
    """A CloudEvents data 'format' for data that is already encoded bytes (our Avro body).

    Events travel in binary content mode only (attributes in headers, the body as the value), so the
    structured-mode half of cloudevents' ``Format`` contract (``read``/``write``) refuses to be used."""

    def __init__(self, content_type: str) -> None:
        self._ct = content_type

    def read(self, event_factory: EventFactory | None, data: str | bytes) -> BaseCloudEvent:
        raise NotImplementedError("rosterhub events use CloudEvents binary content mode, not structured mode")

    def write(self, event: BaseCloudEvent) -> bytes:
        raise NotImplementedError("rosterhub events use CloudEvents binary content mode, not structured mode")

    def write_data(self, data: dict[str, Any] | str | bytes | None, datacontenttype: str | None) -> bytes:
        return data if isinstance(data, bytes) else b""

    def read_data(self, body: bytes, datacontenttype: str | None) -> bytes:
        return body

    def get_content_type(self) -> str:
        return self._ct


def encode_event(
    env: Envelope, schema: EventSchema, codec: EventCodec, topic: str, *, validate: bool = True
) -> KafkaRecord:
    """Encode one event for ``topic``; the message key and ``ce_subject`` are the schema's declared fields
    (``validate``: see :func:`rosterhub.codec.wire._write_body`)."""
    body = codec.encode(schema, env.data, validate=validate)
    attributes: dict[str, Any] = {
        "id": env.id,
        "type": env.type,
        "source": env.source,
        "time": env.time,
        "datacontenttype": codec.content_type,
        "dataschema": codec.dataschema(schema),
        **env.extensions,
    }
    # The subject, like the key, is the field the schema declares (``rosterhub.subject``): the one
    # place it is said, so no producer can put another id there (ShiftFilled once carried the booking id).
    subject = env.data.get(schema.subject_field)
    if subject is not None:
        attributes["subject"] = str(subject)
    elif env.subject is not None:
        attributes["subject"] = env.subject
    key = env.data.get(schema.key_field)
    message = ce_kafka.to_binary(
        CloudEvent(attributes, body), _PassThrough(codec.content_type), key_mapper=lambda _e: None
    )
    return KafkaRecord(
        topic=topic,
        key=str(key).encode() if key is not None else None,
        value=message.value,
        headers=list(message.headers.items()),
    )


def headers_dict(headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None) -> dict[str, bytes]:
    """Headers as a dict whatever the client gave (kafka-python: list of pairs; faust: dict)."""
    if headers is None:
        return {}
    if isinstance(headers, Mapping):
        return dict(headers)
    return dict(headers)


def decode_record(
    value: bytes, headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None, codec: EventCodec
) -> Envelope:
    """Decode a record written by :func:`encode_event` (or any CloudEvents binary-mode producer)."""
    hdrs = headers_dict(headers)
    if "ce_id" not in hdrs or "ce_type" not in hdrs:
        raise DecodeError("record has no CloudEvents ce_id/ce_type headers", headers=sorted(hdrs))
    try:
        event = ce_kafka.from_binary(
            ce_kafka.KafkaMessage(headers=hdrs, key=None, value=value), _PassThrough(codec.content_type)
        )
    except Exception as exc:
        raise DecodeError(f"invalid CloudEvents headers: {exc}", ce_id=hdrs.get("ce_id")) from exc
    decoded = codec.decode(value)
    ce_type = event.get_type()
    if decoded.full_name != ce_type:
        raise DecodeError(
            f"ce_type {ce_type!r} does not match the body's writer schema {decoded.full_name!r}",
            ce_id=event.get_id(),
        )
    std = {"id", "type", "source", "time", "subject", "specversion", "datacontenttype", "dataschema", "partitionkey"}
    return Envelope(
        type=ce_type,
        source=event.get_source(),
        data=decoded.record,
        id=event.get_id(),
        subject=event.get_subject(),
        time=event.get_time() or datetime.now(UTC),
        extensions={k: str(v) for k, v in event.get_attributes().items() if k not in std},
    )
