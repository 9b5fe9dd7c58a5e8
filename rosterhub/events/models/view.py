"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the view domain.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.codes import Grade
from rosterhub.events.models.common import OrganisationRef, ReleaseTier, ShiftType, StaffGroup, WorkerRef

__all__ = [
    "ShiftAvailability",
    "ShiftStatus",
]


class ShiftStatus(StrEnum):
    """Where the shift is in its life: POSTED (open at its posting tier), RELEASED (open, moved down the cascade at
    least once), REQUESTED (open, a booking request is being decided), FILLED (a confirmed booking holds it),
    CANCELLED (withdrawn, or its booking cancelled without reopening), NO_SHOW (the booked worker did not
    attend), COMPLETED (filled and past its end). POSTED is the reader default; whether a shift is bookable is
    the open field, never the status alone.
    """

    POSTED = "POSTED"
    RELEASED = "RELEASED"
    REQUESTED = "REQUESTED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    NO_SHOW = "NO_SHOW"
    COMPLETED = "COMPLETED"


class ShiftAvailability(AvroEvent):
    """The availability processor's latest view of one shift: its state, release tier and who may book it now.
    Published to the compacted views.availability topic (key shift id), one record per change, so a consumer
    that reads the topic from the beginning holds the current state of every shift. Not an event to act on:
    booking outcomes are on events.booking.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.view.v1.ShiftAvailability"

    shift_id: str
    """Hub shift id."""

    version: int
    """The shift's own version (highest of ShiftPosted/Updated/Released/Cancelled applied)."""

    revision: int
    """Revision of this view record: bumps by one on every change of any field, so a consumer keeps the highest."""

    status: ShiftStatus
    """Current state."""

    open: bool
    """True when the shift can be booked now (POSTED, RELEASED or REQUESTED)."""

    tier: ReleaseTier
    """Current release tier."""

    trust: OrganisationRef
    """Host trust."""

    vendor: str
    """Vendor id of the host platform (the one that posted the shift)."""

    vendor_shift_id: str
    """The shift's id in the host platform."""

    ward: str
    """Ward or unit as the trust names it."""

    staff_group: StaffGroup
    """Staff group the shift needs."""

    grade: Grade
    """Canonical grade of the shift."""

    shift_type: ShiftType
    """Kind of shift."""

    start: UtcInstant
    """Start instant (UTC on the wire; shown in Europe/London)."""

    end: UtcInstant
    """End instant."""

    hourly_rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """Bank rate offered, GBP per hour, when the platform gave one."""

    booking_id: str | None = None
    """Booking that holds the shift (FILLED, NO_SHOW, COMPLETED, or CANCELLED through its booking)."""

    filled_by: WorkerRef | None = None
    """The booked worker, as the hub's outcome named them."""

    filled_via: str | None = None
    """Vendor id of the platform the winning request came through, when the outcome says."""

    next_release_at: UtcInstant | None = None
    """When the cascade timer will release the shift to the next tier if it is still open; null when no further
    release is configured.
    """

    visible_to: list[str] = Field(default_factory=list)
    """ODS codes of the trusts whose bank workers may book the shift at its current tier (the host alone at
    OWN_BANK, the host's collaborative members from COLLABORATIVE_BANK on); empty when not open.
    """

    agency_visible: bool = False
    """True when the shift is open and at an agency tier (agencies on that tier or a lower-numbered one may book)."""

    updated_at: UtcInstant
    """When the processor made this revision."""
