"""Who is calling: what a verified token says, and nothing a request asserts about itself."""

from __future__ import annotations

from dataclasses import dataclass

from rosterhub.auth.roles import Role

__all__ = ["Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    subject: str  # the token's ``sub``: the user or system, as its issuer names it
    trust: str | None  # ODS code of the trust the caller acts for (required with trust-bound roles)
    collaborative: str | None  # the collaborative (e.g. SYB) for programme-level roles
    roles: frozenset[Role]
    token_id: str | None  # ``jti``, so an audit record points at the token that was used
    issuer: str

    def holds_any(self, roles: frozenset[Role] | set[Role]) -> bool:
        return bool(self.roles & roles)
