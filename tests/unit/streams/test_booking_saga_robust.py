"""The booking saga's robustness steps (pure): re-timed shifts, and holds whose answer never comes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, decode_record, encode_event
from rosterhub.instants import LONDON
from rosterhub.streams.booking import decide, outcome, person
from rosterhub.streams.booking.decide import HoldTimers, due
from rosterhub.streams.booking.messages import Retime
from rosterhub.streams.booking.rules import SHIFT, reason_codes, rule_ids, stage
from rosterhub.streams.booking.saga import POST_CHECKS
from tests.unit.streams.saga_harness import NOW, POLICIES, Saga, deliver, posted, request

TIMERS = HoldTimers(grace=timedelta(seconds=300), resend=timedelta(seconds=30), timeout=timedelta(seconds=120))
S1, S9 = "patchwork:RHQ:s1", "locumsnest:RCU:s9"


def updated(shift_id: str = S1, *, version: int, trust: str = "RHQ", start: datetime, hours: int = 13) -> Envelope:
    env = posted(shift_id, version=version, trust=trust, start=start, hours=hours)
    return Envelope(type=outcome.SHIFT_UPDATED, source=env.source, data=env.data, id=f"upd-{shift_id}-{version}")


def confirmed_night(saga: Saga) -> None:
    """p1 holds b1: the RHQ night from 20:00 BST Sat 24 Oct to 08:00 GMT Sun 25 Oct (13 real hours)."""
    saga.send(posted())
    saga.send(request("b1"))
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingConfirmed", [])}


def bookings(saga: Saga, pid: str = "p1") -> dict[str, tuple[int, int]]:
    return {b: (v["start"], v["end"]) for b, v in saga.people[pid]["b"].items()}


# --- 1. a filled shift re-timed by its platform -------------------------------------------------------------------


def test_a_retimed_filled_shift_moves_the_persons_booking_so_later_checks_use_the_new_times() -> None:
    saga = Saga()
    confirmed_night(saga)
    later = datetime(2026, 10, 24, 23, 0, tzinfo=LONDON)  # now 23:00 BST -> 11:00 GMT (13 h)
    saga.send(updated(version=2, start=later))
    [retime] = saga.to_person
    assert retime["kind"] == "retime" and retime["person_id"] == "p1" and retime["booking_id"] == "b1"
    saga.settle()
    assert bookings(saga)["b1"][0] == int(later.timestamp() * 1000)
    assert [e.type for e in saga.events].count(outcome.BOOKING_CANCELLED) == 0  # no clash: nothing to cancel
    # An RCU early shift 07:00-09:00 GMT on the 25th clashed with nothing before; it clashes with the new times.
    saga.send(posted(S9, trust="RCU", start=datetime(2026, 10, 25, 7, 0, tzinfo=LONDON), hours=2))
    saga.send(request("b2", S9, vendor="locumsnest", home_trust="RCU"))
    saga.settle()
    assert saga.decisions()["b2"] == ("BookingRejected", ["DOUBLE_BOOKED"])


def test_the_same_times_again_or_an_open_shift_retimed_sends_nothing_to_the_person_stage() -> None:
    saga = Saga()
    confirmed_night(saga)
    saga.send(updated(version=2, start=datetime(2026, 10, 24, 20, 0, tzinfo=LONDON)))  # rate change, same times
    assert saga.to_person == []
    saga.send(posted("patchwork:RHQ:s2"))
    saga.send(updated("patchwork:RHQ:s2", version=2, start=datetime(2026, 10, 26, 8, 0, tzinfo=LONDON)))
    assert saga.to_person == []


def test_retimed_into_a_clash_the_hub_cancels_the_retimed_booking_and_reopens_its_shift() -> None:
    saga = Saga()
    confirmed_night(saga)  # b1: the RHQ night, 20:00 Sat -> 08:00 Sun
    saga.send(posted(S9, trust="RCU", start=datetime(2026, 10, 26, 8, 0, tzinfo=LONDON), hours=8))
    saga.send(request("b2", S9, vendor="locumsnest", home_trust="RCU"))
    saga.settle()
    assert saga.decisions()["b2"] == ("BookingConfirmed", [])
    retimed = updated(S9, version=2, trust="RCU", start=datetime(2026, 10, 25, 6, 0, tzinfo=LONDON), hours=8)
    saga.send(retimed)
    retime = dict(saga.to_person[0])
    saga.settle()
    cancelled = saga.events[-1]
    assert cancelled.type == outcome.BOOKING_CANCELLED and cancelled.source == outcome.SOURCE
    d = cancelled.data
    assert (d["booking_id"], d["cancelled_by"], d["reason"], d["shift_reopened"]) == (
        "b2",
        "HUB",
        "WORKER_UNAVAILABLE",
        True,
    )
    assert "b1 at RHQ" in d["reason_detail"] and "Sun 25 Oct 06:00" in d["reason_detail"]
    assert cancelled.extensions["causationid"] == retimed.id
    assert d["late_cancellation_fee"] is False  # the hub is not a fee-paying party
    assert bookings(saga).keys() == {"b1"}  # the booking that kept its times stands
    state = saga.state(S9)
    assert state is not None and state.status == "open" and state.filled_by is None
    # Redelivered retime and conflict change nothing; the reopened shift can be booked again.
    n = len(saga.events)
    saga.to_person.append(retime)
    saga.settle()
    saga.to_shift.append(
        {"kind": "conflict", "booking_id": "b2", "shift_id": S9, "person_id": "p1", "detail": "x", "cause": "c"}
    )
    saga.settle()
    assert len(saga.events) == n
    saga.send(request("b3", S9, person_id="p2", vendor="locumsnest", home_trust="RCU"))
    saga.settle()
    assert saga.decisions()["b3"] == ("BookingConfirmed", [])
    codec = SingleObjectCodec(default_catalogue())
    rec = encode_event(cancelled, default_catalogue().get(cancelled.type), codec, "events.booking")
    assert decode_record(rec.value, rec.headers, codec).data["reason_detail"] == d["reason_detail"]


def test_an_older_retime_never_moves_a_booking_back() -> None:
    saga = Saga()
    confirmed_night(saga)
    saga.send(updated(version=3, start=datetime(2026, 10, 24, 22, 0, tzinfo=LONDON)))
    saga.settle()
    v3 = bookings(saga)
    st_ = person.PersonState.from_table("p1", saga.people["p1"])
    stale = Retime.from_wire(
        {
            "kind": "retime",
            "booking_id": "b1",
            "shift_id": S1,
            "person_id": "p1",
            "shift": {"shift_id": S1, "version": 2, "start": 0, "end": 1},
        }
    )
    assert person.retime(st_, stale) == (st_, None) and bookings(saga) == v3


def test_a_shift_retimed_while_held_is_confirmed_and_recorded_at_its_new_times() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))  # held; the check carries the old times
    later = datetime(2026, 10, 24, 21, 0, tzinfo=LONDON)
    saga.send(updated(version=2, start=later))
    state = saga.state()
    assert state is not None and state.hold_check is not None
    assert state.hold_check["shift"]["start"] == int(later.timestamp() * 1000)  # a re-sent check has the new times
    assert [m["kind"] for m in saga.to_person] == ["check", "retime"]
    saga.settle()
    assert saga.decisions()["b1"] == ("BookingConfirmed", [])
    assert saga.events[0].data["start"] == later and bookings(saga)["b1"][0] == int(later.timestamp() * 1000)


# --- 2. a hold whose answer never comes -----------------------------------------------------------------------------


def test_a_lost_check_is_resent_with_the_same_ids_after_the_resend_interval() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    lost = saga.to_person.pop()
    saga.tick(NOW + timedelta(seconds=29), TIMERS)
    assert saga.to_person == []
    saga.tick(NOW + timedelta(seconds=30), TIMERS)
    assert saga.to_person == [lost]  # the same check, byte for byte
    saga.tick(NOW + timedelta(seconds=45), TIMERS)
    assert len(saga.to_person) == 1  # not again before another interval
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingConfirmed", [])}
    state = saga.state()
    assert (
        state is not None
        and state.hold is None
        and state.hold_check is None
        and not due(state, now=NOW + timedelta(hours=1), timers=TIMERS)
    )


def test_a_lost_answer_is_given_again_from_the_person_stages_stored_answer() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    saga.person_step()
    first = saga.to_shift.pop()  # the answer is lost
    saga.tick(NOW + timedelta(seconds=30), TIMERS)
    saga.person_step()
    assert saga.to_shift == [first]
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingConfirmed", [])} and bookings(saga).keys() == {"b1"}


def test_a_hold_never_answered_is_rejected_after_the_timeout_the_person_released_the_queue_decided() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    saga.send(request("b2", person_id="p2"))
    saga.person_step()  # p1 is checked and recorded ...
    saga.to_shift.clear()  # ... but every answer is lost
    for s in (30, 60, 90):
        saga.tick(NOW + timedelta(seconds=s), TIMERS)
        saga.to_person.pop()  # and so is every re-sent check
    assert saga.decisions() == {}
    saga.tick(NOW + timedelta(seconds=120), TIMERS)
    [rejected] = [e for e in saga.events if e.type == outcome.BOOKING_REJECTED]
    assert rejected.data["reason_codes"] == ["PERSON_CHECK_TIMEOUT"]
    rules = [r["rule"] for r in rejected.data["rule_results"]]
    assert rules == [*(r.id for r in stage(SHIFT)), *POST_CHECKS]  # the shift rules' results, then the timeout
    assert "120 s" in rejected.data["rule_results"][-1]["detail"]
    assert [(m["kind"], m["booking_id"]) for m in saga.to_person] == [("release", "b1"), ("check", "b2")]
    saga.settle()
    assert saga.decisions()["b2"] == ("BookingConfirmed", [])
    assert saga.people["p1"]["b"] == {}  # p1 released: free for other shifts
    assert "PERSON_CHECK_TIMEOUT" in reason_codes()


def test_a_late_answer_after_the_timeout_changes_nothing() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    check = saga.to_person.pop()
    for s in (30, 60, 90, 120):
        saga.tick(NOW + timedelta(seconds=s), TIMERS)
    saga.to_person.clear()
    assert saga.decisions()["b1"] == ("BookingRejected", ["PERSON_CHECK_TIMEOUT"])
    saga.to_person = [check, {"kind": "release", "booking_id": "b1", "person_id": "p1", "reason": "timeout"}]
    saga.settle()  # the check finally runs (recorded), its answer is ignored, the release drops it
    assert len(saga.events) == 1 and saga.people["p1"]["b"] == {}


def test_a_worker_catching_up_on_a_backlog_resends_before_it_gives_up() -> None:
    """The hold began long ago by this worker's clock (it was down): the first tick re-sends, never rejects."""
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    saga.to_person.clear()
    late = NOW + timedelta(minutes=30)
    saga.tick(late, TIMERS)
    assert saga.decisions() == {} and [m["kind"] for m in saga.to_person] == ["check"]
    for s in (30, 60):
        saga.tick(late + timedelta(seconds=s), TIMERS)
    assert saga.decisions() == {}
    saga.tick(late + timedelta(seconds=90), TIMERS)  # four sends, 30 s apart, span the 120 s timeout
    assert saga.decisions() == {"b1": ("BookingRejected", ["PERSON_CHECK_TIMEOUT"])}


