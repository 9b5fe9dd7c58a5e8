"""HealthRoster/BankStaff bookings in (issue #18), without a broker: a duty booked on the trust's own bank
module reaches the hub as a BookingRequested (with its duty, under the id of its first posting); the hub's
refusal goes back as a ``Reject`` that opens the duty again, its confirmation as the duty's ``Fill``; the
roster's next export of either is an echo."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rosterhub.connectors.outbound.adapters.healthroster import ADAPTER
from rosterhub.connectors.outbound.contract import Destination, FileDrop
from rosterhub.connectors.simulators.files import trusts_named, write_atomic
from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator
from rosterhub.mapping.engine import apply_mapping, find_mapping, load_mapping
from tests.unit.connectors.test_outbound_adapters import update

NOW = datetime(2026, 10, 20, 9, tzinfo=UTC)
DEST = Destination("healthroster-RHQ", "RHQ", "healthroster", folder="/drop")


def _roster() -> tuple[HealthRosterSimulator, int]:
    roster = HealthRosterSimulator(trusts_named(["RHQ"]), seed=3, count=2, formats="xml")
    roster.step()
    duty = next(d for d in sorted(roster.duties.values(), key=lambda d: d.id) if d.state != "Send to Bank")
    return roster, duty.id


def _map(roster: HealthRosterSimulator, tmp_path: Path):  # type: ignore[no-untyped-def]
    [written] = roster.export(tmp_path / "out")
    spec = load_mapping(find_mapping("healthroster", "RHQ"))
    return apply_mapping(spec, written.read_bytes(), received_at=NOW)


def test_a_bankstaff_booking_becomes_a_request_with_its_duty(tmp_path: Path) -> None:
    roster, duty_id = _roster()
    _map(roster, tmp_path)  # the first export: duties approved and posted
    booking = roster.book_bank(duty_id, "20458811", "04c1234d", "Jo Bloggs")
    out = _map(roster, tmp_path)
    assert not out.rejected
    posted, requested = out.events
    sid = f"healthroster:RHQ:{duty_id}"
    assert (posted.type.rsplit(".", 1)[-1], posted.subject) == ("ShiftPosted", sid)
    assert requested.type.endswith("BookingRequested") and requested.subject == booking
    data = requested.data
    assert (data["shift_id"], data["membership"], data["home_trust"]) == (sid, "BANK", "RHQ")
    assert {"system": "https://fhir.hl7.org.uk/Id/nmc-number", "value": "04C1234D"} in data["worker"]["identifiers"]
    # the duty's posting has the id of its first posting: a hub that saw it approved drops it as a duplicate
    first = apply_mapping(load_mapping(find_mapping("healthroster", "RHQ")), _first_export(duty_id), received_at=NOW)
    assert posted.id in {e.id for e in first.events}


def _first_export(duty_id: int) -> bytes:
    roster = HealthRosterSimulator(trusts_named(["RHQ"]), seed=3, count=2, formats="xml")
    roster.step()
    return roster._xml(roster.trusts[0], [roster.duties[duty_id]], 0)


def test_the_hubs_refusal_opens_the_duty_again_and_its_fill_books_it(tmp_path: Path) -> None:
    roster, duty_id = _roster()
    sid = f"healthroster:RHQ:{duty_id}"
    _map(roster, tmp_path)  # the first export
    booking = roster.book_bank(duty_id, "20458811", "04c1234d", "Jo Bloggs")
    _map(roster, tmp_path)  # the booking
    assert roster.shift(sid).status == "booked" and sid not in roster.open_shifts()  # type: ignore[union-attr]
    refused = ADAPTER.render(update("booking_rejected", sid, booking, reason_codes=["PASSPORT_NOT_CLEARED"]), DEST)
    assert isinstance(refused, FileDrop) and b'action="Reject"' in refused.content
    assert b"<Reasons>PASSPORT_NOT_CLEARED</Reasons>" in refused.content
    assert ADAPTER.render(update("booking_confirmed", sid, booking), DEST) is None  # the Fill says it
    # another platform's booking refused: not HealthRoster's to undo
    assert ADAPTER.render(update("booking_rejected", sid, "patchwork:RHQ:55012"), DEST) is None
    write_atomic(tmp_path / "to_roster" / refused.name, refused.content)
    assert roster.receive_updates(tmp_path / "to_roster") == 1
    assert roster.shift(sid).status == "open" and sid in roster.open_shifts()  # type: ignore[union-attr]
    echo = _map(roster, tmp_path)
    assert [s.echo for s in echo.skipped] == [True] and not echo.events  # the reopening, reported back
    # booked again, confirmed this time: the hub's Fill
    booking = roster.book_bank(duty_id, "31002277", "71A2998E", "Sam O'Neill", home="RCU")
    filled = ADAPTER.render(update("shift_filled", sid, booking, key="fill-1"), DEST)
    assert isinstance(filled, FileDrop)
    write_atomic(tmp_path / "to_roster" / filled.name, filled.content)
    assert roster.receive_updates(tmp_path / "to_roster") == 1
    copy = roster.shift(sid)
    assert copy is not None and (copy.status, copy.booking_id) == ("filled", booking)
    assert [s.echo for s in _map(roster, tmp_path).skipped] == [True]
    assert roster.repeats == 0
