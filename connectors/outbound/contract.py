"""The contract between the delivery engine and the per-platform outbound adapters.

The engine (routing, ordering, retries, circuit breakers, receipts) knows nothing of any
platform; an adapter knows nothing of Kafka or retries. An adapter is one module in
``connectors/outbound/adapters/`` exposing ``ADAPTER`` (an object with ``platform`` and a
pure ``render``), so a new platform plugs in by adding a file, never by editing a switch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from rosterhub.envelope import Envelope

__all__ = ["UPDATE_KINDS", "Adapter", "Destination", "FileDrop", "HttpCall", "Rendered", "Update", "UpdateKind"]

UpdateKind = Literal[
    "shift_open",  # a shift this destination's workers may now book (posted to / released to their tier)
    "shift_withdrawn",  # a shift it listed as open is no longer open (filled elsewhere, cancelled): drop it
    "booking_confirmed",  # a request made through this platform was confirmed
    "booking_rejected",  # a request made through this platform was refused (reason codes)
    "shift_filled",  # the host platform's own shift is filled (by whom, which booking)
    "booking_cancelled",  # a confirmed booking was cancelled (shift re-opened or withdrawn)
    "no_show",  # the booked worker did not arrive
]
UPDATE_KINDS: tuple[str, ...] = UpdateKind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Destination:
    """One trust system the hub writes to: a platform kind at a trust, reached by URL or folder."""

    name: str  # unique, e.g. "patchwork-RXX"; also the circuit-breaker and metrics label
    trust: str  # ODS code of the trust whose system this is
    platform: str  # adapter name: patchwork | locums_nest | healthroster | nhsp | esr | fhir | ...
    url: str | None = None  # base URL for HTTP platforms
    folder: str | None = None  # drop folder for file platforms
    secret: str | None = None  # HMAC secret or bearer token, from settings (never logged)
    options: Mapping[str, Any] = field(default_factory=dict)  # platform-specific, documented by the adapter


@dataclass(frozen=True, slots=True)
class Update:
    """One thing one trust system must be told, already routed to one destination.

    ``key`` is the idempotency key the receiver dedupes on: stable for the same source event
    and destination, so a retry or a redrive carries the same key. Updates with the same
    ``order_key`` (the shift id) are delivered in order; others never wait for them.
    """

    key: str
    destination: str
    kind: UpdateKind
    shift_id: str
    order_key: str
    event: Envelope  # the hub event this comes from (BookingConfirmed, ShiftAvailability, ...)
    shift: Mapping[str, Any] | None = None  # the shift as the availability view holds it, when known


@dataclass(frozen=True, slots=True)
class HttpCall:
    """A request relative to the destination's ``url``; the engine adds the idempotency key header."""

    method: str
    path: str
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FileDrop:
    """A file to write atomically (temp name, then rename) into the destination's ``folder``."""

    name: str
    content: bytes


Rendered = HttpCall | FileDrop


class Adapter(Protocol):
    platform: str

    def render(self, update: Update, destination: Destination) -> Rendered | None:
        """The call or file for this update, or None when this platform has no use for it. Pure."""
        ...
