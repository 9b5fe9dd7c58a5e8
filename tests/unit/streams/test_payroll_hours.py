"""Paid time split exactly on instants (Europe/London): midnights, the night window, clock changes, bank holidays."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rosterhub.instants import LONDON
from rosterhub.streams.payroll.hours import bank_holiday, hours, paid_segments, split
from rosterhub.streams.payroll.policy import NightWindow

NIGHT = NightWindow(start=time(20, 0), end=time(6, 0))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def _seconds(segments) -> int:  # type: ignore[no-untyped-def]
    return sum(s.seconds for s in segments)


def test_a_night_across_midnight_is_cut_at_midnight_and_at_the_night_edges() -> None:
    pieces = split(at("2026-03-24 18:00"), at("2026-03-25 08:00"), NIGHT)
    local = [(p.start.astimezone(LONDON).strftime("%d %H:%M"), p.night) for p in pieces]
    assert local == [("24 18:00", False), ("24 20:00", True), ("25 00:00", True), ("25 06:00", False)]
    assert [p.local_date for p in pieces] == [date(2026, 3, 24)] * 2 + [date(2026, 3, 25)] * 2


def test_the_night_the_clocks_go_forward_is_11_hours_and_back_13() -> None:
    spring = split(at("2026-03-28 20:00"), at("2026-03-29 08:00"), NIGHT)
    autumn = split(at("2026-10-24 20:00"), at("2026-10-25 08:00"), NIGHT)
    assert _seconds(spring) == 11 * 3600 and _seconds(autumn) == 13 * 3600
    # night hours are real hours: 20:00-06:00 on the wall clock is 9 h in spring and 11 h in autumn
    assert sum(p.seconds for p in spring if p.night) == 9 * 3600
    assert sum(p.seconds for p in autumn if p.night) == 11 * 3600


def test_the_break_comes_out_of_the_middle_of_the_shift() -> None:
    pieces = paid_segments(at("2026-03-24 20:00"), at("2026-03-25 08:00"), 60, NIGHT)
    assert _seconds(pieces) == 11 * 3600
    assert sum(p.seconds for p in pieces if p.night) == 9 * 3600  # the break at 01:30-02:30 was night time
    gap = [b.start - a.end for a, b in itertools.pairwise(pieces) if b.start != a.end]
    assert gap == [timedelta(hours=1)]


def test_bank_holidays_come_from_the_calendar_including_substitute_days() -> None:
    assert bank_holiday(date(2026, 12, 25)) and bank_holiday(date(2026, 4, 6))  # Christmas, Easter Monday
    assert bank_holiday(date(2026, 12, 28))  # Boxing Day falls on a Saturday: the Monday is the bank holiday
    assert bank_holiday(date(2027, 5, 3)) and not bank_holiday(date(2026, 3, 17))  # early May; not St Patrick's


def test_hours_round_half_up_to_two_places() -> None:
    assert str(hours(37 * 60 + 30)) == "0.63" and str(hours(3 * 3600)) == "3.00"


@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2031, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(min_value=1, max_value=24 * 60),
    brk=st.integers(min_value=0, max_value=120),
)
def test_pieces_tile_the_shift_exactly_less_the_break(start: datetime, minutes: int, brk: int) -> None:
    start = start.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=minutes)
    pieces = split(start, end, NIGHT)
    assert pieces[0].start == start and pieces[-1].end == end
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
    assert _seconds(pieces) == minutes * 60
    for p in pieces:  # one local date and one side of the night each
        assert p.end.astimezone(LONDON).date() == p.local_date or p.end.astimezone(LONDON).time() == time(0)
    paid = paid_segments(start, end, brk, NIGHT)
    assert _seconds(paid) == max(0, minutes - brk) * 60
