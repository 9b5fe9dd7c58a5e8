from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rosterhub.envelope import Envelope
from rosterhub.streams.booking.decide import expire, step
from rosterhub.streams.booking.rules import shift_open
from rosterhub.streams.booking.state import ParkedRequest, ShiftState

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)


def posted(version: int = 1, shift_id: str = "patchwork:RHQ:s1") -> Envelope:
    # A night shift across the October clock change: 20:00 BST -> 08:00 GMT is 13 hours.
    start = datetime(2026, 10, 24, 20, 0, tzinfo=LONDON)
    return Envelope(
        type="rosterhub.shift.v1.ShiftPosted",
        source="/vendors/patchwork/RHQ",
        data={"shift_id": shift_id, "version": version, "trust": {"ods_code": "RHQ", "name": "Sheffield"},
              "start": start, "end": datetime(2026, 10, 25, 8, 0, tzinfo=LONDON)},
    )


def request(booking: str, shift_id: str = "patchwork:RHQ:s1") -> Envelope:
    return Envelope(
        type="rosterhub.booking.v1.BookingRequested",
        source="/vendors/patchwork/RHQ",
        id=f"req-{booking}",
        data={"booking_id": booking, "shift_id": shift_id, "vendor": "patchwork", "requested_at": NOW,
              "worker": {"person_id": None, "identifiers": [], "display_name": None}},
    )


def test_posting_opens_the_shift_with_its_instants() -> None:
    state = step(None, posted(), now=NOW).state
    assert state is not None and state.status == "open"
    assert timedelta(milliseconds=state.end_ms - state.start_ms) == timedelta(hours=13)


def test_first_request_confirms_second_is_rejected_as_filled() -> None:
    state = step(None, posted(), now=NOW).state
    first = step(state, request("b1"), now=NOW)
    [confirm] = first.outputs
    assert confirm.type == "rosterhub.booking.v1.BookingConfirmed"
    assert confirm.data["host_trust"] == {"ods_code": "RHQ", "name": "Sheffield"}
    assert confirm.data["rule_results"] == [{"rule": "shift_open", "passed": True, "reason_code": None, "detail": None}]
    assert first.state is not None and first.state.filled_by == "b1"
    second = step(first.state, request("b2"), now=NOW)
    [reject] = second.outputs
    assert reject.type == "rosterhub.booking.v1.BookingRejected"
    assert reject.data["reason_codes"] == ["SHIFT_ALREADY_FILLED"]
    assert "b1" in reject.data["rule_results"][0]["detail"]


def test_redelivered_request_is_not_decided_twice() -> None:
    state = step(step(None, posted(), now=NOW).state, request("b1"), now=NOW).state
    again = step(state, request("b1"), now=NOW)
    assert again.outputs == [] and again.state == state


def test_decision_ids_are_stable_for_a_booking() -> None:
    state = step(None, posted(), now=NOW).state
    a = step(state, request("b1"), now=NOW).outputs[0]
    b = step(state, request("b1"), now=NOW + timedelta(seconds=5)).outputs[0]
    assert a.id == b.id


def test_request_before_its_shift_is_parked_then_decided_when_the_shift_arrives() -> None:
    parked = step(None, request("b1"), now=NOW)
    assert parked.outputs == [] and parked.state is not None and parked.state.status == "awaiting_shift"
    parked2 = step(parked.state, request("b2"), now=NOW)
    again = step(parked2.state, request("b1"), now=NOW)  # redelivery while parked: no change
    assert again.state == parked2.state
    arrived = step(parked2.state, posted(), now=NOW)
    assert [o.type.rsplit(".", 1)[-1] for o in arrived.outputs] == ["BookingConfirmed", "BookingRejected"]
    assert arrived.outputs[0].data["booking_id"] == "b1"  # first come, first served
    assert arrived.state is not None and arrived.state.parked == () and arrived.state.filled_by == "b1"


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


def test_own_decisions_are_ignored() -> None:
    state = step(None, posted(), now=NOW).state
    decision = step(state, request("b1"), now=NOW).outputs[0]
    assert step(state, decision, now=NOW).outputs == []


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
    parked = ParkedRequest("e", "/x", "b3", {"person_id": None, "identifiers": []}, "patchwork", 5, 6)
    state = ShiftState("s", "filled", 3, "RHQ", 10, 20, "Trust", "b1", ("b1", "b2"), (parked,))
    assert ShiftState.from_table(state.to_table()) == state
