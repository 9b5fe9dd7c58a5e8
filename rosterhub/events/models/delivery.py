"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the delivery domain.
"""

from __future__ import annotations

from typing import ClassVar

from rosterhub.events.base import AvroEvent, UtcInstant

__all__ = [
    "DeliveryFailed",
    "DeliverySucceeded",
]


class DeliveryFailed(AvroEvent):
    """The hub gave up delivering an update (permanent refusal, older than outbound_max_age_s, or parked behind an
    earlier failed update of the same shift) and dead-lettered it on dlq.outbound; rosterhub redrive can send it
    again.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.delivery.v1.DeliveryFailed"

    destination: str
    """Outbound destination name (settings outbound_destinations)."""

    trust: str
    """ODS code of the trust whose system it is."""

    platform: str
    """Adapter (platform kind) for the destination."""

    kind: str
    """Update kind (see DeliverySucceeded.kind)."""

    shift_id: str
    """Hub shift id the update is about."""

    source_event_id: str
    """CloudEvents id of the hub event the update came from."""

    source_event_type: str
    """Avro full name of that event."""

    idempotency_key: str
    """Key the receiver dedupes on: UUIDv5 of (source event id, destination)."""

    attempts: int
    """Attempts made (0 when the update was parked without trying)."""

    latency_ms: int
    """Milliseconds from queueing the update to giving up."""

    reason: str
    """permanent (the receiver refused it), expired (outbound_max_age_s passed), max_attempts, parked (an earlier
    update of the same shift failed) or undeliverable (it could not be decoded or rendered).
    """

    error: str
    """The last error, as logged (never a secret)."""

    parked_behind: str | None = None
    """Idempotency key of the failed update this one waited behind, when reason is parked."""

    failed_at: UtcInstant
    """When the hub gave up."""


class DeliverySucceeded(AvroEvent):
    """A trust system accepted an update from the hub (HTTP 2xx, or the file is in its drop folder). One receipt
    per delivered update; a redriven update that is delivered again gets another receipt with the same
    idempotency key.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.delivery.v1.DeliverySucceeded"

    destination: str
    """Outbound destination name (settings outbound_destinations)."""

    trust: str
    """ODS code of the trust whose system it is."""

    platform: str
    """Adapter (platform kind) that rendered the update."""

    kind: str
    """Update kind, as the processor that sent it declares it (docs/outbound.md): shift_open, booking_confirmed,
    timesheet_queried, pay_line...
    """

    shift_id: str
    """Hub shift id the update is about (updates of one shift are delivered in order); for a pay update, the batch
    id (a batch's updates are delivered in order).
    """

    source_event_id: str
    """CloudEvents id of the hub event the update came from."""

    source_event_type: str
    """Avro full name of that event."""

    idempotency_key: str
    """Key the receiver dedupes on: UUIDv5 of (source event id, destination)."""

    attempts: int
    """Attempts this delivery took (1 when the first one succeeded)."""

    latency_ms: int
    """Milliseconds from queueing the update to its acceptance (includes waiting behind an outage)."""

    redriven: bool = False
    """True when the update was re-sent by rosterhub redrive."""

    delivered_at: UtcInstant
    """When the receiver accepted it."""
