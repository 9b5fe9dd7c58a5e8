"""The KPI processor's pure core: facts per shift, whatever order, lateness or repetition the events come in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.streams.kpi.facts import apply, reads
from rosterhub.streams.kpi.view import shift_kpi
from tests.unit.streams.kpi_builders import POLICIES, cancelled, filled, fold, local, posted, rejected, row


def test_a_posted_shift_is_demand_on_its_london_day_with_its_paid_minutes() -> None:
    r = row(fold(posted()))
    assert r["posted"] and not r["withdrawn"] and r["fill"] is None
    assert r["day"] == date(2026, 11, 10) and r["kpi_shift_type"] == "LONG_DAY" and r["day_kind"] == "WEEKDAY"
    assert r["paid_minutes"] == 12 * 60  # 12.5 h less a 30 min break
    assert r["collaborative"] == "south-yorkshire-bassetlaw" and r["host_trust"] == "RHQ" and r["site"] == "RHQ01"


def test_a_fill_carries_time_to_fill_cost_and_savings_in_pence() -> None:
    r = row(fold(posted(posted_at=local("2026-11-05", "09:00")), filled(filled_at=local("2026-11-06", "10:30"))))
    fill = r["fill"]
    assert fill["booking_id"] == "b1" and fill["membership"] == "BANK" and fill["home_trust"] == "RCU"
    assert fill["time_to_fill_s"] == (25 * 60 + 30) * 60
    assert fill["cost"] == Decimal("256.80")  # 12 h x 21.40
    assert fill["savings"] == Decimal("25.20")  # 12 h x (23.50 reference - 21.40)
    assert fill["above_cap"] == Decimal("0.00") and fill["moonlighting"] is False


def test_cost_is_rounded_half_up_per_fill() -> None:
    r = row(fold(posted(hours=7.75, break_minutes=0, rate="15.33"), filled(rate="15.33")))
    assert r["paid_minutes"] == 465 and r["fill"]["cost"] == Decimal("118.81")  # 118.8075 -> 118.81


def test_a_cancellation_after_a_fill_reverses_it_and_a_refill_counts_once() -> None:
    state = fold(posted(), filled(booking="b1"), cancelled(booking="b1", notice="30.00"))
    r = row(state)
    assert r["fill"] is None
    assert [(c["booking_id"], c["late"]) for c in r["cancellations"]] == [("b1", False)]
    refilled = row(fold(filled(booking="b2", person="p2", filled_at=local("2026-11-09", "12:00")), state=state))
    assert refilled["fill"]["booking_id"] == "b2" and len(refilled["cancellations"]) == 1


def test_late_is_less_notice_than_the_collaboratives_threshold() -> None:
    r = row(fold(posted(), filled(), cancelled(notice="23.99", by="TRUST")))
    assert r["cancellations"][0]["late"] is True and r["cancellations"][0]["cancelled_by"] == "TRUST"


def test_a_withdrawn_shift_is_not_needed_and_not_filled() -> None:
    withdrawn = ("rosterhub.shift.v1.ShiftCancelled", {"shift_id": "s1", "version": 3, "trust": {"ods_code": "RHQ"}})
    r = row(fold(posted(), filled(), withdrawn))
    assert r["withdrawn"] and r["fill"] is None


def test_a_retime_across_midnight_moves_the_shift_to_its_new_day_and_a_late_older_version_does_not() -> None:
    retimed = posted(version=2, kind="ShiftUpdated", day="2026-11-10", start="23:30", shift_type="NIGHT")
    state = fold(posted(), retimed)
    assert row(state)["day"] == date(2026, 11, 10) and row(state)["kpi_shift_type"] == "NIGHT"
    moved = fold(posted(version=3, kind="ShiftUpdated", day="2026-11-11", start="00:15"), state=state)
    assert row(moved)["day"] == date(2026, 11, 11)
    late_v2 = fold(retimed, state=moved)  # version 2 again, arriving after version 3
    assert row(late_v2)["day"] == date(2026, 11, 11) and late_v2["revision"] == moved["revision"]


def test_paid_minutes_are_real_time_across_both_clock_changes() -> None:
    spring = row(fold(posted(day="2026-03-28", start="20:00", hours=11, break_minutes=0, shift_type="NIGHT")))
    autumn = row(fold(posted(day="2026-10-24", start="20:00", hours=13, break_minutes=0, shift_type="NIGHT")))
    assert spring["paid_minutes"] == 660 and autumn["paid_minutes"] == 780  # 12 h on the rota either way
    assert spring["day_kind"] == "WEEKEND" and spring["kpi_shift_type"] == "WEEKEND"


def test_england_bank_holidays_come_from_the_calendar_package() -> None:
    boxing_observed = row(fold(posted(day="2026-12-28")))  # Monday: Boxing Day (observed)
    assert boxing_observed["day_kind"] == "BANK_HOLIDAY" and boxing_observed["kpi_shift_type"] == "BANK_HOLIDAY"
    assert row(fold(posted(day="2026-12-29")))["day_kind"] == "WEEKDAY"


def test_a_duplicate_changes_nothing_and_is_remembered_by_id() -> None:
    type_, data = filled()
    once = apply(fold(posted()), type_, data, event_id="e-1", at=data["filled_at"])
    twice = apply(once, type_, data, event_id="e-1", at=data["filled_at"])
    assert twice["revision"] == once["revision"] and "e-1" in twice["seen"]
    again = apply(twice, type_, data, event_id="e-2", at=data["filled_at"])  # same fact, another id
    assert again["revision"] == once["revision"]


def test_an_agency_fill_over_the_cap_of_a_partners_employee_is_spend_above_cap_and_moonlighting() -> None:
    agency = filled(
        membership="AGENCY",
        home=None,
        rate="30.00",
        tier="AGENCY_TIER_1",
        price_cap_rate=Decimal("23.76"),
        agency="northern-care-staffing",
        framework="CCS-RM6161",
        framework_approved=True,
        break_glass=True,
        break_glass_authoriser="RHQ-user-0042",
        substantive_employer="RFR",
    )
    fill = row(fold(posted(), agency))["fill"]
    assert fill["cost"] == Decimal("360.00") and fill["above_cap"] == Decimal("74.88")  # 12 h x 6.24
    assert fill["moonlighting"] is True and fill["break_glass_authoriser"] == "RHQ-user-0042"
    assert fill["savings"] is None  # savings are a bank fill's


def test_rejections_and_first_clearance_seen_per_person() -> None:
    r = row(fold(posted(), rejected(booking="b8"), rejected(booking="b9", codes=("GRADE_MISMATCH",))))
    assert [(x["booking_id"], x["reason_codes"]) for x in r["rejections"]] == [
        ("b8", ["SHIFT_ALREADY_FILLED"]),
        ("b9", ["GRADE_MISMATCH"]),
    ]
    assert [c["person_id"] for c in r["cleared"]] == ["p9"]


def test_a_fill_before_its_posting_is_placed_by_the_fill_then_by_the_posting() -> None:
    early = fold(filled())
    assert row(early)["host_trust"] == "RHQ" and row(early)["posted"] and row(early)["ward"] == ""
    assert row(fold(posted(), state=early))["ward"] == "Ward 3"


def test_only_the_hubs_own_booking_outcomes_are_read() -> None:
    assert reads("rosterhub.booking.v1.ShiftFilled", "/rosterhub/booking")
    assert not reads("rosterhub.booking.v1.BookingCancelled", "/vendors/patchwork/RHQ")  # the saga's input
    assert reads("rosterhub.shift.v1.ShiftPosted", "/vendors/patchwork/RHQ")
    assert not reads("rosterhub.booking.v1.BookingRequested", "/vendors/patchwork/RHQ")


def test_every_record_encodes_with_its_schema() -> None:
    codec = SingleObjectCodec(default_catalogue())
    schema = default_catalogue().get("rosterhub.kpi.v1.ShiftKpi")
    r = row(fold(posted(), filled(), cancelled(), filled(booking="b2"), rejected()))
    assert codec.decode(codec.encode(schema, r)).record["fill"]["booking_id"] == "b2"


EVENTS = [
    posted(),
    posted(version=2, kind="ShiftUpdated", start="19:30", shift_type="NIGHT"),
    (
        "rosterhub.shift.v1.ShiftReleased",
        {"shift_id": "s1", "version": 5, "trust": {"ods_code": "RHQ"}, "to_tier": "COLLABORATIVE_BANK"},
    ),
    filled(booking="b1"),
    cancelled(booking="b1"),
    filled(booking="b2", person="p2", filled_at=local("2026-11-09", "12:00")),
    rejected(booking="b3"),
    ("rosterhub.booking.v1.NoShow", {"shift_id": "s1", "booking_id": "b2"}),
]


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(len(EVENTS))), st.lists(st.integers(0, len(EVENTS) - 1), max_size=4))
def test_the_facts_do_not_depend_on_order_or_repetition(order: list[int], repeats: list[int]) -> None:
    reference = row(fold(*EVENTS))
    shuffled = row(fold(*(EVENTS[i] for i in [*order, *repeats])))
    for r in (reference, shuffled):
        r.pop("revision")
    assert shuffled == reference
    assert reference["fill"]["booking_id"] == "b2" and reference["fill"]["no_show"] is True
    assert reference["tier"] == "COLLABORATIVE_BANK" and reference["kpi_shift_type"] == "NIGHT"
    assert shift_kpi(fold(*EVENTS), POLICIES) is not None
