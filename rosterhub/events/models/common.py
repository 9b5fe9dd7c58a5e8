"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Shared types.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from rosterhub.events.base import AvroRecord

__all__ = [
    "CancellationReason",
    "CancellingParty",
    "CredentialType",
    "EmploymentModel",
    "Identifier",
    "MembershipType",
    "OrganisationRef",
    "PayCycle",
    "ReleaseTier",
    "RuleResult",
    "ShiftType",
    "StaffGroup",
    "WorkerRef",
]


class CancellationReason(StrEnum):
    """Why a shift or a booking was cancelled. DEMAND_CHANGED: the ward no longer needs the cover (fewer patients,
    beds closed); FILLED_INTERNALLY: covered by substantive staff or redeployment; POSTED_IN_ERROR and
    DUPLICATE: the shift should never have existed; WORKER_UNAVAILABLE and WORKER_SICKNESS: the booked worker
    cannot come; REBOOKED: the booking is replaced by another one for the same worker. OTHER is the reader
    default; reason_detail explains it.
    """

    DEMAND_CHANGED = "DEMAND_CHANGED"
    FILLED_INTERNALLY = "FILLED_INTERNALLY"
    POSTED_IN_ERROR = "POSTED_IN_ERROR"
    DUPLICATE = "DUPLICATE"
    WORKER_UNAVAILABLE = "WORKER_UNAVAILABLE"
    WORKER_SICKNESS = "WORKER_SICKNESS"
    REBOOKED = "REBOOKED"
    OTHER = "OTHER"


class CancellingParty(StrEnum):
    """Who cancelled a shift or booking. Late-cancellation fees are owed to the worker only when the TRUST (or the
    hub on its behalf) cancels; a WORKER cancellation counts against the worker's reliability instead. UNKNOWN
    is the reader default.
    """

    TRUST = "TRUST"
    WORKER = "WORKER"
    AGENCY = "AGENCY"
    HUB = "HUB"
    UNKNOWN = "UNKNOWN"


class CredentialType(StrEnum):
    """Kind of credential in the staff passport, after the NHS Digital Staff Passport and the six NHS Employers
    check standards: IDENTITY, RIGHT_TO_WORK, PROFESSIONAL_REGISTRATION (GMC/NMC/HCPC/GPhC), QUALIFICATION,
    EMPLOYMENT_HISTORY (employment history and references), OCCUPATIONAL_HEALTH (work health assessment,
    immunisations such as TB, varicella, hepatitis B), DBS (criminal record check), EMPLOYMENT_ASSIGNMENT (an
    ESR assignment), TEMPORARY_PLACEMENT (a placement at a host trust), CSTF_TRAINING (Core Skills Training
    Framework, with subject and level). OTHER is the reader default.
    """

    IDENTITY = "IDENTITY"
    RIGHT_TO_WORK = "RIGHT_TO_WORK"
    PROFESSIONAL_REGISTRATION = "PROFESSIONAL_REGISTRATION"
    QUALIFICATION = "QUALIFICATION"
    EMPLOYMENT_HISTORY = "EMPLOYMENT_HISTORY"
    OCCUPATIONAL_HEALTH = "OCCUPATIONAL_HEALTH"
    DBS = "DBS"
    EMPLOYMENT_ASSIGNMENT = "EMPLOYMENT_ASSIGNMENT"
    TEMPORARY_PLACEMENT = "TEMPORARY_PLACEMENT"
    CSTF_TRAINING = "CSTF_TRAINING"
    OTHER = "OTHER"


class EmploymentModel(StrEnum):
    """How a collaborative bank employs and pays its workers: LEAD_EMPLOYER (one trust pays everyone and recharges
    the trusts where shifts were worked), DISTRIBUTED (each trust pays its own pool and recharges the trust
    where its worker worked), MANAGED_SERVICE (a third party pays and invoices the trusts). OTHER is the reader
    default.
    """

    LEAD_EMPLOYER = "LEAD_EMPLOYER"
    DISTRIBUTED = "DISTRIBUTED"
    MANAGED_SERVICE = "MANAGED_SERVICE"
    OTHER = "OTHER"


