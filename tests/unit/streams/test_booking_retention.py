"""The person stage's retention: old bookings and answers go, and the rules answer as before for what stays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.errors import ConfigError
from rosterhub.streams.booking import person, retention
from rosterhub.streams.booking.messages import Check
from rosterhub.streams.booking.policy import (
    BookingPolicies,
    JuniorDoctorsPolicy,
    WorkingTimePolicy,
    load_booking_policies,
)
from rosterhub.streams.booking.retention import DAY_MS
from rosterhub.streams.booking.rules import Clearance
from rosterhub.streams.booking.state import to_ms
from tests.unit.streams.booking_builders import POLICY

NEW_START = datetime(2026, 10, 24, 19, 0, tzinfo=UTC)  # the night of the October clock change
HOUR_MS = 3600 * 1000


def _check(booking: str, start_ms: int, hours: int, grade: str) -> Check:
    shift = {
        "shift_id": "s-" + booking,
        "version": 1,
        "trust": POLICY.trust,
        "staff_group": "MEDICAL_DENTAL",
        "grade": grade,
        "start": start_ms,
        "end": start_ms + hours * HOUR_MS,
        "tier": "OWN_BANK",
        "rate": None,
        "shift_type": "OTHER",
        "status": "open",
        "filled_by": None,
    }
    extra = {"membership": "BANK", "grade": grade, "staff_group": "MEDICAL_DENTAL", "home_trust": POLICY.trust}
    return Check.from_wire(
        {
            "kind": "check",
            "booking_id": booking,
            "shift_id": shift["shift_id"],
            "person_id": "p1",
            "shift": shift,
            "request": {"vendor": "patchwork", "extra": extra},
            "shift_results": [],
        }
    )


def _state(bookings: list[tuple[int, int]]) -> person.PersonState:
    """Bookings as (start ms, hours), recorded as the person stage records them."""
    return person.PersonState(
        "p1",
        {
            f"o{i}": {"trust": POLICY.trust, "shift": f"s-o{i}", "start": s, "end": s + h * HOUR_MS, "v": 1}
            for i, (s, h) in enumerate(bookings)
        },
    )


def _verdicts(state: person.PersonState, msg: Check) -> list[tuple[str, bool, str | None]]:
    _, out = person.check(state, msg, clearance=Clearance(cleared=True), policy=POLICY)
    return [(r["rule"], r["passed"], r["reason_code"]) for r in out.results]


def test_the_default_policy_needs_the_17_week_reference_period_and_a_day() -> None:
    assert retention.lookback_days(WorkingTimePolicy(), JuniorDoctorsPolicy()) == 17 * 7 + 1
    assert retention.minimum_retention_days(BookingPolicies({})) == (120, "the default policy")


def test_a_retention_shorter_than_a_loaded_policy_needs_is_refused_naming_the_minimum() -> None:
    policies = load_booking_policies([Path("policies/booking")])
    retention.check_retention(210, policies)  # the default setting covers RFR's 26-week reference period
    with pytest.raises(ConfigError, match=r"RFR look back 183 days.*at least 183") as err:
        retention.check_retention(182, policies)
    assert err.value.context["setting"] == "booking_person_retention_days"


def test_old_bookings_and_answers_go_recent_ones_stay() -> None:
    now = to_ms(NEW_START)
    old = _check("old", now - 300 * DAY_MS, 8, "BAND_5")
    recent = _check("new", now + DAY_MS, 8, "BAND_5")
    state, _ = person.check(person.PersonState("p1"), old, clearance=Clearance(cleared=True), policy=POLICY)
    state, _ = person.check(state, recent, clearance=Clearance(cleared=True), policy=POLICY)
    assert set(state.bookings) == set(state.ends) == {"old", "new"} and state.answers == {}  # answers: the agent's
    pruned = retention.prune(state, now_ms=now, retention_days=210)
    assert set(pruned.bookings) == set(pruned.ends) == {"new"}
    assert retention.prune(pruned, now_ms=now, retention_days=210) is pruned  # nothing more to drop: no rewrite
    assert person.PersonState.from_table("p1", pruned.to_table()) == pruned


def test_an_answer_stored_without_its_shifts_end_goes_one_retention_after_it_is_first_pruned() -> None:
    now = to_ms(NEW_START)
    legacy = person.PersonState("p1", answers={"x": {"kind": "answer"}})
    dated = retention.prune(legacy, now_ms=now, retention_days=120)
    assert dated.ends == {"x": now} and "x" in dated.answers
    assert retention.prune(dated, now_ms=now + 121 * DAY_MS, retention_days=120).answers == {}


BOOKINGS = st.lists(st.tuples(st.integers(-200 * 24, 30 * 24), st.sampled_from([4, 8, 10, 12, 13])), max_size=25)


@settings(max_examples=120, deadline=None)
@given(
    bookings=BOOKINGS,
    grade=st.sampled_from(["FY1", "ST3_5", "BAND_5"]),
    hours=st.sampled_from([8, 12, 13]),
    ahead_days=st.integers(0, 60),
)
def test_every_rule_answers_the_same_after_pruning_for_a_shift_inside_the_window(
    bookings: list[tuple[int, int]], grade: str, hours: int, ahead_days: int
) -> None:
    """The new shift starts now or later; pruning at the minimum retention keeps every verdict (rule, pass/fail,
    reason code), over bookings up to 200 days back (many of them pruned), across clock changes."""
    new_start = to_ms(NEW_START) + ahead_days * DAY_MS
    now = to_ms(NEW_START)
    state = _state([(new_start + h * HOUR_MS, d) for h, d in bookings])
    days, _ = retention.minimum_retention_days(BookingPolicies({POLICY.trust: POLICY}))
    pruned = retention.prune(state, now_ms=now, retention_days=days)
    msg = _check("b-new", new_start, hours, grade)
    assert _verdicts(pruned, msg) == _verdicts(state, msg)
    assert all(v["end"] >= now - days * DAY_MS for v in pruned.bookings.values())
