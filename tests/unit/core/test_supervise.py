"""rosterhub run's supervisor policy (rosterhub.supervise): why a child stopped, and when it starts again."""

from __future__ import annotations

import signal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rosterhub.supervise import Life, RestartPolicy, after_death, exit_cause, restart_delay

POLICY = RestartPolicy(base_s=1.0, cap_s=30.0, stable_s=60.0)


def test_a_kill_names_the_signal_not_the_broker() -> None:
    assert exit_cause(-signal.SIGKILL) == "killed by SIGKILL"
    assert exit_cause(-signal.SIGSEGV, "whatever the log says") == "killed by SIGSEGV"


def test_an_error_the_child_reported_is_the_cause() -> None:
    tail = (
        "INFO starting\n"
        "error [config_error]: ROSTERHUB_OUTBOUND_DESTINATIONS: bad json\n"
        "error [broker_unavailable]: KAFKA_BOOTSTRAP_SERVERS=k:9092 does not answer\n"
        "\n"
    )
    assert exit_cause(1, tail) == (
        "exited with status 1: error [broker_unavailable]: KAFKA_BOOTSTRAP_SERVERS=k:9092 does not answer"
    )


def test_without_a_reported_error_the_last_error_logged_is_given() -> None:
    tail = "[error] [Errno 98] address already in use\n[info] Waiting for application shutdown.\n[info] complete.\n"
    assert exit_cause(1, tail) == (
        "exited with status 1; last error in its log: [error] [Errno 98] address already in use"
    )
    assert exit_cause(1, "starting\nstopping\n") == "exited with status 1; last log line: stopping"
    uvicorn = (
        "2026-12-06T18:49:31Z [error    ] [Errno 98] error while attempting to bind: address already in use "
        "[uvicorn.error]\n2026-12-06T18:49:31Z [info     ] Application shutdown complete. [uvicorn.error]\n"
    )
    assert "address already in use" in exit_cause(3, uvicorn)  # not the logger name of the line after it
    assert "KeyError: 'x'" in exit_cause(1, "Traceback (most recent call last):\nKeyError: 'x'\nbye\n")
    assert exit_cause(75) == "exited with status 75"
    assert exit_cause(0, "bye") == "exited with status 0 without being asked to stop; last log line: bye"


def test_an_unknown_signal_number_is_still_named() -> None:
    assert exit_cause(-200) == "killed by signal 200"


def test_quick_deaths_double_the_wait_up_to_the_cap() -> None:
    life = Life(started_at=0.0)
    waits = []
    now = 0.0
    for _ in range(8):
        now += 5.0  # dies 5 s after each start
        life, wait = after_death(life, now, POLICY)
        waits.append(wait)
        life = Life(now + wait, life.deaths_in_a_row, life.restarts + 1)
        now += wait
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_a_child_that_had_recovered_starts_again_after_the_base_wait() -> None:
    life = Life(started_at=100.0, deaths_in_a_row=6, restarts=6)
    life, wait = after_death(life, 100.0 + POLICY.stable_s + 1, POLICY)
    assert (wait, life.deaths_in_a_row, life.restarts) == (1.0, 1, 6)


@given(st.integers(min_value=1, max_value=10_000))
def test_the_wait_is_never_above_the_cap_nor_below_the_base(n: int) -> None:
    assert POLICY.base_s <= restart_delay(n, POLICY) <= POLICY.cap_s


def test_deaths_count_from_one() -> None:
    with pytest.raises(ValueError, match="count from 1"):
        restart_delay(0, POLICY)
