"""The working-time windows against their definition: on random timelines (overlapping shifts, nights, both clock
changes) :func:`windows` gives exactly the windows, hours and night counts of summing every shift for every
candidate, the way it was computed before running totals replaced the sums (docs/benchmarks.md, "The rules' cost
per booking held")."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.streams.booking.rules.clock import add_local_days, overlap
from rosterhub.streams.booking.rules.context import RuleContext, WorkInterval
from rosterhub.streams.booking.rules.windows import Window, merge, windows
from tests.unit.streams.booking_builders import ctx, other, shift

#: 2026's clock changes are 29 March and 25 October: the timelines straddle one or the other.
_ORIGINS = (datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 10, 16, tzinfo=UTC))
_shift = st.tuples(
    st.integers(min_value=0, max_value=30 * 24 * 60),  # start, minutes after the origin
    st.integers(min_value=1, max_value=26 * 60),  # length in minutes
    st.booleans(),  # a night shift
)


def _by_definition(timeline: list[WorkInterval], new: WorkInterval, days: int) -> list[Window]:
    """Every shift's start opens a window and every end closes one; a window's hours are its overlap with the union
    of shifts, its nights the night shifts sharing time with it."""
    busy = merge(timeline)
    forward = sorted({(iv.start, add_local_days(iv.start, days)) for iv in timeline})
    backward = sorted({(add_local_days(iv.end, -days), iv.end) for iv in timeline} - set(forward))
    out = []
    for start, end in forward + backward:
        if overlap(start, end, new.start, new.end) <= timedelta(0):
            continue
        hours = sum((overlap(s, e, start, end) for s, e in busy), timedelta(0))
        nights = sum(iv.night for iv in timeline if overlap(start, end, iv.start, iv.end) > timedelta(0))
        out.append(Window(start, end, hours, nights))
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_ORIGINS),
    st.lists(_shift, min_size=1, max_size=25),
    st.integers(min_value=0, max_value=24),
    st.sampled_from((1, 7, 14, 119)),
)
def test_windows_are_those_of_the_definition(origin, shifts, pick, days) -> None:
    timeline = sorted(
        (
            WorkInterval(f"b{i}", "RHQ", origin + timedelta(minutes=m), origin + timedelta(minutes=m + n), night, False)
            for i, (m, n, night) in enumerate(shifts)
        ),
        key=lambda w: (w.start, w.end, w.booking_id),
    )
    new = timeline[pick % len(timeline)]
    assert windows(timeline, new, days) == _by_definition(timeline, new, days)


def test_a_context_derives_each_value_once() -> None:
    calls: list[RuleContext] = []

    def count(c: RuleContext) -> int:
        calls.append(c)
        return len(calls)

    start = datetime(2026, 5, 4, 8, tzinfo=UTC)
    one = ctx(shift(start, start + timedelta(hours=8)), others=[other("o1", start - timedelta(days=1), start)])
    assert (one.derived(count), one.derived(count)) == (1, 1)
    assert one.timeline() is one.timeline()
    two = ctx(shift(start, start + timedelta(hours=8)))
    assert two.derived(count) == 2  # another context works it out for itself
    assert calls == [one, two]
