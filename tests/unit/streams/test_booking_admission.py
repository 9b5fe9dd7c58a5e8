"""Decisions before new input (streams/booking/admission.py): when a worker holds its input back and resumes it."""

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from rosterhub.kafka.access import KafkaAccess
from rosterhub.settings import Settings
from rosterhub.streams.app import create_app
from rosterhub.streams.booking.admission import Admission, waiting


def test_input_is_held_back_from_the_threshold_until_a_quarter_is_left() -> None:
    admission = Admission.from_setting(200)
    assert (admission.pause_at, admission.resume_at) == (200, 50)
    assert not admission.paused(199, paused=False)
    assert admission.paused(200, paused=False)
    assert admission.paused(51, paused=True)  # still held: not down to a quarter yet
    assert not admission.paused(50, paused=True)


def test_zero_never_holds_input_back() -> None:
    assert not Admission.from_setting(0).paused(10**9, paused=True)


@given(st.integers(min_value=1, max_value=10_000), st.lists(st.integers(min_value=0, max_value=20_000)))
def test_held_input_always_resumes_once_the_saga_drains(pause_at, backlog) -> None:
    """Whatever the waiting records did before, input is held only while some wait, and is taken again at none."""
    admission, held = Admission.from_setting(pause_at), False
    for n in [*backlog, 0]:
        held = admission.paused(n, paused=held)
        assert not held or n > 0
    assert not held


def test_waiting_counts_what_each_saga_partition_holds_past_the_last_record_processed() -> None:
    ends = {"person/0": 120, "person/1": 40, "requests/0": 300, "requests/1": None, "requests/2": 9}
    read = {"person/0": 100, "person/1": 40, "requests/0": 10, "requests/1": 5}
    # person/1 is caught up, requests/1's end is not known yet, requests/2 has not been read since it was taken
    assert waiting(ends, read) == 20 + 290


def test_a_record_processed_past_the_known_end_counts_none() -> None:
    assert waiting({"p": 10}, {"p": 12}) == 0  # the end moves only when the consumer next fetches


def _beats(tmp_path: Path, waiting_at: int) -> list[str]:
    app, _ctx = create_app(
        Settings(state_dir=tmp_path, booking_admission_waiting=waiting_at), KafkaAccess("127.0.0.1:9")
    )
    return [t.__qualname__ for t in app._app_tasks if t.__qualname__.startswith("_admission.")]


def test_the_admission_beat_runs_only_in_a_worker_that_set_a_threshold(tmp_path: Path) -> None:
    """Off by default: a worker that never holds its input back does not look at the saga's ends five times a second."""
    assert _beats(tmp_path / "off", 0) == []
    assert _beats(tmp_path / "on", 1_000) == ["_admission.<locals>.admit"]
