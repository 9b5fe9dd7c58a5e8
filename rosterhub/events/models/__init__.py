"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Every canonical event model, and ``EVENT_MODELS`` (Avro full name -> model).
"""

from __future__ import annotations

from rosterhub.events.base import AvroEvent
from rosterhub.events.models.availability import AvailabilityDeclared, AvailabilityStatus
from rosterhub.events.models.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    NoShow,
    ShiftFilled,
)
from rosterhub.events.models.common import (
    CancellationReason,
    CancellingParty,
    CredentialType,
    Identifier,
    MembershipType,
    OrganisationRef,
    ReleaseTier,
    RuleResult,
    ShiftType,
    StaffGroup,
    WorkerRef,
)
from rosterhub.events.models.credential import (
    CredentialExpired,
    CredentialIssued,
    CredentialRevoked,
    CredentialVerified,
    RevocationReason,
    VerificationMethod,
    VerificationStatus,
)
from rosterhub.events.models.passport import (
    ClearanceChangeReason,
    ClearanceChanged,
    CredentialExpiring,
    CredentialStatus,
    PassportChange,
    PassportUpdated,
)
from rosterhub.events.models.shift import ShiftCancelled, ShiftPosted, ShiftReleased, ShiftUpdated
from rosterhub.events.models.timesheet import (
    PayFrequency,
    PayrollLine,
    QueryReason,
    RechargeRaised,
    TimesheetApproved,
    TimesheetQueried,
    TimesheetSubmitted,
)
from rosterhub.events.models.worker import MembershipChange, MembershipChanged, WorkerRegistered, WorkerUpdated

__all__ = [
    "EVENT_MODELS",
    "AvailabilityDeclared",
    "AvailabilityStatus",
    "BookingCancelled",
    "BookingConfirmed",
    "BookingRejected",
    "BookingRequested",
    "CancellationReason",
    "CancellingParty",
    "ClearanceChangeReason",
    "ClearanceChanged",
    "CredentialExpired",
    "CredentialExpiring",
    "CredentialIssued",
    "CredentialRevoked",
    "CredentialStatus",
    "CredentialType",
    "CredentialVerified",
    "Identifier",
    "MembershipChange",
    "MembershipChanged",
    "MembershipType",
    "NoShow",
    "OrganisationRef",
    "PassportChange",
    "PassportUpdated",
    "PayFrequency",
    "PayrollLine",
    "QueryReason",
    "RechargeRaised",
    "ReleaseTier",
    "RevocationReason",
    "RuleResult",
    "ShiftCancelled",
    "ShiftFilled",
    "ShiftPosted",
    "ShiftReleased",
    "ShiftType",
    "ShiftUpdated",
    "StaffGroup",
    "TimesheetApproved",
    "TimesheetQueried",
    "TimesheetSubmitted",
    "VerificationMethod",
    "VerificationStatus",
    "WorkerRef",
    "WorkerRegistered",
    "WorkerUpdated",
]

EVENT_MODELS: dict[str, type[AvroEvent]] = {
    "rosterhub.availability.v1.AvailabilityDeclared": AvailabilityDeclared,
    "rosterhub.booking.v1.BookingCancelled": BookingCancelled,
    "rosterhub.booking.v1.BookingConfirmed": BookingConfirmed,
    "rosterhub.booking.v1.BookingRejected": BookingRejected,
    "rosterhub.booking.v1.BookingRequested": BookingRequested,
    "rosterhub.booking.v1.NoShow": NoShow,
    "rosterhub.booking.v1.ShiftFilled": ShiftFilled,
    "rosterhub.credential.v1.CredentialExpired": CredentialExpired,
    "rosterhub.credential.v1.CredentialIssued": CredentialIssued,
    "rosterhub.credential.v1.CredentialRevoked": CredentialRevoked,
    "rosterhub.credential.v1.CredentialVerified": CredentialVerified,
    "rosterhub.passport.v1.ClearanceChanged": ClearanceChanged,
    "rosterhub.passport.v1.CredentialExpiring": CredentialExpiring,
    "rosterhub.passport.v1.PassportUpdated": PassportUpdated,
    "rosterhub.shift.v1.ShiftCancelled": ShiftCancelled,
    "rosterhub.shift.v1.ShiftPosted": ShiftPosted,
    "rosterhub.shift.v1.ShiftReleased": ShiftReleased,
    "rosterhub.shift.v1.ShiftUpdated": ShiftUpdated,
    "rosterhub.timesheet.v1.PayrollLine": PayrollLine,
    "rosterhub.timesheet.v1.RechargeRaised": RechargeRaised,
    "rosterhub.timesheet.v1.TimesheetApproved": TimesheetApproved,
    "rosterhub.timesheet.v1.TimesheetQueried": TimesheetQueried,
    "rosterhub.timesheet.v1.TimesheetSubmitted": TimesheetSubmitted,
    "rosterhub.worker.v1.MembershipChanged": MembershipChanged,
    "rosterhub.worker.v1.WorkerRegistered": WorkerRegistered,
    "rosterhub.worker.v1.WorkerUpdated": WorkerUpdated,
}
