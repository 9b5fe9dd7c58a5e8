"""Every read of personal data leaves an audit record on ``_rosterhub.audit``: who, when, why, what, and the answer.

Who is the verified token's caller (subject, trust, issuer, token id), never a header the request
asserted about itself; why is the ``X-Rosterhub-Purpose`` the caller states. The record is JSON (an
internal topic read by auditors and SIEM tools, not a canonical event), keyed by person id so one
person's reads stay in order and a subject-access request can be answered by reading one key. It
never holds the answer's contents, only its outcome (cleared or not, how many credentials were
shown), so the audit trail does not become a second copy of what was read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from rosterhub.envelope import event_id

__all__ = ["AUDIT_VERSION", "PURPOSE_HEADER", "AuditRecord"]

#: 2: ``trust`` and ``user`` come from the caller's token (subject), with ``issuer``, ``token_id`` and ``roles``.
AUDIT_VERSION = 2
PURPOSE_HEADER = "X-Rosterhub-Purpose"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    person: str
    trust: str  # the trust the caller's token acts for ("" for hub-wide roles)
    user: str  # the token's subject: who at that organisation, or which system
    purpose: str  # X-Rosterhub-Purpose: why (e.g. booking, onboarding, subject-access)
    resource: str  # e.g. "clearance", "fhir", "vc", "availability", "identity", "booking-explain"
    at: datetime
    status: int  # HTTP status of the answer
    outcome: str  # e.g. "cleared", "not cleared: REVOKED", "refused: other_trust", "4 credentials"
    query: dict[str, str]
    served_by: str  # the process (URL) that answered
    issuer: str = ""
    token_id: str = ""
    roles: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return event_id("audit", self.person, self.trust, self.user, self.resource, self.at.isoformat())

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        d["roles"] = list(self.roles)
        return {"audit_version": AUDIT_VERSION, "id": self.id, **d}

    def encode(self) -> tuple[bytes, bytes]:
        """(key, value) for the audit topic."""
        return self.person.encode(), json.dumps(self.to_json(), sort_keys=True).encode()
