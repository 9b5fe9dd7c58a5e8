"""Notice and the late-cancellation fee, per the host trust's booking policy (``cancellation:``).

Notice is real time: the hours between two instants, whatever the wall clocks said. A
cancellation at 22:30 GMT on Sat 28 Mar 2026 of a shift starting 03:00 BST on the 29th
is 3.5 h of notice (the clocks went forward at 01:00 GMT), not the 4.5 h a wall clock suggests.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from rosterhub.streams.booking.policy import CancellationPolicy

__all__ = ["late_fee", "notice_hours"]

_CENT = Decimal("0.01")


def notice_hours(start: datetime, cancelled_at: datetime) -> Decimal:
    """Hours from ``cancelled_at`` to ``start`` (2 places), negative when after the start; both aware."""
    if start.tzinfo is None or cancelled_at.tzinfo is None:
        raise ValueError(f"notice needs aware instants, got start={start!r} cancelled_at={cancelled_at!r}")
    # Timestamps, not ``start - cancelled_at``: Python subtracts two datetimes sharing a tzinfo as wall clocks.
    seconds = Decimal(round(start.timestamp() - cancelled_at.timestamp()))
    return (seconds / Decimal(3600)).quantize(_CENT, rounding=ROUND_HALF_UP)


def late_fee(policy: CancellationPolicy, notice: Decimal, cancelled_by: str) -> tuple[bool, Decimal | None]:
    """(fee owed, fee hours): owed when a fee-paying party cancelled with less notice than the policy asks."""
    if cancelled_by in policy.fee_when_cancelled_by and notice < policy.late_notice_hours:
        return True, policy.fee_hours.quantize(_CENT)
    return False, None
