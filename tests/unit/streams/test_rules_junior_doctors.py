"""2016 junior doctors' contract limits, for doctors in training only."""

import pytest

from rosterhub.streams.booking.rules.junior_doctors import (
    jd_72h_in_7_days,
    jd_consecutive_long_shifts,
    jd_consecutive_nights,
    jd_consecutive_shifts,
    jd_shift_length,
    jd_weekends,
)
from tests.unit.streams.booking_builders import MEDICAL, ctx, other, others_daily, policy, request, shift, span

REGISTRAR = request(grade="ST3_5", staff_group=MEDICAL)
JD_RULES = [
    jd_shift_length,
    jd_72h_in_7_days,
    jd_consecutive_long_shifts,
    jd_consecutive_nights,
    jd_consecutive_shifts,
    jd_weekends,
]


def run(rule, new, others=(), req=REGISTRAR, policy_=None):
    c = ctx(
        shift(*new, staff_group=MEDICAL, grade="ST3_5"), req, others=others, **({"policy_": policy_} if policy_ else {})
    )
    return rule(c)


@pytest.mark.parametrize("rule", JD_RULES, ids=lambda r: r.__name__)
def test_rules_pass_for_anyone_not_in_training(rule) -> None:
    # Seven 14 h nights would break every limit, but a consultant is not on the 2016 contract.
    nights = others_daily("2026-03-02", 6, "19:00", "09:00")
    result = run(
        rule, span("2026-03-07", "19:00", "09:00"), nights, req=request(grade="CONSULTANT", staff_group=MEDICAL)
    )
    assert result.passed and result.reason_code is None
    assert "doctors in training only; the worker's grade is CONSULTANT" in result.detail


SHIFT_LENGTH = [
    ("13 h day", span("2026-03-02", "07:00", "20:00"), None, "13 h shift (limit 13 h)"),
    ("13.5 h day", span("2026-03-02", "07:00", "20:30"), "JD_SHIFT_TOO_LONG", "13.5 h shift (limit 13 h)"),
    ("fall-back night 20:00-08:00 is 13 h", span("2026-10-24", "20:00", "08:00"), None, "13 h shift"),
    ("fall-back night 20:00-08:30 is 13.5 h", span("2026-10-24", "20:00", "08:30"), "JD_SHIFT_TOO_LONG", "13.5 h"),
    ("spring-forward night 20:00-09:30 is 12.5 h", span("2026-03-28", "20:00", "09:30"), None, "12.5 h shift"),
]


@pytest.mark.parametrize(("new", "code", "words"), [c[1:] for c in SHIFT_LENGTH], ids=[c[0] for c in SHIFT_LENGTH])
def test_shift_length(new, code, words) -> None:
    result = run(jd_shift_length, new)
    assert (result.rule, result.passed, result.reason_code) == ("jd_shift_length", code is None, code)
    assert words in result.detail


MON_FRI_12_5 = others_daily("2026-03-02", 5, "07:00", "19:30")  # 62.5 h, Mon 2 - Fri 6 Mar

HOURS_72 = [
    (
        "62.5 h + 10 h = 72.5 h",
        span("2026-03-07", "07:00", "17:00"),
        MON_FRI_12_5,
        "JD_72_HOURS_IN_7_DAYS",
        "72.5 h in the 7 days from Mon 02 Mar 07:00 (limit 72 h)",
    ),
    ("62.5 h + 9.5 h = 72 h", span("2026-03-07", "07:00", "16:30"), MON_FRI_12_5, None, "72 h in the 7 days"),
    (
        "the next Monday is outside the 7 days",
        span("2026-03-09", "07:00", "17:00"),
        MON_FRI_12_5,
        None,
        "62.5 h in the 7 days from Mon 02 Mar 17:00",
    ),
    (
        "rolling across a week boundary",
        span("2026-03-09", "07:00", "19:30"),
        others_daily("2026-03-04", 5, "07:00", "19:30"),
        "JD_72_HOURS_IN_7_DAYS",
        "75 h in the 7 days from Wed 04 Mar 07:00",
    ),
    (
        "nights crossing midnight count whole",
        span("2026-03-07", "20:00", "08:00"),
        others_daily("2026-03-02", 5, "20:00", "08:00"),
        None,
        "72 h in the 7 days from Mon 02 Mar 20:00",
    ),
    # The fall-back night is 13 h, so the same rota is 73 h.
    (
        "fall-back week: same rota, one more hour",
        span("2026-10-24", "20:00", "08:00"),
        others_daily("2026-10-19", 5, "20:00", "08:00"),
        "JD_72_HOURS_IN_7_DAYS",
        "73 h in the 7 days from Mon 19 Oct 20:00",
    ),
]


