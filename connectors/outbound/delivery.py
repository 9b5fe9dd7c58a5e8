"""Whether and when to try a delivery again, and the idempotency key: pure functions, no I/O."""

from __future__ import annotations

import random
import uuid

__all__ = ["KEY_NAMESPACE", "backoff_s", "idempotency_key", "retriable_status"]

#: UUIDv5 namespace of outbound idempotency keys (fixed forever: receivers dedupe on the keys).
KEY_NAMESPACE = uuid.UUID("2a7d0c4e-8f51-5b2a-b6c3-5e9d1f0a7c21")


def idempotency_key(source_event_id: str, destination: str) -> str:
    """The key a receiver dedupes on: the same for every retry and redrive of one event to one destination."""
    return str(uuid.uuid5(KEY_NAMESPACE, f"{source_event_id}\x1f{destination}"))


def retriable_status(status: int) -> bool:
    """5xx, 408 and 429 may succeed later; every other 4xx will not (the request itself is wrong)."""
    return status >= 500 or status in (408, 429)


def backoff_s(attempt: int, *, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None) -> float:
    """Exponential back-off with full jitter: uniform in [0, min(cap, base * 2**(attempt-1))].

    Full jitter (rather than equal or none) spreads the retries of many waiting updates so a
    recovering endpoint is not hit by all of them in the same instant.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    r = rng or random
    return r.uniform(0, min(cap, base * 2 ** min(attempt - 1, 62)))
