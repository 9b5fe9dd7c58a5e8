"""Working Time Regulations: daily rest, weekly rest, the 48 h average week and night workers' average."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.streams.booking.rules.junior_doctors import jd_72h_in_7_days
from rosterhub.streams.booking.rules.working_time import (
    wtr_daily_rest,
    wtr_night_average,
    wtr_weekly_average,
    wtr_weekly_rest,
)
from tests.unit.streams.booking_builders import ctx, other, others_daily, policy, request, shift, span

NO_FORTNIGHT = policy(working_time={"allow_fortnightly_rest": False})

DAILY_REST = [
    # (case, new shift, others, policy, expected code, words in the detail)
    ("nothing else booked", span("2026-03-03", "07:00", "19:00"), [], None, None, "no other booking"),
    (
        "9.5 h after a late finish",
        span("2026-03-03", "07:00", "19:00"),
        [other("b1", *span("2026-03-02", "08:00", "21:30"))],
        None,
        "WTR_DAILY_REST",
        "9.5 h rest between booking b1 ending Mon 02 Mar 21:30 and this shift starting Tue 03 Mar 07:00 (minimum 11 h)",
    ),
    (
        "exactly 11 h passes",
        span("2026-03-03", "07:00", "19:00"),
        [other("b1", *span("2026-03-02", "08:00", "20:00"))],
        None,
        None,
        "11 h rest",
    ),
    (
        "10 h before the next booking",
        span("2026-03-02", "08:00", "20:00"),
        [other("b1", *span("2026-03-03", "06:00", "14:00"))],
        None,
        "WTR_DAILY_REST",
        "this shift ending Mon 02 Mar 20:00 and booking b1 starting Tue 03 Mar 06:00",
    ),
    (
        "after a night that crossed midnight: 10 h",
        span("2026-03-03", "18:00", "23:00"),
        [other("n1", *span("2026-03-02", "20:00", "08:00"))],
        None,
        "WTR_DAILY_REST",
        "10 h rest",
    ),
    (
        "after a night that crossed midnight: 11 h",
        span("2026-03-03", "19:00", "23:00"),
        [other("n1", *span("2026-03-02", "20:00", "08:00"))],
        None,
        None,
        "11 h rest",
    ),
    # 25 Oct 2026: 22:00 BST -> 08:00 GMT is 11 real hours (10 on the wall clock).
    (
        "fall back: 11 real hours",
        span("2026-10-25", "08:00", "20:00"),
        [other("b1", *span("2026-10-24", "10:00", "22:00"))],
        None,
        None,
        "11 h rest",
    ),
    (
        "fall back: 10.5 real hours",
        span("2026-10-25", "07:30", "20:00"),
        [other("b1", *span("2026-10-24", "10:00", "22:00"))],
        None,
        "WTR_DAILY_REST",
        "10.5 h rest",
    ),
    # 29 Mar 2026: 21:00 GMT -> 08:30 BST is 10.5 real hours (11.5 on the wall clock).
    (
        "spring forward: 10.5 real hours",
        span("2026-03-29", "08:30", "20:00"),
        [other("b1", *span("2026-03-28", "10:00", "21:00"))],
        None,
        "WTR_DAILY_REST",
        "10.5 h rest",
    ),
    (
        "spring forward: 11 real hours",
        span("2026-03-29", "09:00", "20:00"),
        [other("b1", *span("2026-03-28", "10:00", "21:00"))],
        None,
        None,
        "11 h rest",
    ),
    (
        "an overlap is no_overlap's business",
        span("2026-03-03", "07:00", "19:00"),
        [other("b1", *span("2026-03-03", "12:00", "22:00"))],
        None,
        None,
        "no other booking",
    ),
    (
        "a trust asking 12 h",
        span("2026-03-03", "07:00", "19:00"),
        [other("b1", *span("2026-03-02", "08:00", "20:00"))],
        policy(working_time={"daily_rest_hours": 12}),
        "WTR_DAILY_REST",
        "(minimum 12 h)",
    ),
]

WEEK_OF_DAYS = others_daily("2026-03-02", 6, "08:00", "20:00")  # Mon 2 - Sat 7 Mar, 12 h days
WEEK_BEFORE = others_daily("2026-02-23", 7, "08:00", "20:00", prefix="p")  # Mon 23 Feb - Sun 1 Mar

WEEKLY_REST = [
    (
        "seven 12 h days, weekly rule only",
        span("2026-03-08", "08:00", "20:00"),
        WEEK_OF_DAYS,
        NO_FORTNIGHT,
        "WTR_WEEKLY_REST",
        "longest rest in the week from Mon 02 Mar 00:00 is 12 h (minimum 24 h)",
    ),
    (
        "seven 12 h days, the fortnight had its 48 h",
        span("2026-03-08", "08:00", "20:00"),
        WEEK_OF_DAYS,
        None,
        None,
        "but the fortnight has its 48 h",
    ),
    (
        "fourteen 12 h days",
        span("2026-03-08", "08:00", "20:00"),
        WEEK_OF_DAYS + WEEK_BEFORE,
        None,
        "WTR_WEEKLY_REST",
        "longest rest in the fortnight from Mon 23 Feb 00:00 is 12 h",
    ),
    ("Sunday off", span("2026-03-07", "08:00", "20:00"), WEEK_OF_DAYS[:5], NO_FORTNIGHT, None, "is 28 h"),
    # A Sunday night into Monday belongs to both weeks; the second week is the short one.
    (
        "night across the week boundary leaves 22 h",
        span("2026-03-08", "22:00", "10:00"),
        others_daily("2026-03-10", 6, "08:00", "20:00"),
        NO_FORTNIGHT,
        "WTR_WEEKLY_REST",
        "week from Mon 09 Mar 00:00 is 22 h",
    ),
    (
        "night across the week boundary leaves 24 h",
        span("2026-03-08", "20:00", "08:00"),
        others_daily("2026-03-10", 6, "08:00", "20:00"),
        NO_FORTNIGHT,
        None,
        "24 h",
    ),
    # Sat 24 Oct 20:00 BST -> Sun 25 Oct 19:30 GMT: 23.5 h on the wall clock, 24.5 h of real rest.
    (
        "fall-back week: 24.5 real hours",
        span("2026-10-25", "19:30", "07:30"),
        others_daily("2026-10-19", 6, "08:00", "20:00"),
        NO_FORTNIGHT,
        None,
        "24.5 h",
    ),
    # Sat 28 Mar 20:00 GMT -> Sun 29 Mar 20:30 BST: 24.5 h on the wall clock, 23.5 h of real rest.
    (
        "spring-forward week: 23.5 real hours",
        span("2026-03-29", "20:30", "08:30"),
        others_daily("2026-03-23", 6, "08:00", "20:00"),
        NO_FORTNIGHT,
        "WTR_WEEKLY_REST",
        "week from Mon 23 Mar 00:00 is 23.5 h",
    ),
]


@pytest.mark.parametrize(
    ("new", "others", "policy_", "code", "words"), [c[1:] for c in DAILY_REST], ids=[c[0] for c in DAILY_REST]
)
def test_daily_rest(new, others, policy_, code, words) -> None:
    result = wtr_daily_rest(ctx(shift(*new), others=others, **({"policy_": policy_} if policy_ else {})))
    assert (result.rule, result.passed, result.reason_code) == ("wtr_daily_rest", code is None, code), result.detail
    assert words in result.detail


@pytest.mark.parametrize(
    ("new", "others", "policy_", "code", "words"), [c[1:] for c in WEEKLY_REST], ids=[c[0] for c in WEEKLY_REST]
)
def test_weekly_rest(new, others, policy_, code, words) -> None:
    result = wtr_weekly_rest(ctx(shift(*new), others=others, **({"policy_": policy_} if policy_ else {})))
    assert (result.rule, result.passed, result.reason_code) == ("wtr_weekly_rest", code is None, code), result.detail
    assert words in result.detail


def weekly_pattern(first_monday: str, weeks: int, weekdays: tuple[int, ...], start: str, end: str) -> list:
    """Bookings on the given weekdays (0 = Monday) of ``weeks`` weeks, same wall-clock times each time."""
    monday = date.fromisoformat(first_monday)
    days = [monday + timedelta(weeks=w, days=d) for w in range(weeks) for d in weekdays]
    return [other(f"w{d.isoformat()}", *span(d.isoformat(), start, end)) for d in days]


def pattern_case(first_monday, weekdays, start, end, new_day):
    """(new shift, others): 17 weeks of the pattern; the new shift is the pattern's shift on ``new_day``."""
    booked = weekly_pattern(first_monday, 17, weekdays, start, end)
    return span(new_day, start, end), [o for o in booked if o.booking_id != f"w{new_day}"]


