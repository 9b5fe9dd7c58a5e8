"""The hub's roles, declared once: token claims, route requirements, OpenAPI and docs/security.md derive from here.

A role is what a caller may do, not who it is; the trust a caller acts for is a separate claim
(:class:`~rosterhub.auth.caller.Caller`). Roles marked trust-bound are only granted with a trust:
a token carrying one without a ``trust`` claim is refused, so a route never has to guess whose
data a trust user may see.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Role"]


class Role(StrEnum):
    """Each member's value is the role name in tokens (``roles`` claim) and in OpenAPI ``security``."""

    TRUST_INTEGRATION = "trust_integration"
    TRUST_USER = "trust_user"
    WORKFORCE_LEAD = "workforce_lead"
    PROGRAMME_MANAGER = "programme_manager"
    PAYROLL = "payroll"
    WARD_MANAGER = "ward_manager"
    BANK_OFFICE = "bank_office"
    IDENTITY_ADMIN = "identity_admin"
    AUDITOR = "auditor"
    OPERATOR = "operator"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    @property
    def trust_bound(self) -> bool:
        """Granted only together with the trust the caller acts for."""
        return self in _TRUST_BOUND


_DESCRIPTIONS = {
    Role.TRUST_INTEGRATION: "A trust's systems pushing its own platforms' payloads and credentials (ingest).",
    Role.TRUST_USER: "Reads of the caller's own trust: passports at that trust, shifts it can see, its bookings.",
    Role.WORKFORCE_LEAD: "A trust's workforce lead: the trust's own detail plus the collaborative's aggregates.",
    Role.PROGRAMME_MANAGER: "A collaborative's programme manager: the collaborative's aggregates only.",
    Role.PAYROLL: "The employing trust's pay lines.",
    Role.WARD_MANAGER: "Signs off timesheets of shifts worked at the trust (an approval step of its payroll policy).",
    Role.BANK_OFFICE: "The trust's bank office: signs off timesheets where its payroll policy asks for that step.",
    Role.IDENTITY_ADMIN: "Identity resolution across trusts: people, conflicts, merge and split.",
    Role.AUDITOR: "Reads of the audit trail.",
    Role.OPERATOR: "Runs the hub: metrics and topic counts, no personal data.",
}
_TRUST_BOUND = frozenset(
    {Role.TRUST_INTEGRATION, Role.TRUST_USER, Role.WORKFORCE_LEAD, Role.PAYROLL, Role.WARD_MANAGER, Role.BANK_OFFICE}
)
