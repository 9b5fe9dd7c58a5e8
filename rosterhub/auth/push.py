"""Vendor pushes (``POST /ingest/{vendor}``): who sent it, and for which trust, before anything is written.

A push authenticates, per vendor, by

* a bearer token with the role ``trust_integration`` (any vendor): the trust is the token's;
* the vendor's own webhook signature (vendors whose spec declares one, e.g. Patchwork): each trust
  has its own secret (``webhook_secrets[vendor][trust]``), so the secret that verifies the signature
  names the trust.

Never from a query parameter: ``?trust=`` is accepted only as an assertion that must equal the
authenticated trust (403 otherwise). Mutual TLS is not terminated in-process: docs/security.md says
why and how a gateway does it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, SecurityScopes
from pydantic import SecretStr

from rosterhub.auth.roles import Role
from rosterhub.auth.web import BEARER, AccessRefused, Renderer, forbidden, verify_bearer
from rosterhub.connectors import metrics
from rosterhub.connectors.base import ConnectorSpec
from rosterhub.connectors.signing import signer
from rosterhub.errors import ConfigError, SignatureError

__all__ = ["Pusher", "push_authenticator", "trust_secrets"]

TRUST_PARAM = "trust"


@dataclass(frozen=True, slots=True)
class Pusher:
    """The authenticated sender of one push."""

    trust: str
    subject: str  # the token's subject, or "<vendor>-signature" for a signed push
    method: str  # "bearer" | "signature"


def trust_secrets(vendor: str, secrets: Mapping[str, Mapping[str, SecretStr]]) -> dict[str, bytes]:
    """``webhook_secrets[vendor]`` as trust -> secret bytes; two trusts sharing a secret is a ConfigError (the
    secret would not say which trust signed)."""
    out = {trust.upper(): s.get_secret_value().encode() for trust, s in secrets.get(vendor, {}).items()}
    shared = {t for t in out for u in out if t != u and out[t] == out[u]}
    if shared:
        raise ConfigError(
            f"webhook_secrets.{vendor}: trusts {', '.join(sorted(shared))} share a secret; each trust needs its own"
        )
    if any(not s for s in out.values()):
        raise ConfigError(f"webhook_secrets.{vendor}: an empty secret")
    return out


@contextmanager
def _counted(vendor: str) -> Iterator[None]:
    """Refused pushes count in ``rosterhub_connector_refused_total`` by reason, like the other refusals."""
    try:
        yield
    except AccessRefused as exc:
        metrics.REFUSED.labels(vendor, exc.code).inc()
        raise


def _asserted_trust(request: Request, trust: str, allowed: frozenset[Role], render: Renderer | None) -> None:
    asked = request.query_params.get(TRUST_PARAM)
    if asked and asked.strip().upper() != trust:
        raise forbidden("other_trust", f"this push is authenticated for {trust}, not {asked}", allowed, render)


def push_authenticator(
    spec: ConnectorSpec, secrets: Mapping[str, Mapping[str, SecretStr]], render: Renderer | None = None
) -> Callable[..., Any]:
    """The ``Security`` dependency of one vendor's push route (a function, so its signature can name the vendor's
    own signature header for OpenAPI)."""
    signed = trust_secrets(spec.id, secrets) if spec.signature is not None else {}

    async def by_token(
        request: Request, scopes: SecurityScopes, credentials: HTTPAuthorizationCredentials | None
    ) -> Pusher:
        allowed = frozenset(Role(s) for s in scopes.scopes)
        caller = await verify_bearer(request, credentials, render)
        if not caller.holds_any(allowed):
            raise forbidden("wrong_role", f"a push needs the role {', '.join(sorted(allowed))}", allowed, render)
        assert caller.trust is not None  # trust_integration is trust-bound: the verifier saw to it
        _asserted_trust(request, caller.trust, allowed, render)
        return Pusher(caller.trust, caller.subject, "bearer")

    if spec.signature is None:

        async def authenticate(
            request: Request,
            scopes: SecurityScopes,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
        ) -> Pusher:
            with _counted(spec.id):
                return await by_token(request, scopes, credentials)

    else:
        sig = spec.signature
        header = APIKeyHeader(
            name=sig.signature_header,
            scheme_name=f"{spec.id}_signature",
            description=f"{spec.title}: HMAC-SHA256 over `<{sig.timestamp_header}>.<body>`, hex, with the sending "
            f"trust's own secret (`webhook_secrets.{spec.id}.<ODS>`); {sig.timestamp_header} in Unix seconds, "
            f"within {sig.tolerance_s} s.",
            auto_error=False,
        )

        async def authenticate(  # type: ignore[misc]  # by design: this variant also takes the signature header
            request: Request,
            scopes: SecurityScopes,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
            signature: str | None = Depends(header),
        ) -> Pusher:
            with _counted(spec.id):
                return (
                    await by_token(request, scopes, credentials)
                    if credentials or not signature
                    else await by_hmac(request, scopes, signature)
                )

        async def by_hmac(request: Request, scopes: SecurityScopes, signature: str) -> Pusher:
            allowed = frozenset(Role(s) for s in scopes.scopes)
            body = await request.body()
            try:
                trust = signer(
                    signed,
                    request.headers.get(sig.timestamp_header),
                    signature,
                    body,
                    now=datetime.now(UTC),
                    tolerance_s=sig.tolerance_s,
                )
            except SignatureError as exc:
                raise AccessRefused(
                    401, exc.code, exc.message, challenge='Bearer realm="rosterhub"', render=render
                ) from None
            _asserted_trust(request, trust, allowed, render)
            return Pusher(trust, f"{spec.id}-signature", "signature")

    # markers rosterhub.auth.openapi reads off a route's dependencies, as off an Authenticate instance
    authenticate.rosterhub_access = True  # type: ignore[attr-defined]
    authenticate.trust_param = TRUST_PARAM  # type: ignore[attr-defined]
    authenticate.audit = None  # type: ignore[attr-defined]
    return authenticate