DAYS_48 = pattern_case("2026-01-05", (0, 1, 3, 4), "08:00", "20:00", "2026-03-05")  # 4 x 12 h a week
DAYS_50 = pattern_case("2026-01-05", (0, 1, 3, 4), "08:00", "20:30", "2026-03-05")  # 4 x 12.5 h a week
NIGHTS_50 = pattern_case("2026-01-05", (0, 1, 3, 4), "20:00", "08:30", "2026-03-05")
NIGHTS_48 = pattern_case("2026-01-05", (0, 1, 3, 4), "20:00", "08:00", "2026-03-05")
# Four 12 h nights a week, Saturday's on 24 Oct 2026 is 13 real hours: 817 h in 17 weeks.
NIGHTS_FALL_BACK = pattern_case("2026-09-07", (0, 1, 4, 5), "20:00", "08:00", "2026-10-24")

OPTED_OUT = request(wtr_opt_out=True)

WEEKLY_AVERAGE = [
    (
        "48 h a week for 17 weeks",
        DAYS_48,
        None,
        None,
        None,
        "48 h average week over the 17 weeks from Mon 05 Jan 08:00 (816 h worked; limit 48 h)",
    ),
    (
        "50 h a week for 17 weeks",
        DAYS_50,
        None,
        None,
        "WTR_WEEKLY_AVERAGE",
        "50 h average week over the 17 weeks from Mon 05 Jan 08:00 (850 h worked; limit 48 h)",
    ),
    (
        "50 h a week, opted out: passes, reliance recorded",
        DAYS_50,
        OPTED_OUT,
        None,
        "WTR_OPTED_OUT",
        "opted out of the 48 h average week: 50 h average",
    ),
    ("48 h a week, opt-out on record but not needed", DAYS_48, OPTED_OUT, None, None, "opt-out on record, not needed"),
    (
        "50 h a week for 17 weeks, 26-week reference period",
        DAYS_50,
        None,
        policy(working_time={"reference_weeks": 26}),
        None,
        "32.7 h average week over the 26 weeks",
    ),
    ("fall-back night makes 817 h", NIGHTS_FALL_BACK, None, None, "WTR_WEEKLY_AVERAGE", "817 h worked"),
]

