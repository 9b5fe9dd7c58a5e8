"""What the payroll processor tells trust systems (docs/payroll.md, docs/outbound.md).

* ``timesheet_queried`` / ``timesheet_approved``: the hub's own query (a timesheet that does not
  match its booking) or approval (within tolerance, under ``auto``), to the platform the timesheet
  came through: the ``<vendor>:<trust>:<id>`` of its timesheet id;
* ``pay_line`` / ``pay_batch_closed``: every payroll line, and the batch's close with its control
  totals, to the employing trust's systems (its ESR interface writes them as pay files; platforms
  with no use for them render nothing). Ordered per batch.
"""

from __future__ import annotations

from rosterhub.connectors.outbound.contract import Destination
from rosterhub.connectors.outbound.kinds import OutboundKind, platform_of_id
from rosterhub.connectors.outbound.routing import ShiftMemory
from rosterhub.envelope import Envelope
from rosterhub.events.models.payroll import PayrollBatchClosed, PayrollLineIssued
from rosterhub.events.models.timesheet import TimesheetApproved, TimesheetQueried
from rosterhub.ods import ods_of
from rosterhub.streams.payroll.timesheets import SOURCE

__all__ = ["OUTBOUND_KINDS"]


def timesheet_platform(env: Envelope, dest: Destination, _memory: ShiftMemory | None) -> bool:
    platform, trust = platform_of_id(env.data.get("timesheet_id"))
    return (dest.platform, dest.trust) == (platform, trust)


def employing_trust(env: Envelope, dest: Destination, _memory: ShiftMemory | None) -> bool:
    """Every destination at the employing trust (trust-wide observers too: an ESR destination usually is one);
    the adapters' declared kinds keep pay updates away from platforms that have no use for them."""
    return dest.trust == ods_of(env.data.get("employing_trust"))


OUTBOUND_KINDS = (
    OutboundKind(
        "timesheet_queried",
        TimesheetQueried.AVRO_NAME,
        SOURCE,
        timesheet_platform,
        doc="The hub queried a timesheet from this platform: it does not match its booking (reason, detail).",
    ),
    OutboundKind(
        "timesheet_approved",
        TimesheetApproved.AVRO_NAME,
        SOURCE,
        timesheet_platform,
        doc="The hub approved a timesheet from this platform (within the host trust's tolerance).",
    ),
    OutboundKind(
        "pay_line",
        PayrollLineIssued.AVRO_NAME,
        SOURCE,
        employing_trust,
        order_field="batch_id",
        doc="A payroll line of the employing trust's batch (reversals included).",
    ),
    OutboundKind(
        "pay_batch_closed",
        PayrollBatchClosed.AVRO_NAME,
        SOURCE,
        employing_trust,
        order_field="batch_id",
        doc="The employing trust's batch is closed: its control totals.",
    ),
)
