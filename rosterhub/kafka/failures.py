"""Is this connection failure a refused login? One answer for kafka-python, aiokafka and TLS.

Why: a client whose password or certificate is wrong otherwise looks like a broker that is down,
and some clients retry that for minutes. The hub names the cause instead (``kafka_auth_failed``).
"""

from __future__ import annotations

import ssl

import aiokafka.errors as aio
import kafka.errors as kp

__all__ = ["authentication_failure"]

#: "The broker refused who we are", in kafka-python and in aiokafka (faust's client).
_AUTH_ERRORS: tuple[type[BaseException], ...] = (
    kp.SaslAuthenticationFailedError,  # wrong SCRAM password or unknown user
    kp.UnsupportedSaslMechanismError,  # the cluster does not offer the configured mechanism
    kp.IllegalSaslStateError,
    aio.SaslAuthenticationFailed,
    aio.AuthenticationFailedError,
    aio.AuthenticationMethodNotSupported,
    aio.UnsupportedSaslMechanismError,
    aio.IllegalSaslStateError,
)


def authentication_failure(exc: BaseException) -> str | None:
    """A short cause when ``exc`` (or anything it was raised from) is an authentication failure, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _AUTH_ERRORS):
            return f"{type(current).__name__}: {current}"
        if isinstance(current, ssl.SSLCertVerificationError):
            detail = getattr(current, "verify_message", None) or current
            return f"the broker's TLS certificate was not trusted: {detail}"
        if isinstance(current, ssl.SSLError) and _tls_refusal(current):
            return f"the broker refused the TLS handshake (client certificate missing or not trusted): {current}"
        current = current.__cause__ or current.__context__
    return None


def _tls_refusal(exc: ssl.SSLError) -> bool:
    reason = (getattr(exc, "reason", None) or str(exc)).upper()
    return any(word in reason for word in ("CERTIFICATE", "HANDSHAKE_FAILURE", "UNKNOWN_CA", "BAD_CERTIFICATE"))
