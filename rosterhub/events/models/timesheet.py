"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the timesheet domain.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.codes import PayCode
from rosterhub.events.models.common import OrganisationRef, WorkerRef

__all__ = [
    "PayFrequency",
    "PayrollLine",
    "QueryReason",
    "RechargeRaised",
    "TimesheetApproved",
    "TimesheetMissing",
    "TimesheetQueried",
    "TimesheetSubmitted",
]


class PayFrequency(StrEnum):
    """Payroll cycle of the batch. MONTHLY is the reader default."""

    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


class PayrollLine(AvroEvent):
    """Superseded, never produced: the hub issues rosterhub.payroll.v1.PayrollLineIssued instead (its own topic,
    keyed so a batch or statement stays in order; docs/decisions/0011-payroll.md). Kept so the released contract
    still resolves. One line of a payroll batch (weekly or monthly) for the employing trust's payroll: hours x
    rate = amount, under one pay code. A booking yields several lines (basic, enhancements, holiday pay).
    Amounts are GBP decimals, never floats.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.timesheet.v1.PayrollLine"

    line_id: str
    """Line id: <batch id>:<line number>; stable when a batch is re-sent."""

    batch_id: str
    """Payroll batch the line belongs to."""

    booking_id: str
    """Booking paid (partition key)."""

    timesheet_id: str
    """Approved timesheet the line comes from."""

    worker: WorkerRef
    """Who is paid; carries the ESR assignment number when paid through ESR."""

    employing_trust: OrganisationRef
    """Trust whose payroll pays the worker (home trust, or the lead employer)."""

    host_trust: OrganisationRef
    """Trust where the shift was worked."""

    frequency: PayFrequency
    """Weekly or monthly batch."""

    period_end: date
    """Last day of the pay period, a calendar date."""

    pay_code: PayCode
    """What the line pays for (code list in docs/events.md)."""

    hours: Annotated[Decimal, Field(max_digits=6, decimal_places=2)] | None = None
    """Hours paid on this line; null for lump sums."""

    rate: Annotated[Decimal, Field(max_digits=9, decimal_places=2)] | None = None
    """GBP per hour; null for lump sums."""

    amount: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
    """GBP amount of the line (decimal, 2 places): hours x rate rounded half-up to the penny, or the lump sum."""

    created_at: UtcInstant
    """When the line was produced."""


class RechargeRaised(AvroEvent):
    """Superseded, never produced: the hub issues rosterhub.recharge.v1.RechargeLineRaised instead (its own topic,
    keyed so a batch or statement stays in order; docs/decisions/0011-payroll.md). Kept so the released contract
    still resolves. In a distributed collaborative bank the trust that paid the worker and the trust that had
    the work done differ, and one recharges the other for the shift's cost. raised_by is owed the amount,
    charged_to pays it; both are explicit so no convention has to be remembered.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.timesheet.v1.RechargeRaised"

    recharge_id: str
    """Hub recharge id."""

    booking_id: str
    """Booking recharged (partition key)."""

    timesheet_id: str
    """Approved timesheet the cost comes from."""

    raised_by: OrganisationRef
    """Trust owed the money (it paid the worker)."""

    charged_to: OrganisationRef
    """Trust that pays the recharge (the work was done for it)."""

    hours: Annotated[Decimal, Field(max_digits=6, decimal_places=2)]
    """Approved hours recharged."""

    pay_amount: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
    """Gross pay recharged, GBP (decimal, 2 places)."""

    on_cost_amount: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
    """Employer on-costs recharged (NI, pension, holiday accrual), GBP."""

    amount: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
    """Total recharged, GBP: pay_amount + on_cost_amount."""

    period_end: date
    """Last day of the recharge period."""

    raised_at: UtcInstant
    """When the recharge was raised."""


