"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the kpi domain.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from rosterhub.events.base import AvroEvent, AvroRecord, UtcInstant
from rosterhub.events.models.common import (
    CancellationReason,
    CancellingParty,
    MembershipType,
    ReleaseTier,
    ShiftType,
    StaffGroup,
)

__all__ = [
    "DayKind",
    "KpiCancellation",
    "KpiClearanceSeen",
    "KpiFill",
    "KpiRejection",
    "KpiShiftType",
    "PersonKpi",
    "ShiftKpi",
]


class PersonKpi(AvroEvent):
    """When the hub first saw a credential of a person: the start of the time-to-clearance clock (docs/kpi.md).
    Published to views.kpi (key person id) once per person, from the passport's first PassportUpdated (version
    1); a redelivery publishes the same record again.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.kpi.v1.PersonKpi"

    person_id: str
    """Hub person id; never shown, only counted."""

    first_credential_at: UtcInstant
    """When the passport took in the person's first credential (PassportUpdated version 1, updated_at)."""


class DayKind(StrEnum):
    """The Europe/London day the shift starts on: WEEKDAY, WEEKEND (Saturday or Sunday) or BANK_HOLIDAY (an England
    bank holiday, from the `holidays` package's calendar, whatever the weekday).
    """

    WEEKDAY = "WEEKDAY"
    WEEKEND = "WEEKEND"
    BANK_HOLIDAY = "BANK_HOLIDAY"


class KpiShiftType(StrEnum):
    """The shift type programme managers filter and split by, one per shift: BANK_HOLIDAY when it starts on an
    England bank holiday, else WEEKEND when on a Saturday or Sunday, else NIGHT, LONG_DAY or DAY from the posted
    shift type (EARLY, LATE, DAY and TWILIGHT count as DAY), else OTHER (ON_CALL, OTHER).
    """

    DAY = "DAY"
    LONG_DAY = "LONG_DAY"
    NIGHT = "NIGHT"
    WEEKEND = "WEEKEND"
    BANK_HOLIDAY = "BANK_HOLIDAY"
    OTHER = "OTHER"


class KpiFill(AvroRecord):
    """The booking that fills the shift now (a ShiftFilled not reversed by a cancellation or a no-show)."""

    AVRO_NAME: ClassVar[str] = "rosterhub.kpi.v1.KpiFill"

    booking_id: str
    """Hub booking id."""

    tier: ReleaseTier
    """Release tier the shift was filled at."""

    membership: MembershipType
    """How the worker was engaged: BANK, AGENCY or SUBSTANTIVE."""

    home_trust: str | None = None
    """ODS code of the worker's home trust, when known (the migration matrix's row)."""

    person_id: str | None = None
    """Hub person id of the worker, for counting distinct people; never shown."""

    filled_at: UtcInstant
    """When the booking was confirmed."""

    time_to_fill_s: int | None = None
    """Seconds from posted_at to filled_at (0 when the fill came first by the clocks); null when posted_at is
    unknown.
    """

    hourly_rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """GBP per hour paid for the fill (ShiftFilled.hourly_rate)."""

    cost: Annotated[Decimal, Field(max_digits=12, decimal_places=2)] | None = None
    """paid_minutes / 60 x hourly_rate, rounded half up to the penny; null when the rate is unknown."""

    price_cap_rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """Agency price cap per hour for the shift when booked (AGENCY fills)."""

    above_cap: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
    """Spend above the price cap: paid_minutes / 60 x (hourly_rate - price_cap_rate) when positive, rounded half up
    to the penny; 0 otherwise.
    """

    agency: str | None = None
    """Agency id (AGENCY fills)."""

    framework: str | None = None
    """Framework the agency supplied under (AGENCY fills)."""

    framework_approved: bool | None = None
    """AGENCY fills: the framework is approved by the host trust (false: break glass overrode it)."""

    break_glass: bool = False
    """Break glass overrode an agency rule for this booking."""

    break_glass_authoriser: str | None = None
    """Staff user id of who authorised break glass."""

    no_show: bool = False
    """The worker did not attend (NoShow): the fill still counts towards fill rate, but its cost is not spend (the
    worker is not paid).
    """

    moonlighting: bool = False
    """An AGENCY fill of someone substantively employed by another member trust of the collaborative."""

    savings: Annotated[Decimal, Field(max_digits=12, decimal_places=2)] | None = None
    """BANK fills: paid_minutes / 60 x (the collaborative's agency reference rate for the grade - hourly_rate),
    rounded half up to the penny; null for other fills or when a rate is unknown.
    """


