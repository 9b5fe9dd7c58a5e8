"""No double booking: one person, one place at a time, across every trust and platform.

Shifts are half-open intervals [start, end): a shift ending at 08:00 and another starting
at 08:00 do not overlap (the rest between them is the working-time rules' business).
The clash is measured in real time, so two shifts that look apart on the wall clock can
still clash across the October clock change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rosterhub.streams.booking.rules.clock import fmt, hours, overlap
from rosterhub.streams.booking.rules.context import RuleContext
from rosterhub.streams.booking.rules.registry import PERSON, rule
from rosterhub.streams.booking.rules.result import Outcomes, RuleResult

__all__ = ["clash", "no_overlap"]


def clash(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> timedelta:
    """Time two shifts share; symmetric, zero when they only touch."""
    return overlap(a_start, a_end, b_start, b_end)


@rule(
    "no_overlap",
    stage=PERSON,
    order=400,
    codes={
        "DOUBLE_BOOKED": (
            "the person already has a confirmed booking that overlaps this shift (any trust, any platform)"
        ),
    },
)
def no_overlap(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """The shift shares no time with any other confirmed booking of the person."""
    s = ctx.shift
    clashes = []
    for other in ctx.timeline():
        if other.new:
            continue
        shared = clash(s.start, s.end, other.start, other.end)
        if shared > timedelta(0):
            clashes.append(
                f"booking {other.booking_id} at {other.trust} ({fmt(other.start)}-{fmt(other.end)}, "
                f"{_shared(hours(shared))} in common)"
            )
    if clashes:
        return out.fail("DOUBLE_BOOKED", "overlaps " + "; ".join(clashes))
    return out.ok(f"no overlap with {len(ctx.timeline()) - 1} other booking(s)")


def _shared(h: float) -> str:
    return f"{round(h * 60)} min" if h < 1 else f"{h:.1f}".removesuffix(".0") + " h"
