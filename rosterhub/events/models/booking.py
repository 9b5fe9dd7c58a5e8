"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the booking domain.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.models.common import (
    CancellationReason,
    CancellingParty,
    MembershipType,
    OrganisationRef,
    ReleaseTier,
    RuleResult,
    ShiftType,
    StaffGroup,
    WorkerRef,
)

__all__ = [
    "BookingCancelled",
    "BookingConfirmed",
    "BookingRejected",
    "BookingRequested",
    "NoShow",
    "ShiftFilled",
]


class BookingCancelled(AvroEvent):
    """A confirmed booking was cancelled by the worker or the trust while the shift itself may still be needed (if
    the shift is withdrawn, ShiftCancelled is emitted instead, with the booking id). Notice and the
    late-cancellation outcome are recorded for pay and reliability reporting.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.booking.v1.BookingCancelled"

    booking_id: str
    """Hub booking id."""

    shift_id: str
    """Hub shift id of the booked shift."""

    worker: WorkerRef
    """The worker whose booking ends."""

    host_trust: OrganisationRef
    """Trust where the shift was to be worked."""

    cancelled_by: CancellingParty
    """Who cancelled."""

    reason: CancellationReason = CancellationReason.OTHER
    """Why."""

    reason_detail: str | None = None
    """Free-text explanation as given; never health details."""

    start: UtcInstant
    """Start of the booked shift."""

    cancelled_at: UtcInstant
    """When the cancellation was made."""

    notice_hours: Annotated[Decimal, Field(max_digits=7, decimal_places=2)]
    """Hours between cancelled_at and start (decimal, 2 places); negative when after the start."""

    late_cancellation_fee: bool = False
    """True when the trust cancelled inside its notice threshold and the worker is owed a fee."""

    fee_hours: Annotated[Decimal, Field(max_digits=5, decimal_places=2)] | None = None
    """Hours paid as the late-cancellation fee, when owed."""

    shift_reopened: bool = True
    """True when the shift goes back out to be filled (at its current tier)."""


class BookingConfirmed(AvroEvent):
    """The hub accepted a booking request: every rule passed. The shift is now filled by this worker."""

    AVRO_NAME: ClassVar[str] = "rosterhub.booking.v1.BookingConfirmed"

    booking_id: str
    """Hub booking id: <vendor>:<trust ods>:<vendor booking id>."""

    shift_id: str
    """Hub shift id of the booked shift."""

    worker: WorkerRef
    """The booked worker."""

    host_trust: OrganisationRef
    """Trust where the shift is worked."""

    start: UtcInstant
    """Shift start as booked (UTC on the wire)."""

    end: UtcInstant
    """Shift end as booked; may cross midnight."""

    rule_results: list[RuleResult]
    """Every rule evaluated, all passed."""

    decided_at: UtcInstant
    """When the booking processor decided."""

    tier: ReleaseTier = ReleaseTier.OWN_BANK
    """Release tier the shift was at when booked (fill-by-tier reporting)."""

    vendor: str | None = None
    """Platform the booking request came through (the requesting platform, which may differ from the shift's host
    platform).
    """


class BookingRejected(AvroEvent):
    """The hub refused a booking request; rule_results says which rules failed and why. A refusal is a fact, not an
    error.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.booking.v1.BookingRejected"

    booking_id: str
    """Hub booking id of the refused request."""

    shift_id: str
    """Hub shift id the worker asked for."""

    worker: WorkerRef
    """The worker who asked."""

    host_trust: OrganisationRef | None = None
    """Null when the shift is unknown to the hub."""

    reason_codes: list[str]
    """Reason codes of the failed rules, in rule order."""

    rule_results: list[RuleResult]
    """Every rule evaluated, passed or failed, each with its reason code."""

    decided_at: UtcInstant
    """When the booking processor decided."""

    vendor: str | None = None
    """Platform the booking request came through (the requesting platform, which may differ from the shift's host
    platform).
    """