@pytest.mark.parametrize(("new", "others", "code", "words"), [c[1:] for c in HOURS_72], ids=[c[0] for c in HOURS_72])
def test_72_hours_in_7_days(new, others, code, words) -> None:
    result = run(jd_72h_in_7_days, new, others)
    assert (result.rule, result.passed, result.reason_code) == ("jd_72h_in_7_days", code is None, code), result.detail
    assert words in result.detail


LONG = [
    (
        "5th long day in a row",
        span("2026-03-06", "08:00", "20:30"),
        others_daily("2026-03-02", 4, "08:00", "20:30"),
        None,
        "5 consecutive long shifts with this one (limit 5, then 48 h rest)",
    ),
    (
        "6th long day in a row",
        span("2026-03-07", "08:00", "20:30"),
        others_daily("2026-03-02", 5, "08:00", "20:30"),
        "JD_CONSECUTIVE_LONG_SHIFTS",
        "6 consecutive long shifts from Mon 02 Mar 08:00 to Sat 07 Mar 20:30 (limit 5)",
    ),
    (
        "10 h shifts are not long",
        span("2026-03-07", "08:00", "18:00"),
        others_daily("2026-03-02", 5, "08:00", "18:00"),
        None,
        "not one of the long shifts",
    ),
    (
        "a short shift 35.5 h after five long days",
        span("2026-03-08", "07:00", "15:00"),
        others_daily("2026-03-02", 5, "07:00", "19:30"),
        "JD_REST_AFTER_LONG_SHIFTS",
        "35.5 h rest after 5 consecutive long shifts ending Fri 06 Mar 19:30 "
        "before the shift starting Sun 08 Mar 07:00 (minimum 48 h)",
    ),
    (
        "48 h after five long days",
        span("2026-03-08", "19:30", "23:00"),
        others_daily("2026-03-02", 5, "07:00", "19:30"),
        None,
        "not one of the long shifts",
    ),
    (
        "a long day inserted before an existing run of five",
        span("2026-03-01", "07:00", "19:30"),
        others_daily("2026-03-02", 5, "07:00", "19:30"),
        "JD_CONSECUTIVE_LONG_SHIFTS",
        "6 consecutive",
    ),
    # 21:00-07:00 is 10 h, but 11 h on the night the clocks go back: the sixth long shift in a row.
    (
        "fall back turns a 10 h night into a long shift",
        span("2026-10-24", "21:00", "07:00"),
        others_daily("2026-10-19", 5, "08:00", "20:30"),
        "JD_CONSECUTIVE_LONG_SHIFTS",
        "6 consecutive long shifts",
    ),
    (
        "the same night a week earlier is not long (but rest is due)",
        span("2026-10-17", "21:00", "07:00"),
        others_daily("2026-10-12", 5, "08:00", "20:30"),
        "JD_REST_AFTER_LONG_SHIFTS",
        "24.5 h rest after 5",
    ),
]

NIGHTS = [
    (
        "4th night in a row",
        span("2026-03-05", "20:00", "08:00"),
        others_daily("2026-03-02", 3, "20:00", "08:00"),
        None,
        "4 consecutive nights with this one (limit 4, then 46 h rest)",
    ),
    (
        "5th night in a row",
        span("2026-03-06", "20:00", "08:00"),
        others_daily("2026-03-02", 4, "20:00", "08:00"),
        "JD_CONSECUTIVE_NIGHTS",
        "5 consecutive nights from Mon 02 Mar 20:00 to Sat 07 Mar 08:00 (limit 4)",
    ),
    (
        "a day shift 24 h after four nights",
        span("2026-03-07", "08:00", "16:00"),
        others_daily("2026-03-02", 4, "20:00", "08:00"),
        "JD_REST_AFTER_NIGHTS",
        "24 h rest after 4 consecutive nights ending Fri 06 Mar 08:00",
    ),
    (
        "46 h after four nights",
        span("2026-03-08", "06:00", "14:00"),
        others_daily("2026-03-02", 4, "20:00", "08:00"),
        None,
        "not one of the nights",
    ),
    (
        "the spring-forward night (6 h of night time) still counts",
        span("2026-03-28", "20:00", "08:00"),
        others_daily("2026-03-24", 4, "20:00", "08:00"),
        "JD_CONSECUTIVE_NIGHTS",
        "5 consecutive nights",
    ),
    (
        "evening shifts with under 3 h of night are not nights",
        span("2026-03-06", "16:00", "01:30"),
        others_daily("2026-03-02", 4, "16:00", "01:30"),
        None,
        "not one of the nights",
    ),
]

