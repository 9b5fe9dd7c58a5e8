"""Reason codes of the checks the booking saga makes before any rule can run.

They are not rules (no policy switches them off, and they need no context): the shift
stage cannot build a :class:`~.context.RuleContext` without a person, the worker's grade and
staff group, or the host trust's policy. A request failing one is refused with the code
and a detail naming what is missing (docs/booking.md, "Reason codes"). ``PERSON_CHECK_TIMEOUT``
is the saga's own failure: a held shift whose person check was never answered is freed.
"""

from __future__ import annotations

__all__ = ["CODES"]

CODES: dict[str, str] = {
    "WORKER_UNKNOWN": "identity resolution could not name one person from the request's identifiers",
    "REQUEST_INCOMPLETE": "the request lacks what the rules need (the worker's grade or staff group)",
    "NO_BOOKING_POLICY": "the host trust has no booking policy file",
    "PERSON_CHECK_TIMEOUT": "the person check got no answer within booking_hold_timeout_s; the shift was freed",
}
