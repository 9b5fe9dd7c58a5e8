"""How long the person stage remembers a booking, and the pruning that keeps a busy person's state bounded.

``booking-person-state`` holds, per person, the bookings the rules look back on and which checks were answered
(the answers themselves, for redelivered checks, are in ``booking-person-answers``, keyed by booking id). Both
are dropped once their shift ended more than ``booking_person_retention_days`` ago, when the person is next
written (no scans); the agent deletes the dropped answers.

The rules only look back a bounded way from the start of the shift being checked (:func:`lookback_days`):
the WTR averages over the rolling reference period (17 weeks; a policy may say up to 52), the fortnightly rest
(14 days), the junior doctors' weekends (``in`` weekends), 72 h in 7 days, and runs of consecutive shifts
(longer runs than the limit fail either way). A booking that ended before ``start - lookback`` shares no
window with the new shift, so for every shift starting after ``now - (retention - lookback)`` the rules'
verdicts are the same with or without it. A retention shorter than the lookback of a loaded policy would change
answers for shifts in the future, so the worker refuses to start with one (:func:`check_retention`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rosterhub.errors import ConfigError
from rosterhub.streams.booking.policy import BookingPolicy, JuniorDoctorsPolicy, WorkingTimePolicy

if TYPE_CHECKING:
    from rosterhub.streams.booking.person import PersonState
    from rosterhub.streams.booking.policy import BookingPolicies

__all__ = ["DAY_MS", "check_retention", "lookback_days", "minimum_retention_days", "prune"]

DAY_MS = 24 * 3600 * 1000
#: Local days are 23 or 25 h across a clock change; a day's margin covers any number of them in a window.
_CLOCK_CHANGE_MARGIN_DAYS = 1


def lookback_days(working_time: WorkingTimePolicy, junior_doctors: JuniorDoctorsPolicy) -> int:
    """How many days before a new shift's start a booking's end can still change a rule's verdict."""
    runs = (
        junior_doctors.consecutive_long_shifts,
        junior_doctors.consecutive_nights,
        junior_doctors.consecutive_shifts,
    )
    reach = [
        7 * working_time.reference_weeks,  # wtr_weekly_average, wtr_night_average: rolling windows
        14,  # wtr_weekly_rest: the fortnight the shift's week falls in
        7 * junior_doctors.weekends.in_,  # jd_weekends: the `in` consecutive weekends around the shift's
        7,  # jd_72h_in_7_days
        *(max(r.max, r.rest_from) + 2 + int(r.rest_hours // 24) for r in runs),  # a run long enough to count
    ]
    return max(reach) + _CLOCK_CHANGE_MARGIN_DAYS


def _policy_lookback(policy: BookingPolicy) -> int:
    return lookback_days(policy.working_time, policy.junior_doctors)


def minimum_retention_days(policies: BookingPolicies) -> tuple[int, str]:
    """The largest lookback of the loaded policies (the defaults' when none), and the trust that needs it."""
    needs = [(_policy_lookback(p), trust) for trust, p in sorted(policies.trusts.items())]
    return max(needs, default=(lookback_days(WorkingTimePolicy(), JuniorDoctorsPolicy()), "the default policy"))


def check_retention(days: int, policies: BookingPolicies) -> None:
    """Refuse a retention that would forget bookings a loaded policy's rules still look back on."""
    minimum, trust = minimum_retention_days(policies)
    if days < minimum:
        raise ConfigError(
            f"booking_person_retention_days={days} is too short: the booking rules of {trust} look back "
            f"{minimum} days from a shift's start (WTR reference period, weekends, runs of shifts); "
            f"set ROSTERHUB_BOOKING_PERSON_RETENTION_DAYS to at least {minimum}",
            setting="booking_person_retention_days",
            value=days,
            minimum=minimum,
            trust=trust,
        )


def prune(state: PersonState, *, now_ms: int, retention_days: int) -> PersonState:
    """Drop bookings, and answered ids (the agent drops their answers), whose shift ended more than ``retention_days``
    before ``now_ms``.

    An answer stored before answers carried their shift's end (no entry in ``ends``) is given ``now_ms`` as its
    end here, so it goes one retention later instead of staying for ever.
    """
    cutoff = now_ms - retention_days * DAY_MS
    bookings = {b: v for b, v in state.bookings.items() if v["end"] >= cutoff}
    answered = [*state.ends, *(b for b in state.answers if b not in state.ends)]
    ends = {b: state.ends.get(b, state.bookings.get(b, {}).get("end", now_ms)) for b in answered}
    ends = {b: e for b, e in ends.items() if e >= cutoff}
    answers = {b: a for b, a in state.answers.items() if b in ends}
    if bookings == state.bookings and answers == state.answers and ends == state.ends:
        return state
    return replace(state, bookings=bookings, answers=answers, ends=ends)