def test_under_a_backlog_a_hold_waits_twice_the_recent_answer_delay_before_it_resends() -> None:
    """Answers have lately taken 50 s (a backlog in front of the person stage): the check is still queued there, so
    a re-send at 30 s would only add to the backlog. It waits 100 s; with no recent answer, 30 s as before."""
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    queued = saga.to_person.pop()
    state = saga.state()
    assert state is not None
    assert not due(state, now=NOW + timedelta(seconds=99), timers=TIMERS, delay_ms=50_000)
    assert due(state, now=NOW + timedelta(seconds=100), timers=TIMERS, delay_ms=50_000)
    saga.tick(NOW + timedelta(seconds=30), TIMERS, delay_ms=50_000)
    saga.tick(NOW + timedelta(seconds=99), TIMERS, delay_ms=50_000)
    assert saga.to_person == [] and saga.state() == state  # nothing sent, nothing written
    saga.tick(NOW + timedelta(seconds=100), TIMERS, delay_ms=50_000)
    assert saga.to_person == [queued]  # a check really lost is still re-sent, the same bytes
    saga.to_person.clear()
    saga.tick(NOW + timedelta(seconds=130), TIMERS, delay_ms=0)  # the backlog drained: 30 s after the last send
    assert saga.to_person == [queued]


