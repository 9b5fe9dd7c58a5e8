"""Queued updates on ``out.<destination>``: the wire format between the router and delivery loops.

A queued update keeps the hub event it came from **byte for byte** (value and headers as read
from events.booking, views.availability, events.timesheet or events.payroll) plus, for booking
outcomes, the availability view record of the shift at routing time. Its ``shift_id`` is the
value of its kind's ``order_field`` (the shift id, or the batch id of a pay update): the record's
Kafka key, and what the delivery loop keeps in order. So a dead letter is the queued record unchanged, redrive
re-queues those very bytes (same idempotency key), and the adapter always sees the decoded
event exactly as it was. JSON (with base64 for the bytes) rather than Avro: it is an internal
topic read only by this engine, and a human reading ``dlq.outbound`` can see the routing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rosterhub.codec.wire import EventCodec
from rosterhub.connectors.outbound.contract import Update
from rosterhub.connectors.outbound.kinds import declared
from rosterhub.envelope import KafkaRecord, decode_record, headers_dict
from rosterhub.errors import DecodeError
from rosterhub.events.models import ShiftAvailability

__all__ = ["FORMAT", "Queued", "StoredRecord", "decode_queued", "encode_queued", "to_update"]

FORMAT = "rosterhub.outbound.queued/1"


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A Kafka record's value and headers, kept verbatim."""

    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def of(cls, value: bytes, headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None) -> StoredRecord:
        return cls(value, tuple(headers_dict(headers).items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "value": base64.b64encode(self.value).decode(),
            "headers": [[k, base64.b64encode(v).decode()] for k, v in self.headers],
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> StoredRecord:
        return cls(base64.b64decode(doc["value"]), tuple((k, base64.b64decode(v)) for k, v in doc["headers"]))


@dataclass(frozen=True, slots=True)
class Queued:
    key: str  # idempotency key
    destination: str
    kind: str
    shift_id: str
    event: StoredRecord
    shift: StoredRecord | None = None

    @property
    def order_key(self) -> str:
        return self.shift_id


def encode_queued(q: Queued, topic: str, extra_headers: Sequence[tuple[str, bytes]] = ()) -> KafkaRecord:
    doc = {
        "format": FORMAT,
        "key": q.key,
        "destination": q.destination,
        "kind": q.kind,
        "shift_id": q.shift_id,
        "event": q.event.to_json(),
        "shift": q.shift.to_json() if q.shift else None,
    }
    headers = [
        ("rh_out_key", q.key.encode()),
        ("rh_out_kind", q.kind.encode()),
        ("rh_out_destination", q.destination.encode()),
        *extra_headers,
    ]
    return KafkaRecord(topic, q.shift_id.encode(), json.dumps(doc, separators=(",", ":")).encode(), headers)


def decode_queued(value: bytes | None) -> Queued:
    """Parse a queued record; a clear error names what is wrong (the bytes go to dlq.outbound)."""
    if value is None:
        raise DecodeError("queued update has no value (a tombstone)")
    try:
        doc = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError(f"queued update is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DecodeError("queued update has an unknown format", field="format", value=str(doc)[:80])
    if doc.get("kind") not in declared():
        raise DecodeError("queued update has an unknown kind", field="kind", value=doc.get("kind"))
    try:
        return Queued(
            key=str(doc["key"]),
            destination=str(doc["destination"]),
            kind=doc["kind"],
            shift_id=str(doc["shift_id"]),
            event=StoredRecord.from_json(doc["event"]),
            shift=StoredRecord.from_json(doc["shift"]) if doc.get("shift") else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DecodeError(f"queued update is incomplete: {exc!r}", key=doc.get("key")) from None


def to_update(q: Queued, codec: EventCodec) -> Update:
    """The adapter's view of a queued update: the event and the shift decoded (raises DecodeError)."""
    event = decode_record(q.event.value, q.event.headers, codec)
    shift = decode_record(q.shift.value, q.shift.headers, codec).data if q.shift else None
    if shift is None and event.type == ShiftAvailability.AVRO_NAME:
        shift = event.data
    return Update(
        key=q.key,
        destination=q.destination,
        kind=q.kind,
        shift_id=q.shift_id,
        order_key=q.order_key,
        event=event,
        shift=shift,
    )