class Identifier(AvroRecord):
    """An identifier as a (system URI, value) pair, FHIR-style. Register numbers use the UK Core systems
    (https://fhir.hl7.org.uk/Id/gmc-number, .../nmc-number, .../hcpc-number, .../gphc-number); vendor ids use
    https://rosterhub.org/Id/<vendor>/<trust-ods>. Values are normalised (GMC without its C prefix, NMC upper
    case without spaces).
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.common.v1.Identifier"

    system: str
    """Namespace URI of the identifier."""

    value: str
    """The identifier, normalised for matching."""


class MembershipType(StrEnum):
    """How a worker is engaged by an organisation. BANK: on a trust's (or collaborative's) staff bank, exempt from
    the agency rules; SUBSTANTIVE: employed with an ESR assignment; AGENCY: supplied by an agency under a
    framework, subject to the price cap and moonlighting control. OTHER is the reader default.
    """

    BANK = "BANK"
    SUBSTANTIVE = "SUBSTANTIVE"
    AGENCY = "AGENCY"
    OTHER = "OTHER"


class OrganisationRef(AvroRecord):
    """An NHS organisation by ODS code: 3 characters for a trust (e.g. RHQ), 5 for a site (e.g. RHQ01). FHIR system
    https://fhir.nhs.uk/Id/ods-organization-code.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.common.v1.OrganisationRef"

    ods_code: str
    """ODS code, upper case."""

    name: str | None = None
    """Display name, informational only."""


class PayCycle(StrEnum):
    """Payroll cycle of a batch. MONTHLY is the reader default."""

    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


class ReleaseTier(StrEnum):
    """Who may see and book a shift: the trust's own bank first, then the collaborative bank, then agency tiers
    (framework order).
    """

    OWN_BANK = "OWN_BANK"
    COLLABORATIVE_BANK = "COLLABORATIVE_BANK"
    AGENCY_TIER_1 = "AGENCY_TIER_1"
    AGENCY_TIER_2 = "AGENCY_TIER_2"
    AGENCY_TIER_3 = "AGENCY_TIER_3"


class RuleResult(AvroRecord):
    """The outcome of one booking rule, recorded on every decision so that it can be explained."""

    AVRO_NAME: ClassVar[str] = "rosterhub.common.v1.RuleResult"

    rule: str
    """Rule id, e.g. shift_open, passport_clearance, no_overlap."""

    passed: bool
    """True when the booking satisfies the rule."""

    reason_code: str | None = None
    """Stable code when the rule failed (docs/booking.md), e.g. SHIFT_NOT_OPEN."""

    detail: str | None = None
    """Human-readable explanation."""


class ShiftType(StrEnum):
    """Kind of shift, derived from its times when the vendor does not say: EARLY/LATE/DAY end by 21:00, LONG_DAY is
    over 10 h in daytime, NIGHT covers midnight-06:00.
    """

    EARLY = "EARLY"
    LATE = "LATE"
    DAY = "DAY"
    LONG_DAY = "LONG_DAY"
    TWILIGHT = "TWILIGHT"
    NIGHT = "NIGHT"
    ON_CALL = "ON_CALL"
    OTHER = "OTHER"


class StaffGroup(StrEnum):
    """NHS staff groups (ESR staff group names). OTHER is the reader default, so a newer symbol never breaks an
    older consumer.
    """

    ADD_PROF_SCIENTIFIC_TECHNICAL = "ADD_PROF_SCIENTIFIC_TECHNICAL"
    ADDITIONAL_CLINICAL_SERVICES = "ADDITIONAL_CLINICAL_SERVICES"
    ADMIN_CLERICAL = "ADMIN_CLERICAL"
    ALLIED_HEALTH_PROFESSIONALS = "ALLIED_HEALTH_PROFESSIONALS"
    ESTATES_ANCILLARY = "ESTATES_ANCILLARY"
    HEALTHCARE_SCIENTISTS = "HEALTHCARE_SCIENTISTS"
    MEDICAL_DENTAL = "MEDICAL_DENTAL"
    NURSING_MIDWIFERY_REGISTERED = "NURSING_MIDWIFERY_REGISTERED"
    STUDENTS = "STUDENTS"
    OTHER = "OTHER"


class WorkerRef(AvroRecord):
    """Who a worker is, as far as the sender knows: the hub's person id once identity resolution has matched them,
    plus every identifier the sender holds. Never carries NI number, date of birth or address.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.common.v1.WorkerRef"

    person_id: str | None = None
    """Hub person id (set by identity resolution; null from connectors)."""

    identifiers: list[Identifier] = Field(default_factory=list)
    """Register numbers, ESR assignment numbers and vendor ids."""

    display_name: str | None = None
    """Name as shown to rota managers."""
