"""Webhook signatures: HMAC-SHA256 over ``<timestamp>.<body>``, compared in constant time.

Pure functions: the caller passes the clock, so stale-timestamp handling is testable.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from rosterhub.errors import SignatureError

__all__ = ["sign", "verify"]


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(
    secret: bytes, timestamp: str | None, signature: str | None, body: bytes, *, now: datetime, tolerance_s: int
) -> None:
    """Raise :class:`SignatureError` unless the signature matches and the timestamp is fresh."""
    if not timestamp or not signature:
        raise SignatureError("missing signature or timestamp header")
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError("timestamp header is not Unix seconds", timestamp=timestamp) from None
    age = abs(now.timestamp() - sent)
    if age > tolerance_s:
        raise SignatureError(
            f"timestamp is {int(age)} s away from now (tolerance {tolerance_s} s)", timestamp=timestamp
        )
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise SignatureError("signature does not match the body")
