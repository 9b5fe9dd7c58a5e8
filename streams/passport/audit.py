"""Every passport read leaves an audit record on ``_rosterhub.audit``: who, when, why, what, and the answer.

The record is JSON (an internal topic read by auditors and SIEM tools, not a canonical
event), keyed by person id so one person's reads stay in order and a subject-access
request can be answered by reading one key. It never holds the answer's contents, only
its outcome (cleared or not, how many credentials were shown), so the audit trail does
not become a second copy of the passport.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from rosterhub.envelope import event_id

__all__ = ["AUDIT_VERSION", "AuditRecord"]

AUDIT_VERSION = 1


@dataclass(frozen=True, slots=True)
class AuditRecord:
    person: str
    trust: str  # X-Rosterhub-Trust: the organisation reading
    user: str  # X-Rosterhub-User: who at that organisation
    purpose: str  # X-Rosterhub-Purpose: why (e.g. booking, onboarding, subject-access)
    resource: str  # "clearance" | "fhir" | "vc"
    at: datetime
    status: int  # HTTP status of the answer
    outcome: str  # e.g. "cleared", "not-cleared", "refused: unknown trust", "4 credentials"
    query: dict[str, str]
    served_by: str  # the worker (canonical URL) that answered

    @property
    def id(self) -> str:
        return event_id("audit", self.person, self.trust, self.user, self.resource, self.at.isoformat())

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        return {"audit_version": AUDIT_VERSION, "id": self.id, **d}

    def encode(self) -> tuple[bytes, bytes]:
        """(key, value) for the audit topic."""
        return self.person.encode(), json.dumps(self.to_json(), sort_keys=True).encode()
