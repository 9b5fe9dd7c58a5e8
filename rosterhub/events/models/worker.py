"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the worker domain.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.codes import Grade
from rosterhub.events.models.common import MembershipType, OrganisationRef, StaffGroup, WorkerRef

__all__ = [
    "MembershipChange",
    "MembershipChanged",
    "WorkerRegistered",
    "WorkerUpdated",
]


class MembershipChange(StrEnum):
    """JOINED: a new membership; CHANGED: grade, staff group or dates changed; ENDED: the membership is over
    (effective_to says when). CHANGED is the reader default.
    """

    JOINED = "JOINED"
    CHANGED = "CHANGED"
    ENDED = "ENDED"


class MembershipChanged(AvroEvent):
    """A worker joined, changed or left a bank, a substantive post or an agency's books. Membership decides which
    rules apply: bank staff are exempt from the agency rules, and a worker substantive at a partner trust may
    not be engaged through an agency (moonlighting control).
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.worker.v1.MembershipChanged"

    worker_id: str
    """Local worker id of the record the membership belongs to."""

    worker: WorkerRef
    """Who."""

    change: MembershipChange
    """What happened to the membership."""

    membership_type: MembershipType
    """BANK, SUBSTANTIVE or AGENCY."""

    home_trust: OrganisationRef
    """The trust that holds the membership: the employing trust (substantive), the bank's trust or the
    collaborative's lead employer (bank), the trust the agency supplies (agency).
    """

    collaborative: str | None = None
    """Collaborative bank id when the bank membership is collaborative-wide."""

    agency: str | None = None
    """Agency name (agencies have no ODS code) for AGENCY memberships."""

    staff_group: StaffGroup
    """Staff group of the membership's role."""

    grade: Grade
    """Canonical grade of the membership's role."""

    effective_from: date
    """First day the membership (or the change) applies, a calendar date in Europe/London."""

    effective_to: date | None = None
    """Last day of the membership; null when open-ended."""

    changed_at: UtcInstant
    """When the change was recorded."""


class WorkerRegistered(AvroEvent):
    """A platform holds a new worker record for a trust (bank sign-up, ESR new starter, agency candidate). Identity
    resolution matches it to a hub person on register numbers first, then on identity_match_key; it never sees
    NI number, date of birth or address.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.worker.v1.WorkerRegistered"

    worker_id: str
    """Local worker id: <vendor>:<trust ods>:<vendor worker id>; stable for this record."""

    vendor: str
    """Vendor id of the platform holding the record (esr, healthroster, patchwork...)."""

    trust: OrganisationRef
    """Trust whose platform holds the record."""

    worker: WorkerRef
    """Identifiers the platform holds: register numbers, ESR assignment, vendor id."""

    staff_group: StaffGroup
    """Staff group of the worker's role."""

    grade: Grade
    """Canonical grade (code list in docs/events.md)."""

    identity_match_key: Annotated[str, StringConstraints(pattern="^[0-9a-f]{64}$")] | None = None
    """HMAC-SHA256 (64 lower-case hex digits) of the normalised NI number + date of birth (YYYY-MM-DD) + upper-case
    surname, joined by '|', keyed with the collaborative's shared secret and computed inside the connector. Lets
    trusts match workers as ESR's Inter Authority Transfer does without the personal data leaving the trust;
    null when the platform does not hold them.
    """

    registered_at: UtcInstant
    """When the platform created the record."""


class WorkerUpdated(AvroEvent):
    """A platform's worker record changed. Carries the whole new state (like ShiftUpdated), plus which fields
    changed; a new register number triggers identity re-resolution.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.worker.v1.WorkerUpdated"

    worker_id: str
    """Local worker id: <vendor>:<trust ods>:<vendor worker id>."""

    vendor: str
    """Vendor id of the platform holding the record."""

    trust: OrganisationRef
    """Trust whose platform holds the record."""

    worker: WorkerRef
    """Identifiers as now held."""

    staff_group: StaffGroup
    """Staff group of the worker's role."""

    grade: Grade
    """Canonical grade as now held."""

    identity_match_key: Annotated[str, StringConstraints(pattern="^[0-9a-f]{64}$")] | None = None
    """Keyed hash as in WorkerRegistered; recomputed when surname changes."""

    active: bool = True
    """False when the platform has deactivated the worker (left the bank, suspended)."""

    changed_fields: list[str] = Field(default_factory=list)
    """Names of the fields that differ from the previous state."""

    updated_at: UtcInstant
    """When the platform changed the record."""
