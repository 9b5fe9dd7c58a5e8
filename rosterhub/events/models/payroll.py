"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the payroll domain.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.codes import Grade, PayCode
from rosterhub.events.models.common import EmploymentModel, OrganisationRef, PayCycle, StaffGroup, WorkerRef

__all__ = [
    "PayrollBatchClosed",
    "PayrollLineIssued",
]


class PayrollBatchClosed(AvroEvent):
    """A payroll batch is closed: no line will ever be added to it (a later correction goes to the next batch).
    Carries the control totals a payroll office reconciles the lines with. Published again, identical, when the
    batch is re-sent.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.payroll.v1.PayrollBatchClosed"

    batch_id: str
    """The batch closed (partition key: it follows its own lines)."""

    employing_trust: OrganisationRef
    """Whose payroll the batch is."""

    cycle: PayCycle
    """Weekly or monthly."""

    period_start: date
    """First day of the pay period."""

    period_end: date
    """Last day of the pay period."""

    line_count: int
    """Lines in the batch (line numbers 1..line_count)."""

    hours: Annotated[Decimal, Field(max_digits=9, decimal_places=2)]
    """Sum of the hours of the basic lines (reversals included)."""

    amount: Annotated[Decimal, Field(max_digits=14, decimal_places=2)]
    """Sum of every line's amount, GBP."""

    closed_by: str
    """User id of whoever closed it, or 'cut-off' when closed by the schedule."""

    closed_at: UtcInstant
    """When it was closed."""


class PayrollLineIssued(AvroEvent):
    """One line of the employing trust's payroll batch: hours x rate = amount under one pay code, or a lump sum
    (holiday pay, a late-cancellation fee). An approved timesheet gives a basic line, one line per
    unsocial-hours enhancement and the holiday pay accrual. Keyed by batch id, so a batch's lines are in order
    on one partition. A line is never changed: a correction is a reversal line (negative hours and amount,
    reverses = the line it cancels) plus a new line, in the batch open at the time. line_id is stable, so a
    re-sent batch repeats the same ids.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.payroll.v1.PayrollLineIssued"

    line_id: str
    """<batch id>:<line number>; the same when the batch is re-sent."""

    batch_id: str
    """Payroll batch: <employing ODS>-BANK-<ISO year>-W<ISO week> (weekly) or <employing ODS>-BANK-<year>-<month>
    (monthly), of the period end (partition key).
    """

    line_number: int
    """Position of the line in its batch, from 1, without gaps."""

    cycle: PayCycle
    """Weekly or monthly batch (the employing trust's payroll policy)."""

    period_start: date
    """First day of the pay period (Europe/London calendar date)."""

    period_end: date
    """Last day of the pay period: the day of the cut-off (Europe/London calendar date)."""

    employing_trust: OrganisationRef
    """Who pays the worker: their home trust (distributed), the lead employer, or the managed service."""

    host_trust: OrganisationRef
    """Trust where the shift was worked."""

    employment_model: EmploymentModel = EmploymentModel.OTHER
    """The collaborative's employment model that decided the employing trust."""

    booking_id: str
    """Hub booking paid."""

    shift_id: str
    """Hub shift id of the booking."""

    timesheet_id: str | None = None
    """Approved timesheet the line comes from; null for a late-cancellation fee (no shift was worked)."""

    worker: WorkerRef
    """Who is paid: hub person id and register numbers (never NI number or date of birth)."""

    staff_group: StaffGroup
    """Staff group of the shift."""

    grade: Grade
    """Grade paid: the shift's or the worker's own, as the employing trust's policy says."""

    pay_code: PayCode
    """What the line pays for (code list in docs/events.md; a trust may use X-<ODS>-<CODE>)."""

    hours: Annotated[Decimal, Field(max_digits=6, decimal_places=2)] | None = None
    """Hours paid on this line (2 places; negative on a reversal); null for a lump sum."""

    rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """GBP per hour (basic rate, or the enhancement per hour); null for a lump sum."""

    amount: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
    """GBP: hours x rate rounded half-up to the penny, or the lump sum; negative on a reversal."""

    worked_start: UtcInstant | None = None
    """Start of the paid time (approved), null for a fee."""

    worked_end: UtcInstant | None = None
    """End of the paid time; may cross midnight and a clock change."""

    reverses: str | None = None
    """On a reversal line: the line_id it cancels (in this or an earlier, possibly closed, batch)."""

    pricing_version: int = 1
    """1 for the first pricing of a timesheet, 2 after its first correction, ..."""

    policy_fingerprint: str | None = None
    """Fingerprint of the payroll policy that priced the line (rates, enhancements), for audit."""

    created_at: UtcInstant
    """When the hub issued the line."""
