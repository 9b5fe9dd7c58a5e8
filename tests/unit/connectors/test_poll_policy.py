"""Retry, back-off and rate-limit decisions of the polling transport (pure: no server, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rosterhub.connectors.kinds.poll.policy import (
    RetryPolicy,
    backoff_delay,
    decide,
    rate_limit_pause,
    retry_after_seconds,
)

NOW = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # the night the clocks go back: UTC keeps counting
POLICY = RetryPolicy(max_retries=3, base_s=1.0, cap_s=8.0, max_retry_after_s=120.0)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        ("Sun, 25 Oct 2026 01:31:00 GMT", 60.0),
        (format_datetime(NOW - timedelta(minutes=5), usegmt=True), 0.0),  # in the past: go now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_http_date(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def test_backoff_doubles_with_equal_jitter_and_is_capped() -> None:
    assert [backoff_delay(a, POLICY, 0.0) for a in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert [backoff_delay(a, POLICY, 1.0) for a in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]


@given(st.integers(min_value=0, max_value=60), st.floats(min_value=0, max_value=1))
def test_backoff_stays_within_half_a_step_and_a_step(attempt: int, rand: float) -> None:
    step = min(POLICY.cap_s, POLICY.base_s * 2**attempt)
    assert step / 2 <= backoff_delay(attempt, POLICY, rand) <= step


def test_success_proceeds() -> None:
    assert decide(200, {}, 0, POLICY, now=NOW, rand=0.5).action == "proceed"


@pytest.mark.parametrize("rand", [0.0, 0.5, 1.0])
def test_429_waits_at_least_retry_after_plus_at_most_ten_percent(rand: float) -> None:
    d = decide(429, {"retry-after": "10"}, 0, POLICY, now=NOW, rand=rand)
    assert d.action == "retry" and 10.0 <= d.delay_s <= 11.0


def test_429_with_an_http_date_is_honoured() -> None:
    when = format_datetime(NOW + timedelta(seconds=4), usegmt=True)
    d = decide(429, {"Retry-After": when}, 0, POLICY, now=NOW, rand=0.0)
    assert (d.action, d.delay_s) == ("retry", 4.0)


def test_429_without_retry_after_backs_off() -> None:
    d = decide(429, {}, 2, POLICY, now=NOW, rand=0.0)
    assert (d.action, d.delay_s) == ("retry", 2.0)


def test_a_retry_after_longer_than_allowed_ends_the_cycle_but_is_remembered() -> None:
    d = decide(429, {"Retry-After": "3600"}, 0, POLICY, now=NOW, rand=0.0)
    assert (d.action, d.delay_s) == ("give_up", 3600.0)


def test_503_retry_after_is_honoured_and_500_backs_off() -> None:
    assert decide(503, {"Retry-After": "3"}, 0, POLICY, now=NOW, rand=0.0).delay_s == 3.0
    assert decide(500, {"Retry-After": "3"}, 0, POLICY, now=NOW, rand=0.0).delay_s == 0.5  # only 429/503 carry it


@pytest.mark.parametrize("status", [None, 408, 500, 502, 503, 504])
def test_transient_failures_are_retried_until_max_retries(status: int | None) -> None:
    for attempt in range(POLICY.max_retries):
        assert decide(status, {}, attempt, POLICY, now=NOW, rand=0.3, failure="timeout").action == "retry"
    last = decide(status, {}, POLICY.max_retries, POLICY, now=NOW, rand=0.3, failure="timeout")
    assert last.action == "give_up" and "after 3 retries" in last.reason


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    d = decide(status, {}, 0, POLICY, now=NOW, rand=0.0)
    assert d.action == "give_up" and str(status) in d.reason


@pytest.mark.parametrize(
    ("headers", "pause"),
    [
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "12"}, 12.0),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0.5"}, 0.5),
        ({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "12"}, 0.0),
        ({"X-RateLimit-Remaining": "0"}, 0.0),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "later"}, 0.0),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "-4"}, 0.0),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "nan"}, 0.0),
        ({}, 0.0),
    ],
)
def test_a_spent_rate_window_pauses_until_it_resets(headers: dict[str, str], pause: float) -> None:
    assert rate_limit_pause(headers, "X-RateLimit-Remaining", "X-RateLimit-Reset") == pause
