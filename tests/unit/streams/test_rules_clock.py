"""The rules' shared time facts: night shifts, local days and weeks, weekends, across both 2026 clock changes."""

from datetime import UTC, datetime, time, timedelta

import pytest

from rosterhub.instants import LONDON
from rosterhub.streams.booking.policy import NightPeriod
from rosterhub.streams.booking.rules.clock import (
    add_local_days,
    fmt,
    fmt_h,
    is_night,
    night_hours,
    utc,
    week_start,
    weekends_worked,
)
from tests.unit.streams.booking_builders import at, span

DEFAULT = NightPeriod()

NIGHTS = [
    # (case, shift, night period, hours in night time, is a night shift)
    ("23:00-06:00", span("2026-03-02", "23:00", "06:00"), DEFAULT, 7, True),
    ("20:00-08:00", span("2026-03-02", "20:00", "08:00"), DEFAULT, 7, True),
    ("spring-forward night 20:00-08:00", span("2026-03-28", "20:00", "08:00"), DEFAULT, 6, True),
    ("fall-back night 20:00-08:00", span("2026-10-24", "20:00", "08:00"), DEFAULT, 8, True),
    ("evening to 01:30", span("2026-03-02", "16:00", "01:30"), DEFAULT, 2.5, False),
    ("00:00-03:30 on an ordinary Sunday", span("2026-03-22", "00:00", "03:30"), DEFAULT, 3.5, True),
    ("00:00-03:30 as the clocks go forward: 2.5 real hours", span("2026-03-29", "00:00", "03:30"), DEFAULT, 2.5, False),
    ("00:00-02:30 on an ordinary Sunday", span("2026-10-18", "00:00", "02:30"), DEFAULT, 2.5, False),
    ("00:00-02:30 as the clocks go back: 3.5 real hours", span("2026-10-25", "00:00", "02:30"), DEFAULT, 3.5, True),
    ("early 05:00-13:00", span("2026-03-02", "05:00", "13:00"), DEFAULT, 1, False),
    (
        "a trust's 22:00-07:00 night time",
        span("2026-03-02", "19:00", "01:00"),
        NightPeriod(start=time(22, 0), end=time(7, 0)),
        3,
        True,
    ),
    (
        "a trust's 00:00-07:00 night time",
        span("2026-03-02", "19:00", "01:00"),
        NightPeriod(start=time(0, 0), end=time(7, 0)),
        1,
        False,
    ),
]


@pytest.mark.parametrize(("new", "night", "hours", "expected"), [c[1:] for c in NIGHTS], ids=[c[0] for c in NIGHTS])
def test_night_shifts(new, night, hours, expected) -> None:
    assert night_hours(*new, night) == pytest.approx(hours)
    assert is_night(*new, night) is expected


@pytest.mark.parametrize(
    ("start", "hours"),
    [(at("2026-03-01", "20:00"), 168), (at("2026-03-22", "20:00"), 167), (at("2026-10-18", "20:00"), 169)],
)
def test_seven_local_days_are_167_168_or_169_hours(start, hours) -> None:
    end = add_local_days(start, 7)
    assert end - utc(start) == timedelta(hours=hours)
    assert end.astimezone(LONDON).time() == start.time()  # same wall-clock time


@pytest.mark.parametrize(
    ("instant", "monday"),
    [
        (at("2026-10-25", "23:00"), "Mon 19 Oct 00:00"),  # Sunday after the clocks went back
        (at("2026-10-26", "00:00"), "Mon 26 Oct 00:00"),
        (at("2026-03-29", "12:00"), "Mon 23 Mar 00:00"),
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), "Mon 30 Mar 00:00"),  # 00:30 BST on the Monday
    ],
)
def test_weeks_start_monday_midnight_local(instant, monday) -> None:
    assert fmt(week_start(instant)) == monday


WEEKENDS = [
    ("Friday night into Saturday", span("2026-03-06", "20:00", "08:00"), ["2026-03-07"]),
    ("Friday evening to midnight", span("2026-03-06", "16:00", "00:00"), []),
    ("Friday evening to 00:01 Saturday", span("2026-03-06", "16:00", "00:01"), []),
    ("Saturday night from 20:00", span("2026-03-07", "20:00", "08:00"), ["2026-03-07"]),
    ("Sunday night into Monday", span("2026-03-08", "20:00", "08:00"), ["2026-03-07"]),
    ("Monday 00:00 start", span("2026-03-09", "00:00", "08:00"), []),
    ("the fall-back Saturday night", span("2026-10-24", "20:00", "08:00"), ["2026-10-24"]),
    ("a week of nights", (at("2026-03-06", "20:00"), at("2026-03-15", "08:00")), ["2026-03-07", "2026-03-14"]),
]


@pytest.mark.parametrize(("new", "saturdays"), [c[1:] for c in WEEKENDS], ids=[c[0] for c in WEEKENDS])
def test_weekend_is_0001_saturday_to_2359_sunday(new, saturdays) -> None:
    assert [d.isoformat() for d in weekends_worked(*new)] == saturdays


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        utc(datetime(2026, 3, 2, 7, 0))


@pytest.mark.parametrize(("value", "text"), [(72.5, "72.5 h"), (72.0, "72 h"), (9.96, "10 h"), (0.5, "0.5 h")])
def test_hours_read_as_a_person_writes_them(value, text) -> None:
    assert fmt_h(value) == text
