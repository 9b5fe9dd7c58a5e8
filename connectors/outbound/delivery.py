"""What to send where, and whether to try again: pure functions, no I/O.

A delivery is a JSON document POSTed to the host trust's endpoint with an
``Idempotency-Key`` (the event id), so a receiver can drop a repeat.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from rosterhub.envelope import Envelope

__all__ = ["DELIVERED_TYPES", "Delivery", "backoff_s", "plan_delivery", "retriable_status"]

DELIVERED_TYPES = frozenset({"rosterhub.booking.v1.BookingConfirmed", "rosterhub.booking.v1.BookingRejected"})


@dataclass(frozen=True, slots=True)
class Delivery:
    url: str
    trust: str
    idempotency_key: str
    body: dict[str, Any]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def plan_delivery(env: Envelope, endpoints: Mapping[str, str]) -> Delivery | None:
    """The delivery for this event, or None when it is not for a trust system or the trust has no endpoint."""
    if env.type not in DELIVERED_TYPES:
        return None
    host = env.data.get("host_trust") or {}
    trust = host.get("ods_code")
    if not trust or trust not in endpoints:
        return None
    body = {"id": env.id, "type": env.type, "time": env.time.isoformat(), "subject": env.subject,
            "data": _jsonable(env.data)}  # fmt: skip
    return Delivery(endpoints[trust], trust, env.id, body)


def retriable_status(status: int) -> bool:
    """5xx, 408 and 429 may succeed later; other 4xx will not."""
    return status >= 500 or status in (408, 429)


def backoff_s(attempt: int, *, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None) -> float:
    """Exponential back-off with full jitter (attempt 1 -> up to base, doubling, capped)."""
    r = rng or random
    return r.uniform(0, min(cap, base * 2 ** (attempt - 1)))