class TimesheetApproved(AvroEvent):
    """An approver signed a timesheet off. With two-step approval (Patchwork) the first step emits this with
    final_approval false; only a final approval releases the hours to payroll.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.timesheet.v1.TimesheetApproved"

    timesheet_id: str
    """Hub timesheet id."""

    booking_id: str
    """Booking worked (partition key)."""

    shift_id: str
    """Hub shift id."""

    approver: str
    """User id of the approver (ward manager, bank office); not a name."""

    approval_step: int = 1
    """1 for the first (or only) approval, 2 for the second step."""

    final_approval: bool = True
    """True when no further approval is needed and the hours go to payroll."""

    approved_hours: Annotated[Decimal, Field(max_digits=6, decimal_places=2)]
    """Paid hours approved (decimal, 2 places); may differ from the hours claimed."""

    approved_at: UtcInstant
    """When it was approved."""

    approver_role: str | None = None
    """Role the approver signed as (the trust policy's named role for this step), when known: approvals through the
    hub's API carry it; a platform's own approvals usually do not.
    """

    approver_trust: str | None = None
    """ODS code of the trust the approver acts for, when the hub knows it (approvals through its API, from the
    caller's token); the hub pays an API approval only when it is the host trust.
    """


class TimesheetMissing(AvroEvent):
    """A confirmed booking ended more than the host trust's allowed days ago and no timesheet has arrived for it:
    reported once, so the bank office can chase the worker (or record a no-show). A timesheet that arrives later
    is handled as usual.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.timesheet.v1.TimesheetMissing"

    booking_id: str
    """Booking without a timesheet (partition key)."""

    shift_id: str
    """Hub shift id."""

    worker: WorkerRef
    """The booked worker."""

    host_trust: OrganisationRef
    """Trust where the shift was to be worked."""

    vendor: str | None = None
    """Platform the booking came through (where the timesheet is expected)."""

    shift_end: UtcInstant
    """End of the booked shift."""

    due_by: UtcInstant
    """Shift end + the host trust's missing_after_days."""

    reported_at: UtcInstant
    """When the hub reported it."""


class QueryReason(StrEnum):
    """Why a timesheet was queried: HOURS_DIFFER / BREAK_DIFFERS outside the host trust's tolerance, NO_BOOKING
    (the hub knows no confirmed booking for it), BOOKING_CANCELLED (the booking was cancelled), NOT_WORKED (a
    no-show). OTHER is the reader default.
    """

    HOURS_DIFFER = "HOURS_DIFFER"
    BREAK_DIFFERS = "BREAK_DIFFERS"
    NOT_WORKED = "NOT_WORKED"
    WRONG_GRADE = "WRONG_GRADE"
    WRONG_RATE = "WRONG_RATE"
    DUPLICATE = "DUPLICATE"
    NO_BOOKING = "NO_BOOKING"
    BOOKING_CANCELLED = "BOOKING_CANCELLED"
    OTHER = "OTHER"


class TimesheetQueried(AvroEvent):
    """A timesheet was sent back with a question instead of being approved: by an approver on the platform, or by
    the hub (source /rosterhub/payroll) when it does not match its confirmed booking within the host trust's
    tolerance. The worker answers with a new TimesheetSubmitted (same timesheet id), or an approver approves it
    as it is.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.timesheet.v1.TimesheetQueried"

    timesheet_id: str
    """Hub timesheet id."""

    booking_id: str
    """Booking worked (partition key)."""

    shift_id: str
    """Hub shift id."""

    queried_by: str
    """User id of the approver who queried; rosterhub when the hub queried it."""

    reason: QueryReason
    """Why."""

    detail: str | None = None
    """The question put to the worker."""

    queried_at: UtcInstant
    """When it was queried."""


class TimesheetSubmitted(AvroEvent):
    """A worker submitted the hours actually worked on a booked shift. Actual times may differ from the booked ones
    (late finish, short shift); approval decides what is paid.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.timesheet.v1.TimesheetSubmitted"

    timesheet_id: str
    """Hub timesheet id: <vendor>:<trust ods>:<vendor timesheet id>."""

    booking_id: str
    """Booking worked (partition key: every money event of a booking is ordered)."""

    shift_id: str
    """Hub shift id."""

    worker: WorkerRef
    """Who worked."""

    host_trust: OrganisationRef
    """Trust where the shift was worked."""

    vendor: str
    """Platform the timesheet came through."""

    actual_start: UtcInstant
    """When the worker started."""

    actual_end: UtcInstant
    """When the worker finished; may cross midnight and clock changes."""

    break_minutes: int = 0
    """Unpaid break taken."""

    hours: Annotated[Decimal, Field(max_digits=6, decimal_places=2)]
    """Paid hours claimed (decimal, 2 places): elapsed time minus the break, computed on instants so a clock-change
    night counts its real length.
    """

    submitted_at: UtcInstant
    """When the worker submitted."""

    notes: str | None = None
    """Worker's note (e.g. why they stayed late)."""
