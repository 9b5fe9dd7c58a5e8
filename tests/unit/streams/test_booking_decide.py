"""The booking saga's pure steps: the shift stage (decide.py) and the person stage (person.py)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, encode_event
from rosterhub.instants import LONDON
from rosterhub.streams.booking import decide, outcome
from rosterhub.streams.booking.cancellation import late_fee, notice_hours
from rosterhub.streams.booking.decide import expire, step
from rosterhub.streams.booking.messages import Answer, Check, Release
from rosterhub.streams.booking.policy import CancellationPolicy
from rosterhub.streams.booking.rules import SHIFT, Clearance, rule_ids, shift_open, stage
from rosterhub.streams.booking.saga import PRE_CHECKS
from rosterhub.streams.booking.state import ParkedRequest, ShiftState
from tests.unit.streams.saga_harness import NOW, POLICIES, Saga, posted, request


def kinds(saga: Saga) -> list[str]:
    return [e.type.rsplit(".", 1)[-1] for e in saga.events]


def test_posting_opens_the_shift_with_its_instants() -> None:
    state = step(None, posted(), now=NOW).state
    assert state is not None and state.status == "open" and state.staff_group == "NURSING_MIDWIFERY_REGISTERED"
    assert timedelta(milliseconds=state.end_ms - state.start_ms) == timedelta(hours=13)


def test_first_request_holds_the_shift_later_ones_queue_then_one_winner() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1", vendor="patchwork"))
    saga.send(request("b2", person_id="p2", vendor="nhsp"))
    held = saga.state()
    assert held is not None and held.hold is not None and held.hold.booking_id == "b1"
    assert [q.booking_id for q in held.queue] == ["b2"] and saga.events == []
    [check] = saga.to_person
    assert check["person_id"] == "p1" and [r["rule"] for r in check["shift_results"]] == [r.id for r in stage(SHIFT)]
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingConfirmed", []), "b2": ("BookingRejected", ["SHIFT_ALREADY_FILLED"])}
    assert kinds(saga) == ["BookingConfirmed", "ShiftFilled", "BookingRejected"]
    confirmed, filled, rejected = saga.events
    assert [r["rule"] for r in confirmed.data["rule_results"]] == list(rule_ids())  # every rule, in order
    assert confirmed.data["vendor"] == "patchwork" and rejected.data["vendor"] == "nhsp"
    assert filled.data["vendor"] == "patchwork" and filled.data["membership_type"] == "BANK"
    assert "b1" in rejected.data["rule_results"][0]["detail"]
    assert saga.people["p1"]["b"]["b1"]["trust"] == "RHQ" and "p2" not in saga.people  # p2 never held it


def test_shift_filled_is_about_the_shift_and_the_decisions_about_the_booking() -> None:
    """Defect 1 of issue 15: ShiftFilled's CloudEvents subject was the booking id; its schema says shift_id."""
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    saga.settle()
    confirmed, filled = saga.events
    assert filled.type.endswith("ShiftFilled") and filled.subject == filled.data["shift_id"] != "b1"
    assert confirmed.subject == "b1"
    catalogue = default_catalogue()
    for env in saga.events:
        record = encode_event(env, catalogue.get(env.type), SingleObjectCodec(catalogue), "t")
        headers = dict(record.headers)
        field = catalogue.get(env.type).subject_field
        assert headers["ce_subject"].decode() == env.data[field] == env.subject


def test_a_rejected_hold_lets_the_next_request_in() -> None:
    saga = Saga(clearance=Clearance(cleared=False, unmet=(("DBS", "EXPIRED"),)))
    saga.send(posted())
    saga.send(request("b1"))
    saga.send(request("b2", person_id="p2"))
    saga.person_step()  # p1 is not cleared
    saga.clearance = Clearance(cleared=True)
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingRejected", ["PASSPORT_NOT_CLEARED"]), "b2": ("BookingConfirmed", [])}
    detail = next(r for r in saga.events[0].data["rule_results"] if r["rule"] == "passport_clearance")["detail"]
    assert "DBS: EXPIRED" in detail
    assert len(saga.events[0].data["rule_results"]) == len(rule_ids())


