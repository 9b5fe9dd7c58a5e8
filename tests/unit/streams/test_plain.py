"""``plain`` gives exactly what ``dataclasses.asdict`` gave the table writes, sharing nothing mutable."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rosterhub.streams.availability.state import ShiftView
from rosterhub.streams.booking.state import ParkedRequest, ShiftState
from rosterhub.streams.payroll.bookings import ShiftFacts
from rosterhub.streams.payroll.state import BookingSheets
from rosterhub.streams.plain import plain

text = st.text(max_size=8)
scalars = st.none() | st.booleans() | st.integers() | text
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=12
)
json_dicts = st.dictionaries(text, json_values, max_size=4)
parked = st.builds(
    ParkedRequest,
    event_id=text,
    source=text,
    booking_id=text,
    worker=json_dicts,
    vendor=text,
    requested_at_ms=st.integers(),
    parked_at_ms=st.integers(),
    extra=json_dicts,
)
shift_states = st.builds(
    ShiftState,
    shift_id=text,
    status=text,
    decided=st.lists(text, max_size=3).map(tuple),
    parked=st.lists(parked, max_size=2).map(tuple),
    queue=st.lists(parked, max_size=2).map(tuple),
    hold=st.none() | parked,
    filled=st.none() | parked,
    withdrawn=st.lists(text, max_size=2).map(tuple),
    hold_check=st.none() | json_dicts,
)
ids = st.lists(text, max_size=3).map(tuple)
views = st.builds(ShiftView, shift_id=text, filled_by=st.none() | json_dicts, pending=ids, decided=ids, seen=ids)


def _old_booking_to_table(s: ShiftState) -> dict[str, Any]:
    """ShiftState.to_table as it was written with ``asdict`` (the reference)."""
    d = asdict(s)
    for name in ("decided", "withdrawn"):
        d[name] = list(getattr(s, name))
    d["parked"] = [asdict(p) for p in s.parked]
    d["queue"] = [asdict(p) for p in s.queue]
    return d


def _old_view_to_table(v: ShiftView) -> dict[str, Any]:
    d = asdict(v)
    for name in ("pending", "decided", "seen"):
        d[name] = list(d[name])
    return d


@given(shift_states)
def test_booking_shift_state_table_value_is_unchanged(state: ShiftState) -> None:
    assert plain(state) == asdict(state)
    assert state.to_table() == _old_booking_to_table(state)
    assert ShiftState.from_table(state.to_table()) == state


@given(views)
def test_availability_view_table_value_is_unchanged(view: ShiftView) -> None:
    assert plain(view) == asdict(view)
    assert view.to_table() == _old_view_to_table(view)


def test_the_table_value_shares_nothing_mutable_with_the_state() -> None:
    req = ParkedRequest("e", "/vendor/x", "b", {"person_id": "P", "ids": ["a"]}, "x", 1, 2, {"grade": "Band 5"})
    state = ShiftState("S", "open", hold=req, hold_check={"request": {"worker": {"ids": ["a"]}}})
    value = state.to_table()
    value["hold"]["worker"]["ids"].append("b")
    value["hold_check"]["request"]["worker"]["ids"].append("b")
    value["hold"]["extra"]["grade"] = "Band 6"
    assert req.worker == {"person_id": "P", "ids": ["a"]}
    assert req.extra == {"grade": "Band 5"}
    assert state.hold_check == {"request": {"worker": {"ids": ["a"]}}}


@given(views)
def test_availability_view_reads_back_its_own_row_and_ignores_keys_it_does_not_have(view: ShiftView) -> None:
    assert ShiftView.from_table(view.to_table()) == view
    assert ShiftView.from_table({**view.to_table(), "gone": 1}) == view


def test_a_table_row_stores_its_tuple_fields_as_lists_and_reads_them_back_as_tuples() -> None:
    sheets = BookingSheets("b1", sheets={"t1": {"hours": "7.5"}}, early=({"approval": 1}, {"approval": 2}))
    facts = ShiftFacts("s1", version=2, waiting=({"message": "m"},))
    assert sheets.to_table()["early"] == [{"approval": 1}, {"approval": 2}]
    assert facts.to_table()["waiting"] == [{"message": "m"}]
    assert BookingSheets.from_table(sheets.to_table()) == sheets
    assert ShiftFacts.from_table(facts.to_table()) == facts
    assert BookingSheets.from_table({"booking_id": "b2"}) == BookingSheets("b2")  # an absent list field: empty
    assert BookingSheets.from_table(None) is None
    assert ShiftFacts.from_table(None) is None
