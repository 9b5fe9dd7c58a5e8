"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the passport domain.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.codes import CstfSubject
from rosterhub.events.models.common import CredentialType, OrganisationRef, WorkerRef

__all__ = [
    "ClearanceChangeReason",
    "ClearanceChanged",
    "CredentialExpiring",
    "CredentialStatus",
    "PassportChange",
    "PassportUpdated",
]


class ClearanceChangeReason(StrEnum):
    """Why the credential stopped counting: CREDENTIAL_REVOKED or CREDENTIAL_EXPIRED. OTHER is the reader default."""

    CREDENTIAL_REVOKED = "CREDENTIAL_REVOKED"
    CREDENTIAL_EXPIRED = "CREDENTIAL_EXPIRED"
    OTHER = "OTHER"


class ClearanceChanged(AvroEvent):
    """A credential stopped counting towards a trust's clearance of a person, because its issuer revoked it or it
    expired. One event per trust whose policy accepted the credential (a revocation at trust A reaches every
    partner that relied on A's check), keyed by person; bookings already confirmed at that trust must be
    re-checked.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.passport.v1.ClearanceChanged"

    person_id: str
    """Hub person id (partition key)."""

    trust: OrganisationRef
    """Trust whose clearance of the person changed."""

    credential_id: str
    """Hub credential id."""

    credential_type: CredentialType
    """Kind of credential."""

    issuer: OrganisationRef
    """Issuing trust."""

    reason: ClearanceChangeReason
    """Why clearance changed."""

    revocation_reason: str | None = None
    """The issuer's revocation reason (RevocationReason symbol of CredentialRevoked) when reason is
    CREDENTIAL_REVOKED.
    """

    accepted_under: str | None = None
    """How the trust had accepted the credential: 'own' for its own checks, else the MoU id."""

    changed_at: UtcInstant
    """When the credential stopped counting (revocation or expiry instant)."""

    cause_id: str | None = None
    """ce_id of the event that caused the change (the CredentialRevoked or CredentialExpired)."""


class CredentialExpiring(AvroEvent):
    """A credential will expire within a configured number of days (the passport_expiring_days setting, e.g. 30 and
    7). Sent once per credential, expiry and threshold by the passport's timer, so the holder and their trusts
    can book a refresher before clearance is lost.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.passport.v1.CredentialExpiring"

    credential_id: str
    """Hub credential id."""

    person_id: str
    """Hub person id (partition key)."""

    worker: WorkerRef
    """The holder."""

    credential_type: CredentialType
    """Kind of credential expiring."""

    issuer: OrganisationRef
    """Issuing trust."""

    cstf_subject: CstfSubject | None = None
    """CSTF subject for CSTF_TRAINING credentials; null otherwise."""

    level: int | None = None
    """CSTF level where the subject has levels."""

    expires_at: UtcInstant
    """When the credential expires."""

    days_ahead: int
    """The threshold (days before expires_at) this notice is for."""

    notified_at: UtcInstant
    """When the hub sent the notice (at or shortly after expires_at minus days_ahead)."""


class PassportChange(StrEnum):
    """What happened to the credential: ISSUED (issued or re-issued), VERIFIED (a verification result arrived),
    REVOKED, EXPIRED (its expiry was reached or declared). OTHER is the reader default.
    """

    ISSUED = "ISSUED"
    VERIFIED = "VERIFIED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    OTHER = "OTHER"


class CredentialStatus(StrEnum):
    """State of the credential after the change: ACTIVE (issued, not revoked, not expired), PENDING (verification
    or revocation known, issue not yet), REVOKED, EXPIRED. PENDING is the reader default: an unknown status
    never reads as active.
    """

    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class PassportUpdated(AvroEvent):
    """A person's credential passport changed: a credential was issued, verified, revoked or expired. Carries a
    summary of the changed credential only (never evidence references), so any trust can follow passports
    without seeing partners' evidence.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.passport.v1.PassportUpdated"

    person_id: str
    """Hub person id (partition key)."""

    version: int
    """Passport version after the change; increases by one per change, so a consumer can spot gaps and order
    updates.
    """

    credential_id: str
    """Hub credential id of the credential that changed."""

    change: PassportChange
    """Kind of change."""

    credential_type: CredentialType
    """Kind of credential."""

    issuer: OrganisationRef | None = None
    """Issuing trust; null while only a verification has arrived."""

    status: CredentialStatus
    """Credential status after the change."""

    expires_at: UtcInstant | None = None
    """The issuer's expiry of the credential; null when it does not expire."""

    credential_count: int
    """Credentials in the passport after the change."""

    cause_id: str | None = None
    """ce_id of the event that caused the change (null for timer-driven expiry)."""

    updated_at: UtcInstant
    """When the passport changed."""
