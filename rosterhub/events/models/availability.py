"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the availability domain.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.models.common import OrganisationRef, ShiftType, WorkerRef

__all__ = [
    "AvailabilityDeclared",
    "AvailabilityStatus",
]


class AvailabilityStatus(StrEnum):
    """AVAILABLE: wants shifts in the period; UNAVAILABLE: must not be offered any. UNAVAILABLE is the reader
    default, so an unknown status never offers shifts.
    """

    AVAILABLE = "AVAILABLE"
    UNAVAILABLE = "UNAVAILABLE"


class AvailabilityDeclared(AvroEvent):
    """A worker said, through any platform, when they can or cannot work. Declarations are facts in time order: for
    an overlapping period the latest declaration wins. Maps onto FHIR Slot (AVAILABLE=free,
    UNAVAILABLE=busy-unavailable).
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.availability.v1.AvailabilityDeclared"

    availability_id: str
    """Id of this declaration: <vendor>:<trust ods>:<vendor id>."""

    person_id: str
    """Hub person id (partition key), so one person's declarations stay in order."""

    worker: WorkerRef
    """Who declared."""

    vendor: str
    """Platform the declaration came through."""

    status: AvailabilityStatus
    """Available or not."""

    start: UtcInstant
    """Start of the period (UTC on the wire; shown in Europe/London)."""

    end: UtcInstant
    """End of the period; may cross midnight."""

    shift_types: list[ShiftType] = Field(default_factory=list)
    """Kinds of shift wanted in the period; empty means any."""

    trusts: list[OrganisationRef] = Field(default_factory=list)
    """Trusts the worker will work at in the period; empty means any trust they are cleared for."""

    declared_at: UtcInstant
    """When the worker declared it."""