def test_under_a_backlog_a_slow_answer_is_waited_for_instead_of_timing_out() -> None:
    """The 120 s timeout with answers taking 100 s: re-sends 200 s apart, so the answer that comes at 150 s decides
    the booking; with the same ticks and no delay the hold would have been rejected PERSON_CHECK_TIMEOUT."""
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    for s in (30, 60, 90, 120):
        saga.tick(NOW + timedelta(seconds=s), TIMERS, delay_ms=100_000)
    assert saga.decisions() == {} and len(saga.to_person) == 1  # only the first check: still in the backlog
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingConfirmed", [])}


@pytest.mark.parametrize(
    ("after_s", "answered", "expected"),
    [(29, False, False), (30, False, True), (600, True, False)],
)
def test_due_table(after_s: int, answered: bool, expected: bool) -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    if answered:
        saga.settle()
    state = saga.state()
    assert state is not None and due(state, now=NOW + timedelta(seconds=after_s), timers=TIMERS) is expected


def test_due_for_a_parked_request_past_the_grace() -> None:
    saga = Saga()
    saga.send(request("b1", "patchwork:RHQ:nope"))
    state = saga.state("patchwork:RHQ:nope")
    assert state is not None
    assert not due(state, now=NOW + timedelta(seconds=299), timers=TIMERS)
    assert due(state, now=NOW + timedelta(seconds=300), timers=TIMERS)
    saga.tick(NOW + timedelta(seconds=300), TIMERS, "patchwork:RHQ:nope")
    assert saga.decisions() == {"b1": ("BookingRejected", ["SHIFT_UNKNOWN"])}