def test_redelivered_requests_and_answers_change_nothing() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    saga.send(request("b2", person_id="p2"))
    before = saga.state()
    saga.send(request("b1"))  # held
    saga.send(request("b2", person_id="p2"))  # queued
    assert saga.state() == before and len(saga.to_person) == 1
    saga.to_person.append(dict(saga.to_person[0]))  # the check delivered twice
    saga.person_step()
    saga.person_step()
    assert saga.to_shift[0] == saga.to_shift[1]  # the same answer for a redelivered check
    saga.settle()
    ids = [e.id for e in saga.events]
    assert len(ids) == len(set(ids)) and saga.decisions()["b1"][0] == "BookingConfirmed"
    saga.send(request("b1"))
    assert len(saga.events) == 3 and saga.to_person == []


def test_a_crash_before_the_state_write_repeats_the_same_event_ids() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    saga.person_step()
    state, msg = saga.state(), Answer.from_wire(saga.to_shift[0])
    first = decide.answer(state, msg, now=NOW, policies=POLICIES)
    again = decide.answer(state, msg, now=NOW + timedelta(seconds=5), policies=POLICIES)
    assert [e.id for e in first.outputs] == [e.id for e in again.outputs] and len(first.outputs) == 2


def test_unknown_worker_is_rejected_naming_the_identifiers_without_a_person_check() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1", person_id=None))
    assert saga.to_person == []
    [rejected] = saga.events
    assert rejected.data["reason_codes"] == ["WORKER_UNKNOWN"]
    worker = next(r for r in rejected.data["rule_results"] if r["rule"] == "worker_known")
    assert "nmc|71A2998E" in worker["detail"]
    assert saga.state().hold is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("extra", "trust", "codes"),
    [
        ({"grade": None}, "RHQ", ["REQUEST_INCOMPLETE"]),
        ({"staff_group": None, "grade": None}, "RHQ", ["REQUEST_INCOMPLETE"]),
        ({}, "RXX", ["NO_BOOKING_POLICY"]),
        ({"membership": None}, "RHQ", ["MEMBERSHIP_UNKNOWN"]),
        (
            {"membership": "AGENCY", "agency": "swift-medical-agency"},
            "RHQ",
            ["NOT_RELEASED_TO_AGENCY", "AGENCY_FRAMEWORK_NOT_APPROVED", "AGENCY_RATE_UNKNOWN"],
        ),
    ],
)
def test_missing_inputs_give_a_clear_code_never_a_crash(extra: dict, trust: str, codes: list[str]) -> None:
    saga = Saga()
    saga.send(posted(f"patchwork:{trust}:s1", trust=trust))
    saga.send(request("b1", f"patchwork:{trust}:s1", **extra))
    saga.settle()
    [rejected] = [e for e in saga.events if e.type == outcome.BOOKING_REJECTED]
    assert rejected.data["reason_codes"] == codes
    rules = [r["rule"] for r in rejected.data["rule_results"]]
    assert rules == sorted(rules, key=[*PRE_CHECKS, *rule_ids()].index)


def released(version: int) -> Envelope:
    """The availability processor releasing RHQ's shift s1 (at ``version``) from its own bank to the collaborative."""
    release = {
        "shift_id": "patchwork:RHQ:s1",
        "version": version,
        "trust": {"ods_code": "RHQ"},
        "from_tier": "OWN_BANK",
        "to_tier": "COLLABORATIVE_BANK",
        "released_at": NOW,
    }
    return Envelope(type=outcome.SHIFT_RELEASED, source="/rosterhub/availability", data=release)


def test_release_moves_the_tier_so_a_collaborative_worker_can_book() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1", home_trust="RCU"))
    saga.settle()
    assert saga.decisions()["b1"] == ("BookingRejected", ["NOT_RELEASED_TO_COLLABORATIVE"])
    saga.send(released(version=1))
    saga.send(request("b2", home_trust="RCU"))
    saga.settle()
    assert saga.decisions()["b2"] == ("BookingConfirmed", [])
    assert saga.events[-1].data["tier"] == "COLLABORATIVE_BANK"


def test_a_platform_update_after_a_release_never_narrows_the_tier() -> None:
    """ShiftUpdated's ``tier`` defaults to OWN_BANK: the platform's v2 must not take the shift back."""
    saga = Saga()
    saga.send(posted())
    saga.send(released(version=2))
    updated = posted(version=2)
    saga.send(Envelope(type=outcome.SHIFT_UPDATED, source=updated.source, data=updated.data))
    saga.send(request("b1", home_trust="RCU"))
    saga.settle()
    assert saga.decisions()["b1"] == ("BookingConfirmed", [])


