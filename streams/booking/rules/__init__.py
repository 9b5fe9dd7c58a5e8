"""Booking rules: pure, configurable functions of a :class:`RuleContext`, one module per family.

Each rule returns a :class:`RuleResult` whether it passes or not, so a decision shows
every reason (``rosterhub explain``). A rule is one :class:`BookingRule` its module declares
with :func:`rule` (:mod:`.registry`), and makes its results with the :class:`Outcomes` the
registry binds to it; :func:`evaluate` runs the enabled rules in the
documented order; reason codes are stable and listed in docs/booking.md.

``shift_open(state, booking_id)`` keeps its original signature for the booking processor
(:mod:`rosterhub.streams.booking.decide`), which checks it before a context can be built.
"""

from rosterhub.streams.booking.rules.context import BookingRequest, Employment, OtherBooking, RuleContext, ShiftSpec
from rosterhub.streams.booking.rules.engine import evaluate, failed_codes, reason_codes, run
from rosterhub.streams.booking.rules.explain import explain, explain_decision
from rosterhub.streams.booking.rules.passport import Clearance
from rosterhub.streams.booking.rules.registry import PERSON, SHIFT, BookingRule, Section, rule, rule_ids, rules, stage
from rosterhub.streams.booking.rules.result import Outcomes, RuleResult
from rosterhub.streams.booking.rules.visibility import shift_open

__all__ = [
    "PERSON",
    "SHIFT",
    "BookingRequest",
    "BookingRule",
    "Clearance",
    "Employment",
    "OtherBooking",
    "Outcomes",
    "RuleContext",
    "RuleResult",
    "Section",
    "ShiftSpec",
    "evaluate",
    "explain",
    "explain_decision",
    "failed_codes",
    "reason_codes",
    "rule",
    "rule_ids",
    "rules",
    "run",
    "shift_open",
    "stage",
]