SHIFTS = [
    (
        "8th shift in a row",
        span("2026-03-09", "09:00", "17:00"),
        others_daily("2026-03-02", 7, "09:00", "17:00"),
        None,
        "8 consecutive shifts with this one (limit 8, then 48 h rest)",
    ),
    (
        "9th shift in a row",
        span("2026-03-10", "09:00", "17:00"),
        others_daily("2026-03-02", 8, "09:00", "17:00"),
        "JD_CONSECUTIVE_SHIFTS",
        "9 consecutive shifts from Mon 02 Mar 09:00 to Tue 10 Mar 17:00 (limit 8)",
    ),
    (
        "47 h after eight shifts",
        span("2026-03-11", "16:00", "20:00"),
        others_daily("2026-03-02", 8, "09:00", "17:00"),
        "JD_REST_AFTER_SHIFTS",
        "47 h rest after 8 consecutive shifts",
    ),
    (
        "48 h after eight shifts",
        span("2026-03-11", "17:00", "21:00"),
        others_daily("2026-03-02", 8, "09:00", "17:00"),
        None,
        "1 consecutive shifts",
    ),
    (
        "a day off breaks the run",
        span("2026-03-11", "09:00", "17:00"),
        others_daily("2026-03-02", 4, "09:00", "17:00") + others_daily("2026-03-07", 4, "09:00", "17:00", prefix="q"),
        None,
        "5 consecutive shifts",
    ),
]


@pytest.mark.parametrize(
    ("rule", "new", "others", "code", "words"),
    [(jd_consecutive_long_shifts, *c[1:]) for c in LONG]
    + [(jd_consecutive_nights, *c[1:]) for c in NIGHTS]
    + [(jd_consecutive_shifts, *c[1:]) for c in SHIFTS],
    ids=[f"long: {c[0]}" for c in LONG] + [f"nights: {c[0]}" for c in NIGHTS] + [f"shifts: {c[0]}" for c in SHIFTS],
)
def test_runs(rule, new, others, code, words) -> None:
    result = run(rule, new, others)
    assert (result.rule, result.passed, result.reason_code) == (rule.__name__, code is None, code), result.detail
    assert words in result.detail


ONE_IN_THREE = policy(junior_doctors={"weekends": {"max": 1, "in": 3}})

WEEKENDS = [
    ("a weekday shift", span("2026-03-04", "08:00", "20:00"), [], None, None, "no weekend work"),
    ("one weekend alone", span("2026-03-07", "08:00", "20:00"), [], None, None, "works the weekend of Sat 07 Mar"),
    (
        "two weekends in a row",
        span("2026-03-07", "08:00", "20:00"),
        [other("b1", *span("2026-03-01", "08:00", "20:00"))],
        None,
        "JD_WEEKEND_FREQUENCY",
        "works the weekends of Sat 28 Feb, Sat 07 Mar: 2 in 2 (limit 1 in 2)",
    ),
    (
        "one in two",
        span("2026-03-07", "08:00", "20:00"),
        [other("b1", *span("2026-03-21", "08:00", "20:00"))],
        None,
        None,
        "limit 1 in 2 respected",
    ),
    (
        "a Friday night into Saturday is weekend work",
        span("2026-03-06", "20:00", "08:00"),
        [other("b1", *span("2026-02-28", "08:00", "20:00"))],
        None,
        "JD_WEEKEND_FREQUENCY",
        "Sat 07 Mar",
    ),
    (
        "a Friday evening ending at midnight is not",
        span("2026-03-06", "16:00", "00:00"),
        [other("b1", *span("2026-02-28", "08:00", "20:00"))],
        None,
        None,
        "no weekend work",
    ),
    (
        "a Sunday night into Monday belongs to that weekend",
        span("2026-03-08", "20:00", "08:00"),
        [other("b1", *span("2026-03-14", "08:00", "20:00"))],
        None,
        "JD_WEEKEND_FREQUENCY",
        "Sat 07 Mar, Sat 14 Mar",
    ),
    (
        "a Saturday night from 20:00 on the fall-back weekend",
        span("2026-10-24", "20:00", "08:00"),
        [other("b1", *span("2026-10-31", "08:00", "20:00"))],
        None,
        "JD_WEEKEND_FREQUENCY",
        "Sat 24 Oct, Sat 31 Oct",
    ),
    (
        "one in three: two weeks apart is too often",
        span("2026-03-07", "08:00", "20:00"),
        [other("b1", *span("2026-03-21", "08:00", "20:00"))],
        ONE_IN_THREE,
        "JD_WEEKEND_FREQUENCY",
        "2 in 3 (limit 1 in 3)",
    ),
    (
        "one in three: three weeks apart",
        span("2026-03-07", "08:00", "20:00"),
        [other("b1", *span("2026-03-28", "08:00", "20:00"))],
        ONE_IN_THREE,
        None,
        "limit 1 in 3 respected",
    ),
]


@pytest.mark.parametrize(
    ("new", "others", "policy_", "code", "words"), [c[1:] for c in WEEKENDS], ids=[c[0] for c in WEEKENDS]
)
def test_weekends(new, others, policy_, code, words) -> None:
    result = run(jd_weekends, new, others, policy_=policy_)
    assert (result.rule, result.passed, result.reason_code) == ("jd_weekends", code is None, code), result.detail
    assert words in result.detail
