"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the recharge domain.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.codes import PayCode
from rosterhub.events.models.common import EmploymentModel, OrganisationRef

__all__ = [
    "RechargeLineRaised",
]


class RechargeLineRaised(AvroEvent):
    """The trust that paid a worker recharges the trust where the work was done, for one payroll line worked there
    (a reversal line gives a negative recharge). Keyed by statement id, so a month's statement between two
    trusts is in order on one partition; the statement is the sum of its lines and reconciles line by line with
    the payroll lines (line_id). No personal data: workers are not named.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.recharge.v1.RechargeLineRaised"

    recharge_id: str
    """<line id>:recharge, stable like the line id."""

    statement_id: str
    """<raised_by ODS>:<charged_to ODS>:<YYYY-MM>: the monthly statement of the pair (partition key)."""

    line_id: str
    """The payroll line recharged."""

    batch_id: str
    """Payroll batch of that line."""

    booking_id: str
    """Hub booking."""

    timesheet_id: str | None = None
    """Timesheet of the line; null for a late-cancellation fee."""

    raised_by: OrganisationRef
    """Trust owed the money: it paid the worker."""

    charged_to: OrganisationRef
    """Trust that pays the recharge: the work was done for it."""

    employment_model: EmploymentModel = EmploymentModel.OTHER
    """The collaborative's employment model."""

    pay_code: PayCode
    """Pay code of the line recharged."""

    hours: Annotated[Decimal, Field(max_digits=6, decimal_places=2)] | None = None
    """Hours of the line (null for a lump sum)."""

    pay_amount: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
    """The line's amount, GBP."""

    on_cost_amount: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
    """Employer on-costs recharged on it (the collaborative's on-cost percentage), GBP."""

    amount: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
    """pay_amount + on_cost_amount, GBP."""

    month: str
    """Statement month, YYYY-MM: the month of the line's pay period end."""

    raised_at: UtcInstant
    """When the recharge was raised."""
