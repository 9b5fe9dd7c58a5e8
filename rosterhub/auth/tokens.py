"""Bearer tokens checked against the configured issuers: signature (joserfc), then claims, then the caller.

Order of checks (each refusal is an :class:`InvalidToken` with a short reason, answered 401):

1. the token is a compact JWS whose header names an allowed algorithm (asymmetric only) and, when it
   has a ``typ``, an access-token type (``at+jwt``, RFC 9068, or plain ``JWT``) — so a verifiable
   credential (``vc+jwt``) or an encrypted token is never taken for an access token;
2. its ``iss`` is one of ``auth_issuers`` (read from the unverified payload only to pick the keys);
3. the signature verifies with that issuer's JWKS (by ``kid``; a URL's JWKS is fetched again once when
   the ``kid`` is unknown, for key rotation);
4. ``iss`` and ``aud`` match, ``exp`` and ``sub`` are present, ``exp``/``nbf``/``iat`` hold with
   ``auth_leeway_s`` of clock skew;
5. the roles (``roles`` claim, and ``scope`` for issuers that grant OAuth2 scopes) name at least one
   hub role, and a trust-bound role comes with a ``trust`` claim that is an ODS code.

No crypto here: joserfc does the JOSE work; this module only decides which keys and claims count.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from rosterhub.auth.caller import Caller
from rosterhub.auth.roles import Role
from rosterhub.errors import RosterhubError
from rosterhub.ods import ODS
from rosterhub.settings import AcceptedIssuer, Settings

__all__ = ["ACCESS_TOKEN_TYPES", "InvalidToken", "TokenVerifier", "read_unverified"]

log = logging.getLogger(__name__)

#: ``typ`` header values taken for an access token (compared case-insensitively).
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt", "jwt"})
_MAX_TOKEN_BYTES = 16 * 1024
_REFETCH_AFTER_S = 30.0  # an unknown kid makes a URL's JWKS be fetched again, at most this often


class InvalidToken(RosterhubError):
    """The bearer token cannot be used: the caller is not authenticated (401)."""

    code = "invalid_token"


def read_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a compact JWS, unverified: only to pick the issuer's keys."""
    if len(token) > _MAX_TOKEN_BYTES:
        raise InvalidToken("the token is too long")
    try:
        obj = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(obj.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise InvalidToken(f"not a signed JWT: {exc}") from None
    if not isinstance(claims, dict):
        raise InvalidToken("the token's payload is not a JSON object")
    return dict(obj.protected), claims


@dataclass
class _Keys:
    """One issuer's JWKS, from a file (re-read when it changes) or a URL (cached)."""

    source: AcceptedIssuer
    cache_s: float
    keys: KeySet | None = None
    stamp: tuple[float, int] | None = None  # file: (mtime, size)
    fetched_at: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, *, refresh: bool = False) -> KeySet:
        if self.source.jwks_file is not None:
            return self._from_file(self.source.jwks_file)
        async with self.lock:
            age = time.monotonic() - self.fetched_at
            if self.keys is None or age > self.cache_s or (refresh and age > _REFETCH_AFTER_S):
                self.keys = await self._fetch(str(self.source.jwks_url))
                self.fetched_at = time.monotonic()
            return self.keys

    def _from_file(self, path: Path) -> KeySet:
        try:
            st = path.stat()
            stamp = (st.st_mtime, st.st_size)
            if self.keys is None or stamp != self.stamp:
                self.keys, self.stamp = _keyset(json.loads(path.read_text(encoding="utf-8")), str(path)), stamp
        except (OSError, ValueError) as exc:
            raise InvalidToken(f"the keys of issuer {self.source.issuer!r} cannot be read: {exc}") from None
        return self.keys

    async def _fetch(self, url: str) -> KeySet:
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                r = await client.get(url, headers={"accept": "application/json"})
                r.raise_for_status()
                return _keyset(r.json(), url)
        except (httpx.HTTPError, ValueError) as exc:
            raise InvalidToken(f"the keys of issuer {self.source.issuer!r} cannot be fetched: {exc}") from None