NIGHT_AVERAGE = [
    ("day worker, 50 h a week", DAYS_50, None, None, None, "not a night worker"),
    (
        "night worker, 816 h over 102 days",
        NIGHTS_48,
        None,
        None,
        None,
        "night worker: 8 h per 24 h over the 17 weeks from Mon 05 Jan 20:00 (816 h over 102 working days; limit 8 h)",
    ),
    ("night worker, 850 h", NIGHTS_50, None, None, "WTR_NIGHT_AVERAGE", "8.3 h per 24 h"),
    ("night worker, 850 h, the opt-out does not help", NIGHTS_50, OPTED_OUT, None, "WTR_NIGHT_AVERAGE", "850 h"),
    ("fall-back night makes 817 h", NIGHTS_FALL_BACK, None, None, "WTR_NIGHT_AVERAGE", "817 h over 102"),
    (
        "a trust counting night workers from 100 nights",
        NIGHTS_50,
        None,
        policy(working_time={"night_worker_min_nights": 100}),
        None,
        "fewer than 100 night shifts",
    ),
]


@pytest.mark.parametrize(
    ("case", "req", "policy_", "code", "words"), [c[1:] for c in WEEKLY_AVERAGE], ids=[c[0] for c in WEEKLY_AVERAGE]
)
def test_weekly_average(case, req, policy_, code, words) -> None:
    (new, others) = case
    c = ctx(shift(*new), req, others=others, **({"policy_": policy_} if policy_ else {}))
    result = wtr_weekly_average(c)
    assert (result.rule, result.passed, result.reason_code) == (
        "wtr_weekly_average",
        code != "WTR_WEEKLY_AVERAGE",
        code,
    ), result.detail
    assert words in result.detail


@pytest.mark.parametrize(
    ("case", "req", "policy_", "code", "words"), [c[1:] for c in NIGHT_AVERAGE], ids=[c[0] for c in NIGHT_AVERAGE]
)
def test_night_average(case, req, policy_, code, words) -> None:
    (new, others) = case
    result = wtr_night_average(ctx(shift(*new), req, others=others, **({"policy_": policy_} if policy_ else {})))
    assert (result.rule, result.passed, result.reason_code) == ("wtr_night_average", code is None, code), result.detail
    assert words in result.detail


# Property: booking more never makes a failing check pass (the rules look only at the worst case).
# Limits are tightened so that random rotas fail each check often enough to test the property.
_minute = st.integers(min_value=0, max_value=365 * 24 * 60)
_start = _minute.map(lambda m: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=m))
_offset = st.integers(min_value=-5 * 24 * 60, max_value=5 * 24 * 60)
_near = st.tuples(_offset, st.integers(min_value=60, max_value=14 * 60))
TIGHT = policy(
    working_time={
        "reference_weeks": 1,
        "average_weekly_hours": 30,
        "night_average_hours": 4,
        "weekly_rest_hours": 60,
        "fortnightly_rest_hours": 120,
    },
    junior_doctors={"training_grades": ["BAND_5"], "max_hours_in_7_days": 40},
)
CHECKS = [wtr_daily_rest, wtr_weekly_rest, wtr_weekly_average, wtr_night_average, jd_72h_in_7_days]


@settings(max_examples=200, deadline=None)
@given(_start, st.integers(min_value=60, max_value=13 * 60), st.lists(_near, max_size=10), _near)
def test_adding_a_booking_never_turns_a_failure_into_a_pass(start, minutes, near, extra) -> None:
    new = (start, start + timedelta(minutes=minutes))

    def booking(i, offset, length):
        s = start + timedelta(minutes=offset)
        return other(f"o{i}", s, s + timedelta(minutes=length))

    booked = [booking(i, *n) for i, n in enumerate(near)]
    before = ctx(shift(*new), others=booked, policy_=TIGHT)
    after = ctx(shift(*new), others=[*booked, booking("x", *extra)], policy_=TIGHT)
    for check in CHECKS:
        if not check(before).passed:
            assert not check(after).passed, check.__name__
