"""The booking timer's due-time schedule: it finds exactly the shifts a scan of the table would, beat by beat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.streams.booking import decide
from rosterhub.streams.booking.decide import HoldTimers, due, due_ms
from rosterhub.streams.booking.state import ParkedRequest, ShiftState, to_ms
from rosterhub.streams.schedule import Schedule
from tests.unit.streams.saga_harness import NOW, Saga, deliver, posted, request

TIMERS = HoldTimers(grace=timedelta(seconds=300), resend=timedelta(seconds=30), timeout=timedelta(seconds=60))
DAY_MS = 24 * 3600 * 1000
S1, S2, NOPE = "patchwork:RHQ:s1", "patchwork:RHQ:s2", "patchwork:RHQ:nope"


def _parked(booking: str, at_ms: int) -> ParkedRequest:
    return ParkedRequest("e-" + booking, "/v", booking, {"person_id": "p1"}, "patchwork", 0, at_ms)


@settings(max_examples=200, deadline=None)
@given(
    status=st.sampled_from(["awaiting_shift", "open", "filled"]),
    parked=st.lists(st.integers(0, 10**6), max_size=3),
    sent=st.none() | st.integers(0, 10**6),
    held=st.booleans(),
    at=st.integers(0, 2 * 10**6),
)
def test_due_ms_is_the_first_instant_due_holds(
    status: str, parked: list[int], sent: int | None, held: bool, at: int
) -> None:
    state = ShiftState(
        "s",
        status,
        parked=tuple(_parked(f"b{i}", p) for i, p in enumerate(parked)),
        hold=_parked("h", 0) if held else None,
        hold_sent_ms=sent,
    )
    instant = due_ms(state, timers=TIMERS)
    now = datetime.fromtimestamp(at / 1000, NOW.tzinfo)
    assert due(state, now=now, timers=TIMERS) is (instant is not None and instant <= to_ms(now))


@dataclass
class ScheduledSaga(Saga):
    """The saga harness with the agent's bookkeeping: after every write of a shift, its due instant."""

    schedule: Schedule = field(default_factory=lambda: Schedule(DAY_MS))

    def _apply(self, key: str, result: decide.Step) -> None:
        super()._apply(key, result)
        state = self.state(key)
        self.schedule.set(key, due_ms(state, timers=TIMERS) if state else None)

    def scan(self, now: datetime) -> set[str]:
        """What the old timer found: every shift of the table decoded and asked."""
        return {k for k in self.shifts if (s := self.state(k)) is not None and due(s, now=now, timers=TIMERS)}

    def beat(self, now: datetime) -> set[str]:
        """The new timer: only what the schedule says is due; each found shift is ticked (its entry re-set)."""
        found = set(self.schedule.pop_due(to_ms(now)))
        for key in sorted(found):
            self.tick(now, TIMERS, key)
        return found


ACTIONS = st.lists(
    st.sampled_from(["r1", "r2", "r3", "person", "person-lost", "shift", "shift-lost", "beat", "restart"]), max_size=40
)


@settings(max_examples=150, deadline=None)
@given(order=ACTIONS, step_s=st.sampled_from([5, 17, 30, 301]))
def test_each_beat_ticks_exactly_the_shifts_a_scan_finds_due_even_after_a_restart(
    order: list[str], step_s: int
) -> None:
    saga = ScheduledSaga()
    saga.send(posted(S1))
    saga.send(posted(S2, start=datetime(2026, 10, 26, 20, 0, tzinfo=NOW.tzinfo)))
    reqs = {"r1": request("b1", S1), "r2": request("b2", S2, person_id="p2"), "r3": request("b3", NOPE)}
    clock = NOW
    for action in order:
        if deliver(saga, action, reqs):
            continue
        if action == "restart":  # a new worker: the schedule is rebuilt from the (recovered) table
            saga.schedule = Schedule(DAY_MS)
            saga.schedule.begin_rebuild()
            entries = [(k, due_ms(s, timers=TIMERS) if (s := saga.state(k)) else None) for k in saga.shifts]
            saga.schedule.rebuild(entries, to_ms(clock))
        elif action == "beat":
            clock += timedelta(seconds=step_s)
            expected = saga.scan(clock)
            assert saga.beat(clock) == expected
    # Nothing is lost from here on: beats alone finish every hold and parked request, as the scan did.
    for _ in range(20):
        saga.settle()
        clock += timedelta(seconds=30)
        expected = saga.scan(clock)
        assert saga.beat(clock) == expected
    saga.settle()
    states = [saga.state(k) for k in saga.shifts]
    assert not any(s.hold or s.parked for s in states if s is not None)
    assert len(saga.schedule) == 0


def test_a_beat_with_nothing_due_decodes_no_shift() -> None:
    """500 filled shifts and one hold: the schedule holds one entry; the beat costs one heap look."""
    saga = ScheduledSaga()
    for i in range(500):
        saga.shifts[f"s{i}"] = ShiftState(f"s{i}", "filled").to_table()
        saga.schedule.set(f"s{i}", None)
    saga.send(posted(S1))
    saga.send(request("b1", S1))
    assert len(saga.schedule) == 1
    assert saga.beat(NOW + timedelta(seconds=29)) == set()
    assert saga.beat(NOW + timedelta(seconds=30)) == {S1}
    assert len(saga.schedule) == 1  # re-sent: due again 30 s later


def test_a_beat_pops_at_most_its_limit_earliest_first_and_the_rest_stay_due() -> None:
    from rosterhub.streams.schedule import Schedule

    schedule = Schedule(10_000)
    schedule.rebuild([(f"s{i}", 100 + i) for i in range(7)], now_ms=0)
    assert schedule.pop_due(1_000, 3) == ["s0", "s1", "s2"]
    assert schedule.pop_due(1_000, 3) == ["s3", "s4", "s5"]
    assert schedule.pop_due(1_000) == ["s6"] and len(schedule) == 0
