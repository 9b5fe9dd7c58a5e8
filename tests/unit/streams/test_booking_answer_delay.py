"""The answer delay a hold's re-send waits for (streams/booking/answer_delay.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rosterhub.streams.booking.answer_delay import WINDOW_MS, AnswerDelay, tick_delay_ms, tick_value


def test_no_answer_yet_means_no_delay() -> None:
    assert AnswerDelay().current(1_000) == 0


def test_the_longest_delay_of_the_last_window_counts_then_ages_out() -> None:
    delay = AnswerDelay()
    delay.observe(40_000, at_ms=0)
    delay.observe(5_000, at_ms=10_000)
    assert delay.current(10_000) == 40_000
    assert delay.current(WINDOW_MS - 1) == 40_000
    assert delay.current(WINDOW_MS) == 5_000  # the 40 s answer left the window; the 5 s one has not
    assert delay.current(WINDOW_MS + 10_000) == 0  # a drained backlog stops delaying re-sends


@given(st.lists(st.tuples(st.integers(0, 5_000), st.integers(0, 300_000)), max_size=60))
def test_it_is_the_maximum_over_the_window_whatever_the_samples(gaps_and_delays: list[tuple[int, int]]) -> None:
    delay, seen, at = AnswerDelay(), [], 0
    for gap, sample in gaps_and_delays:
        at += gap
        delay.observe(sample, at)
        seen.append((at, sample))
        assert delay.current(at) == max(d for t, d in seen if t > at - WINDOW_MS)


def test_a_tick_carries_the_delay_its_beat_saw_and_an_old_tick_none() -> None:
    assert tick_delay_ms(tick_value(73_500)) == 73_500
    assert tick_delay_ms(b"tick") == 0  # written by a version before ticks carried it
    assert tick_delay_ms(None) == 0