def _keyset(doc: Any, where: str) -> KeySet:
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise ValueError(f"{where} is not a JWKS (an object with a keys array)")
    public = [k for k in doc["keys"] if isinstance(k, dict) and "d" not in k]  # never a private key by mistake
    return KeySet.import_key_set({"keys": public})


class TokenVerifier:
    """Verifies bearer tokens of the configured issuers; one per process (it caches their keys)."""

    def __init__(self, issuers: Sequence[AcceptedIssuer], *, leeway_s: float = 30.0, jwks_cache_s: float = 300.0):
        self.leeway_s = leeway_s
        self._issuers = {i.issuer: _Keys(i, jwks_cache_s) for i in issuers}

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        issuers = list(settings.auth_issuers)
        if settings.auth_accept_local_issuer:
            from rosterhub.auth.issuer import LocalIssuer

            issuers.append(LocalIssuer(settings.auth_local_issuer_dir).accepted())
        if not issuers:
            log.warning("no auth_issuers configured: every route that needs a token answers 401 (docs/security.md)")
        return cls(issuers, leeway_s=settings.auth_leeway_s, jwks_cache_s=settings.auth_jwks_cache_s)

    @property
    def issuers(self) -> list[str]:
        return list(self._issuers)

    async def verify(self, token: str, *, now: float | None = None) -> Caller:
        header, unverified = read_unverified(token)
        alg, typ = header.get("alg"), header.get("typ")
        if typ is not None and str(typ).lower() not in ACCESS_TOKEN_TYPES:
            raise InvalidToken(f"a {typ!r} token is not an access token")
        keys = self._issuers.get(str(unverified.get("iss")))
        if keys is None:
            raise InvalidToken(f"issuer {unverified.get('iss')!r} is not accepted")
        source = keys.source
        if alg not in source.algorithms:
            raise InvalidToken(f"algorithm {alg!r} is not accepted from {source.issuer}")
        try:
            try:
                decoded = jwt.decode(token, await keys.get(), algorithms=source.algorithms)
            except InvalidKeyIdError:  # rotated keys: fetch the issuer's JWKS again, once
                decoded = jwt.decode(token, await keys.get(refresh=True), algorithms=source.algorithms)
        except JoseError as exc:
            raise InvalidToken(f"the signature does not verify with {source.issuer}'s keys ({exc.error})") from None
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            now=int(now if now is not None else time.time()),
            leeway=int(self.leeway_s),
            iss={"essential": True, "value": source.issuer},
            aud={"essential": True, "value": source.audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise InvalidToken("the token has expired") from None
        except JoseError as exc:
            raise InvalidToken(f"claim check failed: {exc.description or exc.error}") from None
        return caller_of(claims, source.issuer)


def caller_of(claims: dict[str, Any], issuer: str) -> Caller:
    """The caller a verified token describes (pure)."""
    named = claims.get("roles") or []
    if isinstance(named, str):
        named = named.split()
    scope = claims.get("scope")
    if isinstance(scope, str):
        named = [*named, *scope.split()]
    if not isinstance(named, list):
        raise InvalidToken("the roles claim is not a list of role names")
    known = {r.value for r in Role}
    roles = frozenset(Role(n) for n in named if isinstance(n, str) and n in known)
    if not roles:
        raise InvalidToken(f"the token grants none of the hub's roles ({', '.join(sorted(known))})")
    trust = claims.get("trust")
    if trust is not None and (not isinstance(trust, str) or not ODS.match(trust)):
        raise InvalidToken(f"the trust claim {trust!r} is not an ODS code")
    bound = sorted(r.value for r in roles if r.trust_bound)
    if bound and trust is None:
        raise InvalidToken(f"the roles {', '.join(bound)} need a trust claim")
    collaborative = claims.get("collaborative")
    jti = claims.get("jti")
    return Caller(
        subject=str(claims["sub"]),
        trust=trust,
        collaborative=collaborative if isinstance(collaborative, str) else None,
        roles=roles,
        token_id=jti if isinstance(jti, str) else None,
        issuer=issuer,
    )