class KpiCancellation(AvroRecord):
    """A fill reversed: the hub's BookingCancelled of a booking that had filled the shift."""

    AVRO_NAME: ClassVar[str] = "rosterhub.kpi.v1.KpiCancellation"

    booking_id: str
    """The cancelled booking."""

    cancelled_at: UtcInstant
    """When it was cancelled."""

    notice_hours: Annotated[Decimal, Field(max_digits=7, decimal_places=2)]
    """Hours between cancellation and shift start (negative after the start)."""

    late: bool
    """notice_hours below the collaborative's late_notice_hours (policies/kpi/)."""

    cancelled_by: CancellingParty
    """Who cancelled."""

    reason: CancellationReason
    """Why."""


class KpiRejection(AvroRecord):
    """A booking request the hub refused for this shift."""

    AVRO_NAME: ClassVar[str] = "rosterhub.kpi.v1.KpiRejection"

    booking_id: str
    """The refused request."""

    reason_codes: list[str]
    """Reason codes of the failed rules, in rule order."""

    decided_at: UtcInstant
    """When the hub decided."""


class KpiClearanceSeen(AvroRecord):
    """A booking decision at the host trust in which the passport_clearance rule passed: the hub had the person
    cleared there at decided_at.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.kpi.v1.KpiClearanceSeen"

    person_id: str
    """Hub person id; never shown."""

    decided_at: UtcInstant
    """When the decision was made."""


class ShiftKpi(AvroEvent):
    """The KPI processor's facts about one shift, at the finest grain a programme manager filters by: the shift's
    dimensions (collaborative, host trust, site, ward, staff group, grade, shift type, day kind, Europe/London
    day), its demand, its current fill (tier, membership, home trust, time to fill, cost, agency price cap,
    framework, break glass, savings) and every booking outcome that happened to it (cancellations after a fill,
    no-shows, rejections). Published to the compacted views.kpi topic (key shift id), one record per change,
    recomputed from every event of the shift seen so far, so late, replayed and corrected events change the
    record of the shift they belong to and a consumer reading the topic from the beginning holds the current
    facts of every shift. Day, week and month figures are sums over these records (docs/kpi.md). Never carries
    names: people appear as hub person ids, counted, never shown.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.kpi.v1.ShiftKpi"

    shift_id: str
    """Hub shift id."""

    revision: int
    """Revision of this record: bumps by one on every change, so a consumer keeps the highest."""

    collaborative: str | None = None
    """Collaborative id of the host trust (its booking policy's `extends`); null when the trust is in none."""

    host_trust: str
    """ODS code of the trust where the shift is worked."""

    site: str | None = None
    """Site ODS code (5 characters) when known."""

    ward: str = ""
    """Ward or unit as the trust names it; empty when only a fill is known."""

    staff_group: StaffGroup
    """Staff group of the shift."""

    grade: str = ""
    """Canonical grade of the shift (code list `grade` in docs/events.md); empty when only a fill is known."""

    shift_type: ShiftType
    """Kind of shift as posted (EARLY, LATE, DAY, LONG_DAY, TWILIGHT, NIGHT, ...)."""

    day_kind: DayKind
    """What kind of day the shift starts on."""

    kpi_shift_type: KpiShiftType
    """Shift type for the KPIs (docs/kpi.md)."""

    day: date
    """The Europe/London calendar day the shift starts on: the period every fact of the shift belongs to."""

    start: UtcInstant
    """Shift start (the latest version seen)."""

    end: UtcInstant
    """Shift end (the latest version seen)."""

    paid_minutes: int
    """Elapsed minutes from start to end less the unpaid break: real time, so a night across a clock change counts
    the hour the clocks moved.
    """

    posted: bool
    """True when a ShiftPosted or ShiftUpdated of the shift was seen: the shift counts as demand."""

    posted_at: UtcInstant | None = None
    """When the trust released the shift to its bank (start of the time-to-fill clock); null when unknown."""

    withdrawn: bool = False
    """True when the trust cancelled the shift (ShiftCancelled): it no longer counts as needed."""

    tier: ReleaseTier
    """Current release tier (the highest ShiftReleased applied)."""

    fill: KpiFill | None = None
    """The current fill; null while the shift is unfilled."""

    cancellations: list[KpiCancellation] = Field(default_factory=list)
    """Cancellations after a fill, one per booking, in booking id order."""

    no_shows: list[str] = Field(default_factory=list)
    """Booking ids whose worker did not attend (the hub's NoShow), sorted."""

    rejections: list[KpiRejection] = Field(default_factory=list)
    """Refused requests, one per booking, in booking id order."""

    cleared: list[KpiClearanceSeen] = Field(default_factory=list)
    """Clearance seen in this shift's decisions, earliest per person, in person id order (time to clearance)."""

    updated_at: UtcInstant
    """Instant of the latest event that changed this record (its event time, so a replay gives the same record)."""
