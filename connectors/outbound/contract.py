"""The contract between the delivery engine and the per-platform outbound adapters.

The engine (routing, ordering, retries, circuit breakers, receipts) knows nothing of any
platform; an adapter knows nothing of Kafka or retries. An adapter is one module in
``connectors/outbound/adapters/`` exposing ``ADAPTER`` (an object with ``platform`` and a
pure ``render``), so a new platform plugs in by adding a file, never by editing a switch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from rosterhub.connectors.signing import sign
from rosterhub.envelope import Envelope

__all__ = [
    "AUTH",
    "IDEMPOTENCY_HEADER",
    "SIGN",
    "Adapter",
    "Destination",
    "FileDrop",
    "HttpCall",
    "Rendered",
    "Update",
    "UpdateKind",
    "wire_headers",
]

#: An update kind's name (``booking_confirmed``, ``shift_open``, ``timesheet_queried``, ``pay_line``...). Each kind
#: is declared once, by the processor whose event it carries (:mod:`rosterhub.connectors.outbound.kinds`); an
#: adapter renders the kinds it knows and returns None for any other, including kinds declared after it was written.
UpdateKind = str


@dataclass(frozen=True, slots=True)
class Destination:
    """One trust system the hub writes to: a platform kind at a trust, reached by URL or folder."""

    name: str  # unique, e.g. "patchwork-RXX"; also the circuit-breaker and metrics label
    trust: str  # ODS code of the trust whose system this is
    platform: str  # adapter name: patchwork | locums_nest | healthroster | nhsp | esr | fhir | ...
    url: str | None = None  # base URL for HTTP platforms
    folder: str | None = None  # drop folder for file platforms
    secret: str | None = field(default=None, repr=False)  # HMAC secret or bearer token, from settings (never logged)
    options: Mapping[str, Any] = field(default_factory=dict)  # platform-specific, documented by the adapter
    adapter: str | None = None  # the adapter rendering its updates when not the platform's own (rosterhub_webhook)


@dataclass(frozen=True, slots=True)
class Update:
    """One thing one trust system must be told, already routed to one destination.

    ``key`` is the idempotency key the receiver dedupes on: stable for the same source event
    and destination, so a retry or a redrive carries the same key. Updates with the same
    ``order_key`` are delivered in order; others never wait for them. ``shift_id`` is the value
    of the kind's ``order_field``: the shift id for shift and booking updates, the batch id for
    pay updates.
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
    """``platform`` names it; ``render`` is pure. An adapter may also declare ``kinds`` (the update kinds it ever
    renders): the router then queues nothing else for its destinations. Without it every kind is queued, and the
    adapter must return None for a kind it does not know."""

    platform: str

    def render(self, update: Update, destination: Destination) -> Rendered | None:
        """The call or file for this update, or None when this platform has no use for it. Pure."""
        ...


#: Header an adapter puts in ``HttpCall.headers`` to have the engine sign the request at send time
#: with the destination's ``secret`` (a signature made at render time would go stale on a retry).
#: Value ``"hmac-sha256"``: ``X-Rosterhub-Timestamp`` (Unix seconds) and ``X-Rosterhub-Signature`` =
#: hex HMAC-SHA256 over ``<timestamp>.<body>`` (:func:`rosterhub.connectors.signing.sign`, the scheme
#: Patchwork-style apps use for their own webhooks). The marker itself is not sent.
SIGN = "X-Rosterhub-Sign"
#: Header asking the engine to authenticate with the destination's ``secret``: value ``"bearer"`` sends
#: ``Authorization: Bearer <secret>``. Adapters never copy the secret into a call (calls may be logged).
AUTH = "X-Rosterhub-Auth"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def wire_headers(call: HttpCall, destination: Destination, key: str, now: float) -> dict[str, str]:
    """The headers to send for ``call``: the adapter's own, Content-Type, the idempotency key, and the
    signature / credentials its markers ask for. Pure: the engine passes the clock at each attempt."""
    headers = {k: v for k, v in call.headers.items() if k not in (SIGN, AUTH)}
    headers.setdefault("Content-Type", call.content_type)
    headers[IDEMPOTENCY_HEADER] = key
    scheme = call.headers.get(SIGN)
    if scheme is not None:
        if scheme != "hmac-sha256" or not destination.secret:
            raise ValueError(f"{destination.name}: cannot sign with {scheme!r} (needs hmac-sha256 and a secret)")
        timestamp = str(int(now))
        headers["X-Rosterhub-Timestamp"] = timestamp
        headers["X-Rosterhub-Signature"] = sign(destination.secret.encode(), timestamp, call.body)
    auth = call.headers.get(AUTH)
    if auth is not None:
        if auth != "bearer" or not destination.secret:
            raise ValueError(f"{destination.name}: cannot authenticate with {auth!r} (needs bearer and a secret)")
        headers["Authorization"] = f"Bearer {destination.secret}"
    return headers