def test_overlap_at_another_trust_names_the_clashing_booking() -> None:
    saga = Saga()
    saga.send(posted("patchwork:RHQ:s1", trust="RHQ"))
    rcu_start = datetime(2026, 10, 25, 6, 0, tzinfo=LONDON)  # overlaps the RHQ night's last two hours
    saga.send(posted("locumsnest:RCU:s9", trust="RCU", start=rcu_start, hours=8))
    saga.send(request("b1", "patchwork:RHQ:s1", vendor="patchwork"))
    saga.send(request("b2", "locumsnest:RCU:s9", vendor="locumsnest", home_trust="RCU"))
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingConfirmed", []), "b2": ("BookingRejected", ["DOUBLE_BOOKED"])}
    clash = next(r for r in saga.events[-1].data["rule_results"] if r["rule"] == "no_overlap")["detail"]
    assert "b1" in clash and "RHQ" in clash


def test_shift_cancelled_during_the_hold_rejects_and_releases_the_person() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    saga.send(request("b2", person_id="p2"))
    saga.person_step()  # p1 passes and is recorded
    cancel = Envelope(
        type=outcome.SHIFT_CANCELLED,
        source="/vendors/patchwork/RHQ",
        data={
            "shift_id": "patchwork:RHQ:s1",
            "version": 2,
            "trust": {"ods_code": "RHQ"},
            "start": NOW,
            "cancelled_at": NOW,
            "notice_hours": Decimal(0),
        },
    )
    saga.send(cancel)
    assert saga.decisions() == {"b2": ("BookingRejected", ["SHIFT_NOT_OPEN"])}
    saga.settle()
    assert saga.decisions()["b1"] == ("BookingRejected", ["SHIFT_NOT_OPEN"])
    assert saga.people["p1"]["b"] == {}  # the person stage dropped the booking it had recorded


def _vendor_cancel(booking: str, cancelled_at: datetime, by: str = "TRUST") -> Envelope:
    return Envelope(
        type=outcome.BOOKING_CANCELLED,
        source="/vendors/patchwork/RHQ",
        data={
            "booking_id": booking,
            "shift_id": "patchwork:RHQ:s1",
            "worker": {"person_id": None},
            "host_trust": {"ods_code": "RHQ"},
            "cancelled_by": by,
            "reason": "OTHER",
            "start": NOW,
            "cancelled_at": cancelled_at,
            "notice_hours": Decimal(0),
        },
    )


def test_vendor_cancellation_reopens_the_shift_with_notice_and_fee() -> None:
    saga = Saga()
    saga.send(posted())  # starts 20:00 BST on 24 Oct
    saga.send(request("b1"))
    saga.settle()
    saga.send(_vendor_cancel("b1", datetime(2026, 10, 24, 17, 0, tzinfo=LONDON)))
    hub = saga.events[-1]
    assert hub.type == outcome.BOOKING_CANCELLED and hub.source == outcome.SOURCE
    assert (hub.data["notice_hours"], hub.data["late_cancellation_fee"], hub.data["fee_hours"]) == (
        Decimal("3.00"),
        True,
        Decimal("2.00"),
    )
    assert hub.data["shift_reopened"] is True and saga.state().status == "open"  # type: ignore[union-attr]
    saga.settle()
    assert saga.people["p1"]["b"] == {}
    saga.send(request("b2", person_id="p2"))
    saga.settle()
    assert saga.decisions()["b2"] == ("BookingConfirmed", [])


def test_no_show_closes_the_shift_and_drops_the_booking() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    saga.settle()
    saga.send(
        Envelope(
            type=outcome.NO_SHOW,
            source="/vendors/patchwork/RHQ",
            data={"booking_id": "b1", "shift_id": "patchwork:RHQ:s1", "recorded_at": NOW, "notice_hours": None},
        )
    )
    assert kinds(saga)[-1] == "NoShow" and saga.events[-1].source == outcome.SOURCE
    assert saga.state().status == "no_show"  # type: ignore[union-attr]
    saga.settle()
    assert saga.people["p1"]["b"] == {}
    saga.send(request("b2", person_id="p2"))
    assert saga.decisions()["b2"] == ("BookingRejected", ["SHIFT_NOT_OPEN"])


