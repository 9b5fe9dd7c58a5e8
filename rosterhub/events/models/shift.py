"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the shift domain.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.codes import Grade
from rosterhub.events.models.common import (
    CancellationReason,
    CancellingParty,
    OrganisationRef,
    ReleaseTier,
    ShiftType,
    StaffGroup,
    WorkerRef,
)

__all__ = [
    "ShiftCancelled",
    "ShiftPosted",
    "ShiftReleased",
    "ShiftUpdated",
]


class ShiftCancelled(AvroEvent):
    """A trust withdrew a shift. Last event of a shift's life. When the shift was booked, the booked worker's
    booking ends too and the late-cancellation rule (e.g. NHSP BankShare: within 4 hours of the start, a 2-hour
    fee) decides whether the worker is paid a fee; the thresholds are trust configuration, the outcome is
    recorded here.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.shift.v1.ShiftCancelled"

    shift_id: str
    """Hub shift id."""

    version: int
    """Per-shift version of this cancellation (above every earlier version)."""

    trust: OrganisationRef
    """Host trust."""

    reason: CancellationReason = CancellationReason.OTHER
    """Why the shift was cancelled."""

    reason_detail: str | None = None
    """Free-text explanation as given; never personal data."""

    cancelled_by: CancellingParty = CancellingParty.UNKNOWN
    """Who cancelled (normally TRUST for a shift)."""

    start: UtcInstant
    """Start of the cancelled shift, so notice can be checked without the shift's history."""

    cancelled_at: UtcInstant
    """When the cancellation was made."""

    notice_hours: Annotated[Decimal, Field(max_digits=7, decimal_places=2)]
    """Hours between cancelled_at and start (decimal, 2 places); negative when cancelled after the start."""

    booking_id: str | None = None
    """Booking that this cancellation ends, when the shift was booked."""

    late_cancellation_fee: bool = False
    """True when the cancellation came inside the trust's notice threshold and the booked worker is owed a fee."""

    fee_hours: Annotated[Decimal, Field(max_digits=5, decimal_places=2)] | None = None
    """Hours paid as the late-cancellation fee (e.g. 2.00), when a fee is owed."""


class ShiftPosted(AvroEvent):
    """A trust has put a shift out to be filled (HealthRoster: 'Send to Bank' approved). First event of a shift's
    life.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.shift.v1.ShiftPosted"

    shift_id: str
    """Hub shift id: <vendor>:<trust ods>:<vendor shift id>; stable across updates."""

    version: int = 1
    """Per-shift version; a later version supersedes an earlier one."""

    vendor: str
    """Vendor id of the platform that owns the shift (e.g. healthroster, patchwork)."""

    vendor_shift_id: str
    """The shift's id in the vendor platform."""

    trust: OrganisationRef
    """Host trust."""

    site: OrganisationRef | None = None
    """Site (5-character ODS code) when known."""

    ward: str
    """Ward or unit as the trust names it."""

    cost_centre: str | None = None
    """Trust cost centre the shift is charged to, as the trust writes it."""

    staff_group: StaffGroup
    """Staff group the shift needs."""

    grade: Grade
    """Canonical grade: AfC band (BAND_1..BAND_9, BAND_8A..BAND_8D) or medical grade (FY1, FY2, CT1_2, ST3_5,
    ST6_8, SPECIALTY, SPECIALIST, CONSULTANT). See docs/events.md.
    """

    shift_type: ShiftType
    """Kind of shift (derived from the times when the vendor does not say)."""

    start: UtcInstant
    """Start instant (UTC on the wire; shown in Europe/London)."""

    end: UtcInstant
    """End instant; after start, may cross midnight and clock changes."""

    timezone: str = "Europe/London"
    """IANA zone the shift is rostered in."""

    break_minutes: int = 0
    """Unpaid break within the shift."""

    tier: ReleaseTier = ReleaseTier.OWN_BANK
    """Release tier at posting."""

    hourly_rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """Bank rate offered, GBP per hour (decimal, 2 places)."""

    notes: str | None = None
    """Free text for the worker (what to bring, who to ask for); never personal data."""

    preferred_worker: WorkerRef | None = None
    """Worker the manager named as preferred (HealthRoster 'preferred person'); offered the shift first."""

    posted_at: UtcInstant | None = None
    """When the trust released the shift to its bank; start of the time-to-fill clock."""


