"""no_overlap: one person, one place at a time, measured in real time across clock changes."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rosterhub.streams.booking.rules.overlap import clash, no_overlap
from tests.unit.streams.booking_builders import at, ctx, other, shift, span

NEW_NIGHT = span("2026-03-02", "20:00", "08:00")  # Mon 20:00 -> Tue 08:00, crosses midnight

CASES = [
    # (case, new shift, other bookings, expected code, words in the detail)
    ("nothing else booked", NEW_NIGHT, [], None, "0 other"),
    (
        "back to back is not an overlap",
        NEW_NIGHT,
        [other("b1", *span("2026-03-02", "12:00", "20:00"))],
        None,
        "1 other",
    ),
    (
        "night into a morning shift at another trust",
        NEW_NIGHT,
        [other("b1", *span("2026-03-03", "07:30", "15:00"), trust="RCU")],
        "DOUBLE_BOOKED",
        "booking b1 at RCU (Tue 03 Mar 07:30-Tue 03 Mar 15:00, 30 min in common)",
    ),
    (
        "shift inside another",
        NEW_NIGHT,
        [other("b1", *span("2026-03-02", "18:00", "09:00"))],
        "DOUBLE_BOOKED",
        "12 h in common",
    ),
    (
        "two clashes are both named",
        NEW_NIGHT,
        [other("b1", *span("2026-03-02", "19:00", "21:00")), other("b2", *span("2026-03-03", "06:00", "10:00"))],
        "DOUBLE_BOOKED",
        "booking b2",
    ),
    ("the request itself, redelivered, is not a clash", NEW_NIGHT, [other("b-new", *NEW_NIGHT)], None, "0 other"),
    # Spring forward, 29 Mar 2026: 20:00 GMT -> 08:00 BST is 11 h; a 07:00 BST start shares 1 h.
    (
        "spring-forward night and a 07:00 start",
        span("2026-03-28", "20:00", "08:00"),
        [other("b1", *span("2026-03-29", "07:00", "15:00"))],
        "DOUBLE_BOOKED",
        "1 h in common",
    ),
    # Fall back, 25 Oct 2026: 01:15 happens twice. First 01:30 (BST) ends before the second 01:15 (GMT) starts.
    (
        "fall back: wall clock overlaps, real time does not",
        (at("2026-10-25", "01:15", fold=1), at("2026-10-25", "09:00")),
        [other("b1", at("2026-10-24", "17:00"), at("2026-10-25", "01:30"))],
        None,
        "1 other",
    ),
    # ...and a shift ending at the second 01:30 (GMT) clashes with one starting at the first 01:45 (BST).
    (
        "fall back: wall clock apart, real time overlaps",
        (at("2026-10-25", "01:45"), at("2026-10-25", "09:00")),
        [other("b1", at("2026-10-24", "20:00"), at("2026-10-25", "01:30", fold=1))],
        "DOUBLE_BOOKED",
        "45 min",
    ),
]


@pytest.mark.parametrize(("new", "others", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_no_overlap(new, others, code, words) -> None:
    result = no_overlap(ctx(shift(*new), others=others))
    assert result.rule == "no_overlap"
    assert (result.passed, result.reason_code) == (code is None, code), result.detail
    assert words in result.detail


# Instants either side of both 2026 clock changes, to the minute.
_instants = st.integers(min_value=0, max_value=365 * 24 * 60).map(
    lambda m: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=m)
)
_lengths = st.integers(min_value=15, max_value=14 * 60).map(lambda m: timedelta(minutes=m))


@given(_instants, _lengths, _instants, _lengths)
def test_overlap_is_symmetric(a0, alen, b0, blen) -> None:
    assert clash(a0, a0 + alen, b0, b0 + blen) == clash(b0, b0 + blen, a0, a0 + alen)
    one = no_overlap(ctx(shift(a0, a0 + alen), others=[other("b", b0, b0 + blen)]))
    two = no_overlap(ctx(shift(b0, b0 + blen), others=[other("a", a0, a0 + alen)]))
    assert one.passed == two.passed


@given(_instants, _lengths, st.lists(st.tuples(_instants, _lengths), max_size=6), st.tuples(_instants, _lengths))
def test_another_booking_never_clears_a_clash(start, length, others, extra) -> None:
    booked = [other(f"o{i}", s, s + d) for i, (s, d) in enumerate(others)]
    before = no_overlap(ctx(shift(start, start + length), others=booked))
    after = no_overlap(ctx(shift(start, start + length), others=[*booked, other("x", extra[0], extra[0] + extra[1])]))
    assert before.passed or not after.passed