@pytest.mark.parametrize(
    ("cancelled_at", "by", "notice", "fee"),
    [
        # Spring forward: 22:30 GMT Sat 28 Mar to 03:00 BST Sun 29 Mar looks like 4.5 h, is 3.5 h real.
        (datetime(2026, 3, 28, 22, 30, tzinfo=LONDON), "TRUST", Decimal("3.50"), True),
        (datetime(2026, 3, 28, 22, 30, tzinfo=LONDON), "WORKER", Decimal("3.50"), False),
        (datetime(2026, 3, 28, 21, 30, tzinfo=LONDON), "TRUST", Decimal("4.50"), False),
        (datetime(2026, 3, 29, 4, 0, tzinfo=LONDON), "TRUST", Decimal("-1.00"), True),
    ],
)
def test_notice_hours_are_real_hours_across_the_clock_change(
    cancelled_at: datetime, by: str, notice: Decimal, fee: bool
) -> None:
    start = datetime(2026, 3, 29, 3, 0, tzinfo=LONDON)
    assert notice_hours(start, cancelled_at) == notice
    assert late_fee(CancellationPolicy(), notice, by) == (fee, Decimal("2.00") if fee else None)


def test_notice_hours_refuse_naive_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        notice_hours(datetime(2026, 3, 29, 3, 0), NOW)


def test_request_before_its_shift_is_parked_then_decided_when_the_shift_arrives() -> None:
    saga = Saga()
    saga.send(request("b1"))
    saga.send(request("b2", person_id="p2"))
    saga.send(request("b1"))  # redelivery while parked: no change
    parked = saga.state()
    assert parked is not None and parked.status == "awaiting_shift" and len(parked.parked) == 2
    saga.send(posted())
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingConfirmed", []), "b2": ("BookingRejected", ["SHIFT_ALREADY_FILLED"])}


def test_parked_request_is_rejected_as_unknown_after_the_grace_period() -> None:
    state = step(None, request("b1", "patchwork:RHQ:nope"), now=NOW).state
    assert state is not None
    assert expire(state, now=NOW + timedelta(seconds=299), grace=timedelta(seconds=300)).outputs == []
    late = expire(state, now=NOW + timedelta(seconds=300), grace=timedelta(seconds=300))
    [reject] = late.outputs
    assert reject.data["reason_codes"] == ["SHIFT_UNKNOWN"] and reject.data["host_trust"] is None
    assert late.state is not None and late.state.parked == () and "b1" in late.state.decided
    assert step(late.state, request("b1", "patchwork:RHQ:nope"), now=NOW).outputs == []


def test_older_version_never_overwrites_newer() -> None:
    v2 = step(None, posted(version=2), now=NOW).state
    assert step(v2, posted(version=1), now=NOW).state == v2


def test_own_outcomes_and_vendor_requests_on_events_booking_are_not_inputs() -> None:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    saga.settle()
    state = saga.state()
    for own in saga.events:
        assert step(state, own, now=NOW, policies=POLICIES).outputs == []


@pytest.mark.parametrize(
    ("status", "filled_by", "passed", "code"),
    [
        ("open", None, True, None),
        ("filled", "b9", False, "SHIFT_ALREADY_FILLED"),
        ("cancelled", None, False, "SHIFT_NOT_OPEN"),
    ],
)
def test_shift_open_rule_table(status: str, filled_by: str | None, passed: bool, code: str | None) -> None:
    state = ShiftState("s", status, 1, "RHQ", 0, 1, filled_by=filled_by)
    result = shift_open(state, "b1")
    assert (result.passed, result.reason_code) == (passed, code)


def test_state_survives_table_serialisation() -> None:
    parked = ParkedRequest("e", "/x", "b3", {"person_id": None, "identifiers": []}, "patchwork", 5, 6, {"grade": "X"})
    state = ShiftState(
        "s",
        "filled",
        3,
        "RHQ",
        10,
        20,
        "Trust",
        "b1",
        ("b1", "b2"),
        (parked,),
        hold=parked,
        queue=(parked,),
        filled=parked,
        withdrawn=("b3",),
    )
    assert ShiftState.from_table(state.to_table()) == state


# --- any interleaving of two requests for one shift: exactly one confirmation ------------------------------------

ACTIONS = st.lists(st.sampled_from(["r1", "r2", "person", "person-dup", "shift", "shift-dup"]), max_size=30)