class BookingRequested(AvroEvent):
    """A worker, through any platform, asks to work a shift. Decided exactly once by the booking processor."""

    AVRO_NAME: ClassVar[str] = "rosterhub.booking.v1.BookingRequested"

    booking_id: str
    """Hub booking id: <vendor>:<trust ods>:<vendor booking id>."""

    shift_id: str
    """Hub shift id of the requested shift."""

    worker: WorkerRef
    """The worker asking; identity resolution fills person_id."""

    vendor: str
    """Platform the request came through."""

    requested_at: UtcInstant
    """When the worker asked (the platform's clock); ties between requests are broken by offset."""

    membership: MembershipType | None = None
    """How this booking engages the worker (BANK, SUBSTANTIVE, AGENCY); null when the platform does not say (the
    booking is then refused with MEMBERSHIP_UNKNOWN).
    """

    grade: str | None = None
    """The worker's own canonical grade (not the shift's); null when the platform does not carry it
    (REQUEST_INCOMPLETE).
    """

    staff_group: StaffGroup | None = None
    """The worker's staff group; null when the platform does not carry it (REQUEST_INCOMPLETE)."""

    home_trust: str | None = None
    """ODS code of the trust whose bank the worker belongs to."""

    substantive_employer: str | None = None
    """ODS code of the trust employing the worker substantively, if any (own-bank and moonlighting rules)."""

    agency: str | None = None
    """Agency id, for AGENCY engagements."""

    framework: str | None = None
    """Framework the agency supplies under."""

    charge_rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """GBP per hour the agency charges the trust, all-in (price cap rule)."""

    break_glass: bool = False
    """The trust invoked the break-glass clause for this booking."""

    break_glass_authoriser: str | None = None
    """Who authorised break glass (recorded on the rule results)."""

    wtr_opt_out: bool = False
    """The worker has a signed opt-out of the 48 h average week."""


class NoShow(AvroEvent):
    """A booked worker did not arrive for the shift. Recorded by the ward (or inferred when no timesheet arrives);
    feeds reliability reporting and stops payment for the shift.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.booking.v1.NoShow"

    booking_id: str
    """Hub booking id."""

    shift_id: str
    """Hub shift id."""

    worker: WorkerRef
    """The worker who did not attend."""

    host_trust: OrganisationRef
    """Trust where the shift was to be worked."""

    start: UtcInstant
    """Start of the missed shift."""

    recorded_at: UtcInstant
    """When the no-show was recorded."""

    recorded_by: str | None = None
    """User id of whoever recorded it; null when inferred by the hub."""

    notice_hours: Annotated[Decimal, Field(max_digits=7, decimal_places=2)] | None = None
    """Hours of notice the worker gave before the start (negative if after it); null when no notice at all."""

    detail: str | None = None
    """Free text; never health details."""


class ShiftFilled(AvroEvent):
    """A shift has a confirmed worker: the fact programme managers count (fill rate, time to fill, bank vs agency
    share). Emitted once per fill, after BookingConfirmed; a later BookingCancelled reopens the shift and a new
    fill emits another ShiftFilled.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.booking.v1.ShiftFilled"

    shift_id: str
    """Hub shift id of the filled shift."""

    booking_id: str
    """Booking that filled it."""

    worker: WorkerRef
    """The worker who will work it."""

    host_trust: OrganisationRef
    """Trust where the shift is worked."""

    home_trust: OrganisationRef | None = None
    """The worker's home trust, when known: host differing from home is a collaborative (cross-trust) fill, for the
    migration matrix.
    """

    staff_group: StaffGroup
    """Staff group of the shift."""

    shift_type: ShiftType
    """Kind of shift."""

    tier: ReleaseTier
    """Release tier the shift was filled at."""

    membership_type: MembershipType = MembershipType.OTHER
    """How the worker was engaged for this shift (BANK or AGENCY)."""

    start: UtcInstant
    """Shift start."""

    end: UtcInstant
    """Shift end; may cross midnight."""

    posted_at: UtcInstant | None = None
    """When the shift was first posted; null when unknown. filled_at minus posted_at is the time to fill."""

    filled_at: UtcInstant
    """When the booking was confirmed."""

    vendor: str | None = None
    """Platform the booking request came through (the requesting platform, which may differ from the shift's host
    platform).
    """

    hourly_rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """GBP per hour the host trust pays for this fill, as booked: the agency's all-in charge rate for an AGENCY
    booking, the shift's bank rate otherwise; null when the booking carried neither. Cost of the fill = paid
    hours x this rate.
    """

    price_cap_rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """For AGENCY fills: the agency price cap for the shift's grade at the host trust when booked (basic pay from
    the trust's rate card + the uplift, 55 %), GBP per hour; null for other fills or when the rate card has no
    basic pay for the grade.
    """

    agency: str | None = None
    """Agency id, for AGENCY fills."""

    framework: str | None = None
    """Framework the agency supplies under, for AGENCY fills, as the request named it."""

    framework_approved: bool | None = None
    """For AGENCY fills: true when the host trust approves the framework, false when break glass overrode the
    framework rule; null for other fills or when the rule is switched off.
    """

    break_glass: bool = False
    """True when break glass overrode an agency rule (framework or price cap) for this booking (the rule passed
    with AGENCY_BREAK_GLASS).
    """

    break_glass_authoriser: str | None = None
    """Who authorised break glass, when break_glass is true: a staff user id, not a name."""

    substantive_employer: str | None = None
    """ODS code of the trust employing the worker substantively, as the booking request said (moonlighting
    visibility); null when none or unknown.
    """

    passport_cleared: bool | None = None
    """True when the passport_clearance rule ran for this booking and passed (the worker was cleared at the host
    trust); null when the rule is switched off at the host trust.
    """
