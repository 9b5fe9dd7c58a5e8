"""A stamp from a crosswalk copy older than an identity change the person stage has seen is refused and made again
(docs/decisions/0012-identity-off-the-request-path.md): never decided on the old person."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from rosterhub.streams.booking import decide
from tests.unit.streams.saga_harness import NOW, POLICIES, Saga, posted, request

TIMERS = decide.HoldTimers(grace=timedelta(seconds=60), resend=timedelta(seconds=10), timeout=timedelta(seconds=300))


def stamped(booking: str, person_id: str | None, version: int) -> object:
    env = request(booking, person_id=person_id)
    return replace(env, extensions={"personversion": str(version)})


def test_a_check_stamped_before_a_merge_is_refused_then_restamped_and_decided_once() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(stamped("b1", "p-gone", 0))
    [check] = saga.to_person
    assert check["person_v"] == 0
    saga.to_person.insert(0, {"kind": "identity", "person_id": "p-gone", "version": 7})  # identity's fence first
    saga.person_step()
    saga.person_step()  # the check: stamped at version 0, the person is at 7
    [refusal] = saga.to_shift
    assert refusal["restamp"] == 7 and refusal["results"] == []
    assert not saga.people.get("p-gone", {}).get("a")  # nothing answered or recorded for the old stamp
    saga.shift_step()
    held = saga.state()
    assert held is not None and held.hold is not None and held.hold_restamp == 7 and saga.events == []
    # the timer does not re-send a refused check
    ticked = decide.tick(held, now=NOW + timedelta(seconds=20), timers=TIMERS, policies=POLICIES)
    assert ticked.person == [] and ticked.outputs == []
    # the copy now has the merge: the survivor at the merge's version
    again = decide.restamped(held, "p-into", 7, now=NOW, policies=POLICIES)
    [check2] = again.person
    assert (check2.person_id, check2.person_v) == ("p-into", 7)
    assert again.state is not None and again.state.hold_restamp is None
    assert again.state.hold is not None and again.state.hold.person_id == "p-into"
    saga._apply("patchwork:RHQ:s1", again)
    saga.to_person.insert(0, {"kind": "identity", "person_id": "p-into", "version": 7})
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingConfirmed", [])}
    assert "b1" in saga.people["p-into"]["b"] and "b1" not in saga.people.get("p-gone", {}).get("b", {})


def test_a_check_stamped_ahead_of_the_fence_waits_for_it() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(stamped("b1", "p1", 3))
    saga.person_step()  # the fence for version 3 has not reached p1's partition: no answer yet
    assert saga.to_shift == [] and saga.people == {}
    resent = decide.tick(saga.state(), now=NOW + timedelta(seconds=20), timers=TIMERS, policies=POLICIES)
    saga._apply("patchwork:RHQ:s1", resent)
    saga.to_person.insert(0, {"kind": "identity", "person_id": "p1", "version": 3})
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingConfirmed", [])}


def test_a_copy_that_finds_nobody_after_the_change_rejects_as_the_resolver_would() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(stamped("b1", "p1", 0))
    saga.to_person.insert(0, {"kind": "identity", "person_id": "p1", "version": 4})
    saga.settle()
    held = saga.state()
    assert held is not None and held.hold_restamp == 4
    out = decide.restamped(held, None, None, now=NOW, policies=POLICIES)
    [decision] = out.outputs
    assert decision.data["reason_codes"] == ["WORKER_UNKNOWN"]
    assert [r["rule"] for r in decision.data["rule_results"]][:2] == ["worker_known", "shift_open"]