@settings(max_examples=300, deadline=None)
@given(order=ACTIONS, same_person=st.booleans(), post_first=st.booleans())
def test_any_interleaving_of_two_requests_confirms_exactly_one(
    order: list[str], same_person: bool, post_first: bool
) -> None:
    saga = Saga()
    if post_first:
        saga.send(posted())
    reqs = {
        "r1": request("b1", vendor="patchwork"),
        "r2": request("b2", person_id="p1" if same_person else "p2", vendor="nhsp"),
    }
    for action in order:
        if action in reqs:
            saga.send(reqs[action])  # a request may arrive more than once
        elif action.startswith("person") and saga.to_person:
            if action.endswith("dup"):
                saga.to_person.insert(0, dict(saga.to_person[0]))
            saga.person_step()
        elif action.startswith("shift") and saga.to_shift:
            if action.endswith("dup"):
                saga.to_shift.insert(0, dict(saga.to_shift[0]))
            saga.shift_step()
    if not post_first:
        saga.send(posted())
    for r in reqs.values():
        saga.send(r)
    saga.settle()
    decided = {e.id: e for e in saga.events if e.type in (outcome.BOOKING_CONFIRMED, outcome.BOOKING_REJECTED)}
    confirmed = [e.data["booking_id"] for e in decided.values() if e.type == outcome.BOOKING_CONFIRMED]
    assert len(confirmed) == 1 and len(decided) == 2
    state = saga.state()
    assert state is not None and state.filled_by == confirmed[0] and state.hold is None and state.queue == ()
    recorded = [b for p in saga.people.values() for b in p["b"]]
    assert recorded == confirmed  # the person stage holds exactly the confirmed booking
    assert NOW.tzinfo is UTC


def test_person_checks_are_co_partitioned_with_the_passport() -> None:
    """faust gives partition n of co-subscribed topics with equal partition counts to one worker: the person
    stage can read the passport table only if booking-person has passport-in's partition count."""
    from rosterhub.topics import BOOKING_PERSON, BOOKING_REQUESTS, BOOKING_TICKS, CANONICAL, PASSPORT_IN

    assert BOOKING_PERSON.partitions == PASSPORT_IN.partitions
    shift_keyed = {
        BOOKING_REQUESTS.partitions,
        BOOKING_TICKS.partitions,
        CANONICAL["shift"].partitions,
        CANONICAL["booking"].partitions,
    }
    assert len(shift_keyed) == 1


def test_the_person_stage_answers_a_redelivered_check_as_it_did_first() -> None:
    from rosterhub.streams.booking import person

    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    check = Check.from_wire(saga.to_person[0])
    st, first = person.check(person.PersonState("p1"), check, clearance=Clearance(True), policy=POLICIES.get("RHQ"))
    assert first.recorded and "b1" in st.bookings
    later, again = person.check(
        st, check, clearance=Clearance(False, (("DBS", "EXPIRED"),)), policy=None, given=first.to_wire()
    )
    assert again == first and later == st  # whatever changed since, the same answer
    got = person.receive(st, check, policies=POLICIES, clearance=lambda _c: None, answered={"b1": first.to_wire()}.get)
    assert got.reply == first and got.keep is None and got.state == st  # the answer kept, asked for by booking id
    assert st.ends and not st.answers  # the row says it was answered; the answer itself is kept by the agent
    release = Release(booking_id="b1", person_id="p1", reason="cancelled")
    released = person.release(st, release)
    assert released.bookings == {} and person.release(released, release) == released


def test_every_hub_output_fits_its_avro_schema() -> None:
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.envelope import decode_record, encode_event

    catalogue = default_catalogue()
    codec = SingleObjectCodec(catalogue)
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    saga.settle()
    saga.send(_vendor_cancel("b1", NOW))
    saga.send(request("b2", person_id="p2"))
    saga.settle()
    saga.send(
        Envelope(
            type=outcome.NO_SHOW,
            source="/vendors/patchwork/RHQ",
            data={"booking_id": "b2", "shift_id": "patchwork:RHQ:s1", "recorded_at": NOW},
        )
    )
    saga.send(request("b3", person_id=None))
    assert kinds(saga) == [
        "BookingConfirmed",
        "ShiftFilled",
        "BookingCancelled",
        "BookingConfirmed",
        "ShiftFilled",
        "NoShow",
        "BookingRejected",
    ]
    for env in saga.events:
        rec = encode_event(env, catalogue.get(env.type), codec, "events.booking")
        assert rec.key == b"patchwork:RHQ:s1"
        assert decode_record(rec.value, rec.headers, codec).data["booking_id"] == env.data["booking_id"]
