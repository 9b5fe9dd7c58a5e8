"""Booking rules: pure, configurable functions of a :class:`RuleContext`, one module per family.

Each rule returns a :class:`RuleResult` whether it passes or not, so a decision shows
every reason (``rosterhub explain``). :func:`evaluate` runs the enabled rules in the
documented order; reason codes are stable and listed in docs/booking.md.

``shift_open(state, booking_id)`` keeps its original signature for the booking processor
(:mod:`rosterhub.streams.booking.decide`), which checks it before a context can be built.
"""

from rosterhub.streams.booking.rules.context import BookingRequest, Employment, OtherBooking, RuleContext, ShiftSpec
from rosterhub.streams.booking.rules.engine import REASON_CODES, RULES, evaluate, failed_codes
from rosterhub.streams.booking.rules.explain import explain, explain_decision
from rosterhub.streams.booking.rules.passport import Clearance
from rosterhub.streams.booking.rules.result import RuleResult
from rosterhub.streams.booking.rules.visibility import shift_open

__all__ = [
    "REASON_CODES",
    "RULES",
    "BookingRequest",
    "Clearance",
    "Employment",
    "OtherBooking",
    "RuleContext",
    "RuleResult",
    "ShiftSpec",
    "evaluate",
    "explain",
    "explain_decision",
    "failed_codes",
    "shift_open",
]
