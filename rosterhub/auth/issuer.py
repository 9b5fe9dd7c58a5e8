"""The local token issuer of ``rosterhub run``, ``rosterhub token`` and the tests: a key pair and a JWKS file.

Production hubs accept the tokens of the trusts' and the collaborative's own identity providers
(``auth_issuers``); this issuer stands in for them on one machine. Its key folder holds:

* ``issuer.jwk``: the private EC P-256 key (JWK, file mode 0600), made on first use;
* ``jwks.json``: the public key set, which a hub process is pointed at (``jwks_file``).

Its ``iss`` names the key (``urn:rosterhub:local-issuer:<thumbprint>``), so the tokens of one
machine's issuer are never accepted by a hub configured with another's.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import ECKey

from rosterhub.auth.roles import Role
from rosterhub.settings import AcceptedIssuer

__all__ = ["AUDIENCE", "BearerTokens", "LocalIssuer"]

AUDIENCE = "rosterhub"


class LocalIssuer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder.absolute()
        self.key = self._load_or_create(folder)
        self.issuer = f"urn:rosterhub:local-issuer:{self.key.kid}"

    @property
    def jwks_file(self) -> Path:
        return self.folder / "jwks.json"

    def accepted(self, audience: str = AUDIENCE) -> AcceptedIssuer:
        """The ``auth_issuers`` entry that makes a hub process accept this issuer's tokens."""
        return AcceptedIssuer(issuer=self.issuer, audience=audience, jwks_file=self.jwks_file, algorithms=["ES256"])

    def mint(
        self,
        subject: str,
        roles: Iterable[Role | str],
        *,
        trust: str | None = None,
        collaborative: str | None = None,
        ttl: timedelta = timedelta(hours=1),
        audience: str = AUDIENCE,
        now: datetime | None = None,
    ) -> str:
        """An ES256 access token (``typ: at+jwt``, RFC 9068) for ``subject`` with ``roles``."""
        now = now or datetime.now(UTC)
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": audience,
            "sub": subject,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": str(uuid.uuid4()),
            "roles": [str(Role(r)) for r in roles],
        }
        if trust is not None:
            claims["trust"] = trust
        if collaborative is not None:
            claims["collaborative"] = collaborative
        return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": self.key.kid}, claims, self.key)

    @staticmethod
    def _load_or_create(folder: Path) -> ECKey:
        private = folder / "issuer.jwk"
        if private.is_file():
            key = ECKey.import_key(json.loads(private.read_text(encoding="utf-8")))
        else:
            folder.mkdir(parents=True, exist_ok=True)
            key = ECKey.generate_key("P-256", auto_kid=True)
            try:
                fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first: use theirs
                return LocalIssuer._load_or_create(folder)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(key.as_dict(private=True), f)
        jwks = {"keys": [{**key.as_dict(private=False), "use": "sig", "alg": "ES256"}]}
        target = folder / "jwks.json"
        if not target.is_file() or json.loads(target.read_text(encoding="utf-8")) != jwks:
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(jwks, indent=2), encoding="utf-8")
            tmp.replace(target)
        return key


class BearerTokens:
    """``trust -> {"Authorization": "Bearer ..."}`` from a local issuer for one role, each token reused until
    near its expiry: what the demo's simulators and wallet send as a trust's integration."""

    def __init__(self, issuer: LocalIssuer, role: Role, subject: str, ttl: timedelta = timedelta(hours=1)) -> None:
        self.issuer, self.role, self.subject, self.ttl = issuer, role, subject, ttl
        self._held: dict[str, tuple[datetime, str]] = {}

    def __call__(self, trust: str) -> dict[str, str]:
        now = datetime.now(UTC)
        held = self._held.get(trust)
        if held is None or held[0] - now < self.ttl / 4:
            token = self.issuer.mint(f"{self.subject}-{trust}", [self.role], trust=trust, ttl=self.ttl, now=now)
            held = self._held[trust] = (now + self.ttl, token)
        return {"Authorization": f"Bearer {held[1]}"}
