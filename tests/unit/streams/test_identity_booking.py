"""Identity stamps the person on booking requests for the booking saga (docs/decisions/0007-booking-saga.md)."""

from __future__ import annotations

from rosterhub.envelope import Envelope, event_id
from rosterhub.events.codes import IDENTIFIER_SYSTEMS, vendor_system
from rosterhub.streams.identity.match import person_id_for
from rosterhub.streams.identity.records import forwarded_booking
from tests.unit.streams.identity_harness import ENCODER, T0, Hub, worker

PIN = "71A2998E"


def booking(booking_id: str, *ids: dict[str, str], vendor: str = "nhsp", source: str | None = None) -> Envelope:
    data = {
        "booking_id": booking_id,
        "shift_id": "patchwork:RHQ:S-1",
        "vendor": vendor,
        "requested_at": T0,
        "worker": {"person_id": None, "identifiers": list(ids), "display_name": None},
    }
    return Envelope(
        type="rosterhub.booking.v1.BookingRequested",
        source=source or f"/vendors/{vendor}/RHQ",
        data=data,
        id=event_id("test-booking", booking_id),
        subject=booking_id,
        time=T0,
    )


def test_a_request_through_a_second_platform_is_stamped_with_the_person_the_pin_links() -> None:
    hub = Hub()
    hub.feed(worker("patchwork:RHQ:pw-1", nmc=PIN))
    hub.feed(worker("nhsp:RCU:N-77", nmc=PIN))
    hub.feed(booking("b1", {"system": vendor_system("nhsp", "RCU"), "value": "N-77"}))
    [(key, env)] = hub.booking
    assert key == "patchwork:RHQ:S-1"  # keyed by shift id for the shift stage
    assert env.data["worker"]["person_id"] == person_id_for(f"reg:nmc:{PIN}")
    assert env.id == event_id("test-booking", "b1")  # the same event, person resolved
    assert hub.tables["records"].get("nhsp:RCU:N-77")  # and nothing was linked by the request


def test_an_unknown_worker_is_forwarded_with_no_person() -> None:
    hub = Hub()
    hub.feed(booking("b2", {"system": IDENTIFIER_SYSTEMS["nmc"], "value": "99Z9999Z"}))
    [(_, env)] = hub.booking
    assert env.data["worker"]["person_id"] is None
    assert hub.identity == [] and hub.tables["keys"] == {}


def test_only_vendor_requests_are_forwarded_to_identity() -> None:
    assert forwarded_booking(ENCODER.encode(booking("b3")).headers)
    assert not forwarded_booking(ENCODER.encode(booking("b4", source="/rosterhub/booking")).headers)