class ShiftReleased(AvroEvent):
    """A shift moved down the release cascade: own bank, then the collaborative bank after the configured time,
    then agency tiers in framework order. Agency releases record the framework and the price cap; a 'break
    glass' release (over the cap or off framework) must name its authoriser and is counted in programme reports.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.shift.v1.ShiftReleased"

    shift_id: str
    """Hub shift id."""

    version: int
    """Per-shift version of this release (above every earlier version)."""

    trust: OrganisationRef
    """Host trust."""

    from_tier: ReleaseTier
    """Tier the shift was visible to before."""

    to_tier: ReleaseTier
    """Tier the shift is visible to now."""

    released_at: UtcInstant
    """When the release took effect."""

    automatic: bool = True
    """True when the cascade timer released it; false for a manager's manual release."""

    framework: str | None = None
    """Approved framework the agency tier is engaged under (e.g. 'NHS Workforce Alliance Clinical and Healthcare
    Staffing'); null for bank tiers.
    """

    agency_rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """Charge rate offered to the agency tier, GBP per hour; null for bank tiers."""

    price_cap_rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """Agency price cap for this shift (basic pay + 55%), GBP per hour; null for bank tiers."""

    break_glass: bool = False
    """True when the release overrides the agency rules (over the price cap or off framework)."""

    authoriser: str | None = None
    """User id of the manager who authorised a manual or break-glass release (required when break_glass is true); a
    staff user id, not a name.
    """

    reason: str | None = None
    """Why it was released early or broke glass (e.g. 'patient safety: ED at OPEL 4')."""


class ShiftUpdated(AvroEvent):
    """A posted shift changed (times, grade, rate, ward...). Carries the whole new state, not a patch, so a
    consumer never merges partial updates; apply it only when version is above the version already held (updates
    can arrive twice or out of order from polling connectors).
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.shift.v1.ShiftUpdated"

    shift_id: str
    """Hub shift id: <vendor>:<trust ods>:<vendor shift id>."""

    version: int
    """Per-shift version, 2 or more; strictly increases with every update of this shift."""

    vendor: str
    """Vendor id of the platform that owns the shift."""

    vendor_shift_id: str
    """The shift's id in the vendor platform."""

    trust: OrganisationRef
    """Host trust."""

    site: OrganisationRef | None = None
    """Site (5-character ODS code) when known."""

    ward: str
    """Ward or unit as the trust names it."""

    cost_centre: str | None = None
    """Trust cost centre the shift is charged to."""

    staff_group: StaffGroup
    """Staff group the shift needs."""

    grade: Grade
    """Canonical grade (code list in docs/events.md)."""

    shift_type: ShiftType
    """Kind of shift."""

    start: UtcInstant
    """Start instant (UTC on the wire; shown in Europe/London)."""

    end: UtcInstant
    """End instant; after start, may cross midnight and clock changes."""

    timezone: str = "Europe/London"
    """IANA zone the shift is rostered in."""

    break_minutes: int = 0
    """Unpaid break within the shift."""

    tier: ReleaseTier = ReleaseTier.OWN_BANK
    """Current release tier (changed only by ShiftReleased)."""

    hourly_rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """Bank rate offered, GBP per hour (decimal, 2 places)."""

    notes: str | None = None
    """Free text for the worker; never personal data."""

    changed_fields: list[str] = Field(default_factory=list)
    """Names of the fields that differ from the previous version, so notifications can say what changed (a booked
    worker must hear about new times).
    """

    updated_at: UtcInstant
    """When the change was made in the vendor platform."""
