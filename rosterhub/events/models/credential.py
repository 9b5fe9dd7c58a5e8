"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the credential domain.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.codes import CredentialAttributeKey, CstfSubject
from rosterhub.events.models.common import CredentialType, OrganisationRef, WorkerRef

__all__ = [
    "CredentialExpired",
    "CredentialIssued",
    "CredentialRevoked",
    "CredentialVerified",
    "RevocationReason",
    "VerificationMethod",
    "VerificationStatus",
]


class CredentialExpired(AvroEvent):
    """A credential reached its expiry (a CSTF refresher not done in time, a right-to-work end date, a lapsed
    registration). Emitted by the passport's expiry timer so that consumers need no clock of their own.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.credential.v1.CredentialExpired"

    credential_id: str
    """Hub credential id."""

    person_id: str
    """The holder's id and the partition key: on events.credential (an issuer's expiry) the issuer's local worker
    id (<vendor>:<trust ods>:<id>); the hub person id on _rosterhub.passport-in and on events.passport (an
    expiry found by the passport's timer).
    """

    worker: WorkerRef
    """The holder."""

    credential_type: CredentialType
    """Kind of credential expired."""

    issuer: OrganisationRef
    """Issuing trust."""

    cstf_subject: CstfSubject | None = None
    """CSTF subject for CSTF_TRAINING credentials; null otherwise."""

    level: int | None = None
    """CSTF level where the subject has levels."""

    expired_at: UtcInstant
    """The expiry instant that was reached."""

    detected_at: UtcInstant
    """When the hub noticed (at or shortly after expired_at)."""


class CredentialIssued(AvroEvent):
    """An issuing trust put a credential in a person's staff passport: one pre-employment check, registration,
    assignment, placement or CSTF course. The evidence stays with the issuer; the event carries a reference to
    it, so a partner trust can decide under its memorandum of understanding whether to accept the check instead
    of repeating it.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.credential.v1.CredentialIssued"

    credential_id: str
    """Hub credential id: <issuer ods>:<credential type>:<issuer's id>; stable across verification, revocation and
    expiry.
    """

    person_id: str
    """The holder's id and the partition key. On events.credential (where issuers publish, before identity
    resolution) it is the issuer's local worker id, <vendor>:<trust ods>:<id> (e.g. esr:RHQ:18300082,
    vc:RFR:nmc-76W7601T); identity resolution re-publishes the event on _rosterhub.passport-in with the hub
    person id here, so one person's credentials are ordered on one partition there.
    """

    worker: WorkerRef
    """The holder, with the identifiers the issuer holds."""

    credential_type: CredentialType
    """Kind of credential."""

    issuer: OrganisationRef
    """Issuing trust (the employer that did the check)."""

    issued_at: UtcInstant
    """When the credential was issued (for checks: when the check was completed)."""

    expires_at: UtcInstant | None = None
    """When it stops being valid (CSTF refresher due, right-to-work end, registration renewal); null when it does
    not expire.
    """

    cstf_subject: CstfSubject | None = None
    """CSTF subject for CSTF_TRAINING credentials (code list in docs/events.md); null otherwise."""

    level: int | None = None
    """CSTF level (1, 2 or 3) where the subject has levels; null otherwise."""

    attributes: dict[CredentialAttributeKey, str] = Field(default_factory=dict)
    """Type-specific qualifiers under documented keys (docs/events.md), e.g. dbs_level=ENHANCED_BARRED,
    oh_item=HEPATITIS_B. Never personal data.
    """

    evidence_ref: str | None = None
    """URI of the evidence held by the issuer (document store entry, FHIR VerificationResult, verifiable credential
    id); never the document itself.
    """


class RevocationReason(StrEnum):
    """Revocation reasons of the NHS Digital Staff Passport, spelt as the passport spells them so no translation
    table is needed. NoLongerValid is the reader default.
    """

    TrainingExpiry = "TrainingExpiry"
    LeavingOrganisation = "LeavingOrganisation"
    CredentialProvidedInError = "CredentialProvidedInError"
    LostPhone = "LostPhone"
    NoLongerValid = "NoLongerValid"
    SuspectNoLongerValid = "SuspectNoLongerValid"
    StaffMemberDeceased = "StaffMemberDeceased"


class CredentialRevoked(AvroEvent):
    """The issuer withdrew a credential before its expiry. A revoked credential no longer clears any booking,
    including bookings already confirmed for future shifts (they must be re-checked).
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.credential.v1.CredentialRevoked"

    credential_id: str
    """Hub credential id."""

    person_id: str
    """The holder's id and the partition key: on events.credential the issuer's local worker id (<vendor>:<trust
    ods>:<id>); the hub person id on _rosterhub.passport-in, after identity resolution.
    """

    worker: WorkerRef
    """The holder."""

    credential_type: CredentialType
    """Kind of credential revoked."""

    issuer: OrganisationRef
    """Issuing trust."""

    reason: RevocationReason
    """Why it was revoked."""

    revoked_at: UtcInstant
    """When it was revoked."""

    detail: str | None = None
    """Human-readable note; never personal data."""


class VerificationMethod(StrEnum):
    """How the check was made: PROFESSIONAL_REGISTER (NMC/GMC/HCPC/GPhC online register), DBS_UPDATE_SERVICE (free
    status check), HOME_OFFICE_ONLINE (right to work share code), IDVT (identity document validation
    technology), DOCUMENT_SEEN (original seen by staff), ESR_RECORD (the employer's ESR record),
    PARTNER_ATTESTATION (a partner trust's check accepted under an MoU), VERIFIABLE_CREDENTIAL (issuer's
    signature verified). OTHER is the reader default.
    """

    PROFESSIONAL_REGISTER = "PROFESSIONAL_REGISTER"
    DBS_UPDATE_SERVICE = "DBS_UPDATE_SERVICE"
    HOME_OFFICE_ONLINE = "HOME_OFFICE_ONLINE"
    IDVT = "IDVT"
    DOCUMENT_SEEN = "DOCUMENT_SEEN"
    ESR_RECORD = "ESR_RECORD"
    PARTNER_ATTESTATION = "PARTNER_ATTESTATION"
    VERIFIABLE_CREDENTIAL = "VERIFIABLE_CREDENTIAL"
    OTHER = "OTHER"


class VerificationStatus(StrEnum):
    """FHIR R4 VerificationResult.status, with '-' written '_' (Avro symbols): ATTESTED=attested,
    VALIDATED=validated, IN_PROCESS=in-process, REQ_REVALID=req-revalid, VAL_FAIL=val-fail,
    REVAL_FAIL=reval-fail. IN_PROCESS is the reader default: an unknown status never reads as a pass.
    """

    ATTESTED = "ATTESTED"
    VALIDATED = "VALIDATED"
    IN_PROCESS = "IN_PROCESS"
    REQ_REVALID = "REQ_REVALID"
    VAL_FAIL = "VAL_FAIL"
    REVAL_FAIL = "REVAL_FAIL"


class CredentialVerified(AvroEvent):
    """A trust checked a credential, at the primary source (register, DBS Update Service, Home Office) or by
    accepting a partner's check under a memorandum of understanding. status uses the FHIR R4
    VerificationResult.status codes, so the outcome maps one to one onto a VerificationResult resource.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.credential.v1.CredentialVerified"

    credential_id: str
    """Hub credential id."""

    person_id: str
    """The holder's id and the partition key: on events.credential the issuer's local worker id (<vendor>:<trust
    ods>:<id>); the hub person id on _rosterhub.passport-in, after identity resolution.
    """

    worker: WorkerRef
    """The holder."""

    credential_type: CredentialType
    """Kind of credential checked."""

    verifier: OrganisationRef
    """Trust that performed or accepted the check."""

    method: VerificationMethod
    """How the check was made."""

    status: VerificationStatus
    """Outcome of the check."""

    verified_at: UtcInstant
    """When the check was made."""

    next_check_due: UtcInstant | None = None
    """When the verifier will re-check (e.g. monthly register check); null when not scheduled."""

    mou: str | None = None
    """Id of the memorandum of understanding under which a partner's check was accepted (PARTNER_ATTESTATION)."""

    evidence_ref: str | None = None
    """URI of the verifier's record of the check; never the document itself."""

    detail: str | None = None
    """Human-readable note (e.g. register conditions); never personal data."""
