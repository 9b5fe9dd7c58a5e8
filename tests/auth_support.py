"""Tokens for tests: the same local issuer ``rosterhub run`` uses, in a test's own folder.

A test hands :meth:`Tokens.accepting` to the hub's settings, then sends
:meth:`Tokens.bearer` (or :meth:`Tokens.caller`, with a purpose) with its requests.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from rosterhub.auth.issuer import LocalIssuer
from rosterhub.auth.roles import Role
from rosterhub.settings import Settings


class Tokens:
    def __init__(self, folder: Path) -> None:
        self.issuer = LocalIssuer(folder)

    def accepting(self, settings: Settings, **more: Any) -> Settings:
        """``settings`` with this issuer accepted (and ``more`` overrides)."""
        return Settings(**{**settings.model_dump(), "auth_issuers": [self.issuer.accepted()], **more})

    def env(self) -> dict[str, str]:
        """The same for a child process (``ROSTERHUB_AUTH_ISSUERS``)."""
        return {"ROSTERHUB_AUTH_ISSUERS": f"[{self.issuer.accepted().model_dump_json()}]"}

    def token(
        self, role: Role, trust: str | None = None, *, subject: str | None = None, ttl: timedelta = timedelta(hours=1)
    ) -> str:
        who = subject or f"test-{role}-{trust or 'hub'}"
        return self.issuer.mint(who, [role], trust=trust, ttl=ttl)

    def bearer(self, role: Role, trust: str | None = None, *, subject: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, trust, subject=subject)}"}

    def caller(
        self, trust: str, user: str = "rota-manager-1", purpose: str = "booking", role: Role = Role.TRUST_USER
    ) -> dict[str, str]:
        """A trust user's headers for a read of personal data: token (subject ``user``) and purpose."""
        return {**self.bearer(role, trust, subject=user), "X-Rosterhub-Purpose": purpose}
