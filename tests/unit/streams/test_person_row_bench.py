"""Smoke test of bench/person_row.py: the person's row grows by ids and bookings, not by the answers given."""

from __future__ import annotations

from tests.support import load_bench


def test_a_persons_row_after_forty_checks_is_smaller_than_two_of_its_answers() -> None:
    got = load_bench("person_row").row_sizes(40)
    sizes, answer = got["row_bytes_after_n_checks"], got["one_answer_bytes"]
    assert set(sizes) == {10, 40} and got["bookings_recorded"] > 0
    assert sizes[10] < sizes[40] < 2 * answer  # forty answers kept in the row would be 40 x answer
