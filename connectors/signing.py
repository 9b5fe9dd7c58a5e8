"""Webhook signatures: HMAC-SHA256 over ``<timestamp>.<body>``, compared in constant time.

Pure functions: the caller passes the clock, so stale-timestamp handling is testable.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from rosterhub.errors import SignatureError

__all__ = ["sign", "signer", "verify"]


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


def signer(
    secrets: Mapping[str, bytes],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: datetime,
    tolerance_s: int,
) -> str:
    """Which of ``secrets`` (name -> secret, e.g. trust -> that trust's secret) signed the body.

    Every secret is tried, each in constant time; :class:`SignatureError` when none verifies (the
    reason of the last try: all share it for a missing or stale header)."""
    if not secrets:
        raise SignatureError("no signing secrets are configured")
    failure: SignatureError | None = None
    found = None
    for name, secret in secrets.items():
        try:
            verify(secret, timestamp, signature, body, now=now, tolerance_s=tolerance_s)
            found = name
        except SignatureError as exc:
            failure = exc
    if found is None:
        assert failure is not None
        raise failure
    return found