# --- any interleaving with lost messages and timer ticks --------------------------------------------------------

ACTIONS = st.lists(st.sampled_from(["r1", "r2", "person", "person-lost", "shift", "shift-lost", "tick"]), max_size=40)
FAST = HoldTimers(grace=timedelta(seconds=300), resend=timedelta(seconds=30), timeout=timedelta(seconds=60))


@settings(max_examples=150, deadline=None)
@given(order=ACTIONS, same_person=st.booleans())
def test_with_lost_messages_and_timeouts_at_most_one_confirmation_and_only_it_recorded(
    order: list[str], same_person: bool
) -> None:
    saga = Saga()
    saga.send(posted())
    reqs = {"r1": request("b1"), "r2": request("b2", person_id="p1" if same_person else "p2", vendor="nhsp")}
    clock = NOW
    for action in order:
        if deliver(saga, action, reqs):
            continue
        if action == "tick":
            clock += timedelta(seconds=30)
            saga.tick(clock, FAST)
    for r in reqs.values():
        saga.send(r)
    for _ in range(10):  # nothing lost from here on; the timer finishes whatever is still held
        saga.settle()
        clock += timedelta(seconds=30)
        saga.tick(clock, FAST)
    saga.settle()
    decided = {e.id: e for e in saga.events if e.type in (outcome.BOOKING_CONFIRMED, outcome.BOOKING_REJECTED)}
    assert len(decided) == 2  # every request decided, once
    confirmed = [e.data["booking_id"] for e in decided.values() if e.type == outcome.BOOKING_CONFIRMED]
    assert len(confirmed) <= 1
    recorded = sorted(b for p in saga.people.values() for b in p["b"])
    assert recorded == confirmed  # never a person holding a booking the shift stage did not confirm
    state = saga.state()
    assert state is not None and state.hold is None and state.filled_by == (confirmed[0] if confirmed else None)
    assert all(
        r["rule"] in rule_ids() or r["rule"] in POST_CHECKS for e in decided.values() for r in e.data["rule_results"]
    )


def test_restamp_puts_the_workers_clock_on_new_timers_only() -> None:
    """Decisions use the record's time (re-processing repeats them exactly); timers use the worker's clock."""
    clock = NOW + timedelta(minutes=30)  # a worker catching up: the records are half an hour old
    parked = decide.step(None, request("b1", "patchwork:RHQ:later"), now=NOW).state
    stamped = decide.restamp(None, parked, clock=clock)
    assert stamped is not None and stamped.parked[0].parked_at_ms == int(clock.timestamp() * 1000)
    again = decide.step(stamped, request("b2", "patchwork:RHQ:later", person_id="p2"), now=NOW).state
    both = decide.restamp(stamped, again, clock=clock + timedelta(seconds=5))
    assert both is not None and [p.parked_at_ms for p in both.parked] == [
        int(clock.timestamp() * 1000),
        int((clock + timedelta(seconds=5)).timestamp() * 1000),
    ]
    assert not due(both, now=clock + timedelta(seconds=299), timers=TIMERS)
    opened = decide.step(None, posted(), now=NOW).state
    held = decide.step(opened, request("b3"), now=NOW, policies=POLICIES).state
    fresh = decide.restamp(opened, held, clock=clock)
    assert fresh is not None and (fresh.held_at_ms, fresh.hold_sent_ms) == (int(clock.timestamp() * 1000),) * 2
    assert decide.restamp(fresh, fresh, clock=clock + timedelta(hours=1)) == fresh  # an existing hold keeps its times
    assert decide.restamp(None, None, clock=clock) is None
