"""NHSP's own requests become shifts: each bookings row of a request (no ``Hub Shift ID``) also yields the
ShiftPosted / ShiftUpdated / ShiftCancelled of the request, so the booking saga knows the shift an NHSP booking
names (before, every NHSP booking of an NHSP-hosted shift ended SHIFT_UNKNOWN).

The rows go through the real mapping; the events they become go through the booking saga's pure stages."""

from __future__ import annotations

from datetime import UTC, datetime

from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.envelope import Envelope
from rosterhub.mapping.engine import MappedEvent, apply_mapping
from tests.unit.streams.saga_harness import Saga

HEADER = (
    "Booking Reference,Request ID,Trust Code,Trust Name,Ward,Ward Code,Cost Centre,Staff Group,Grade,Shift Date,"
    "Start Time,End Time,Break (mins),Worker ID,Worker Name,Registration Body,Registration Number,Status,"
    "Status Date,Cancelled By,Cancellation Reason,Cancellation Fee Hours,Pay Rate (\u00a3/hr),Hub Reference,"
    "Hub Shift ID"
)
SHIFT = "nhsp:RHQ:NHSP-RQ-5001"


def _row(
    booking: str = "NHSP-BK-9001",
    *,
    status: str = "Booked",
    at: str = "24/10/2026 09:00",
    times: tuple[str, str] = ("20:00", "08:00"),
    cancel: tuple[str, str, str] = ("", "", ""),
    hub_shift: str = "",
) -> str:
    return (
        f"{booking},NHSP-RQ-5001,RHQ,Harbour Quay Hospitals NHS Trust,Ward 4 Respiratory,W4RS,W4RS01,"
        f"Registered Nurse,Band 5,24/10/2026,{times[0]},{times[1]},60,NHSP-W-1,Ava Patel,NMC,71A2998E,{status},"
        f"{at},{cancel[0]},{cancel[1]},{cancel[2]},26.14,,{hub_shift}"
    )


def _map(*rows: str) -> list[MappedEvent]:
    payload = "\r\n".join([HEADER, *rows, ""]).encode("cp1252")
    outcome = apply_mapping(packaged_mapping("nhsp", None), payload, received_at=datetime(2026, 10, 24, 12, tzinfo=UTC))
    assert not outcome.rejected, outcome.rejected
    return outcome.events


def _kinds(events: list[MappedEvent]) -> list[str]:
    return [e.type.rsplit(".", 1)[-1] for e in events]


def _envelope(e: MappedEvent) -> Envelope:
    """As it reaches the saga; identity stamps the person (here p1) on the vendor's request."""
    data = dict(e.data)
    if "worker" in data:
        data["worker"] = {**data["worker"], "person_id": "p1"}
    return Envelope(type=e.type, source=e.source, data=data, id=e.id, subject=e.subject)


def test_a_booked_row_posts_its_requests_shift_hosted_by_the_rows_trust_on_nhsp() -> None:
    events = _map(_row())
    assert _kinds(events) == ["ShiftPosted", "ShiftUpdated", "BookingRequested"]
    posted, updated, booked = (e.data for e in events)
    assert posted["shift_id"] == booked["shift_id"] == SHIFT
    assert posted["vendor"] == "nhsp" and posted["vendor_shift_id"] == "NHSP-RQ-5001"
    assert posted["trust"] == {"ods_code": "RHQ", "name": "Harbour Quay Hospitals NHS Trust"}
    # 20:00 BST to 08:00 GMT across the October clock change: 13 hours, a night
    assert posted["shift_type"] == "NIGHT" and (posted["end"] - posted["start"]).total_seconds() == 13 * 3600
    assert str(posted["hourly_rate"]) == "26.14" and posted["grade"] == "BAND_5"
    assert updated["version"] == posted["version"]  # the first row's update is no newer: processors ignore it


def test_the_shift_id_and_event_ids_are_stable_across_rows_and_exports() -> None:
    first = _map(_row())
    rebooked = _map(_row("NHSP-BK-9002", at="24/10/2026 10:30"))  # the same request, a later booking
    assert first[0].id == rebooked[0].id  # the same ShiftPosted: the connector's dedupe drops it
    assert first[1].id == rebooked[1].id  # the same facts: no new ShiftUpdated either
    assert rebooked[2].data["shift_id"] == SHIFT


def test_a_changed_request_is_a_newer_shift_updated() -> None:
    before, after = _map(_row()), _map(_row(at="24/10/2026 10:30", times=("19:30", "08:00")))
    assert before[1].id != after[1].id
    assert after[1].data["version"] > before[1].data["version"]
    assert after[1].data["start"] < before[1].data["start"]


def test_a_trust_cancellation_because_the_shift_is_not_needed_cancels_the_shift() -> None:
    events = _map(_row(status="Cancelled", at="24/10/2026 17:00", cancel=("Trust", "Ward closed", "2.00")))
    assert _kinds(events) == ["ShiftPosted", "ShiftUpdated", "ShiftCancelled", "BookingCancelled"]
    cancelled = events[2].data
    assert cancelled["shift_id"] == SHIFT and cancelled["reason"] == "DEMAND_CHANGED"
    assert cancelled["booking_id"] == "nhsp:RHQ:NHSP-BK-9001" and cancelled["late_cancellation_fee"] is True


def test_a_workers_cancellation_leaves_the_request_open() -> None:
    events = _map(_row(status="Cancelled", at="24/10/2026 10:00", cancel=("Worker", "Sickness", "")))
    assert _kinds(events) == ["ShiftPosted", "ShiftUpdated", "BookingCancelled"]


def test_a_partner_shift_row_posts_nothing_the_host_posted_it() -> None:
    events = _map(_row(hub_shift="healthroster:RXX:7742445"))
    assert _kinds(events) == ["BookingRequested"]


def test_the_saga_confirms_an_nhsp_booking_of_an_nhsp_request_whatever_arrives_first() -> None:
    for request_first in (True, False):
        posted, updated, booked = (_envelope(e) for e in _map(_row()))
        saga = Saga()
        for env in [booked, posted, updated] if request_first else [posted, updated, booked]:
            saga.send(env)
        saga.settle()
        assert saga.decisions() == {"nhsp:RHQ:NHSP-BK-9001": ("BookingConfirmed", [])}
        assert saga.state(SHIFT) is not None and saga.state(SHIFT).status == "filled"  # type: ignore[union-attr]
