"""A worker of one platform books a partner trust's shift the hub offered there: the booking names the host's
hub shift id (``<vendor>:<ODS>:<id>`` of the host platform), never an id of the booking platform.

Each test goes the whole way without a broker: the hub's offer rendered by the platform's real adapter,
applied by that platform's simulator (which keeps the id it was offered with), a booking made there, and the
platform's next feed page / bookings file mapped by its packaged mapping.
"""

from __future__ import annotations

import importlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from rosterhub.connectors.outbound.contract import Destination, FileDrop, HttpCall, Update, wire_headers
from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.connectors.simulators.locums_nest import LocumsNestSimulator
from rosterhub.connectors.simulators.nhsp import NhspSimulator
from rosterhub.mapping.engine import MappingOutcome, apply_mapping
from tests.unit.connectors.outbound_builders import open_offer

AT = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
HOST_SHIFT = "healthroster:RXX:7742445"  # a HealthRoster duty at RXX, released to the collaborative


def _render(platform: str, update: Update, destination: Destination) -> Any:
    return importlib.import_module(f"rosterhub.connectors.outbound.adapters.{platform}").ADAPTER.render(
        update, destination
    )


def _map(payload: bytes, mapping: str, trust: str | None) -> MappingOutcome:
    return apply_mapping(packaged_mapping(mapping, trust), payload, received_at=AT, trust=trust)


def test_locums_nest_booking_of_an_offered_partner_shift_names_the_hosts_shift() -> None:
    sim = LocumsNestSimulator(["RXW"], seed=5, initial_changes=0)
    for _ in range(4):
        sim.platform._doctor_created(sim.platform.orgs["RXW"])  # doctors who can apply
    dest = Destination("ln-RXW", "RXW", "locums_nest", url="http://sim", secret=sim.key_for("RXW"))
    call = _render("locums_nest", open_offer(HOST_SHIFT, "MEDICAL_DENTAL", "ST3_5"), dest)
    assert isinstance(call, HttpCall) and call.path == f"/api/v2/external_shifts/{HOST_SHIFT}"
    headers = wire_headers(call, dest, "k-open", now=AT.timestamp())
    assert TestClient(sim.app).request(call.method, call.path, content=call.body, headers=headers).status_code == 200

    applied = sim.platform.apply_offered("RXW")
    assert applied is not None and applied["data"]["shift_id"] is None
    assert applied["data"]["external_id"] == HOST_SHIFT
    assert sim.platform.apply_offered("RXW") is None  # the organisation applied for it already
    page = sim.platform.page("RXW", cursor=None, since=None, limit=50)
    outcome = _map(json.dumps(page).encode(), "locums_nest", "RXW")
    [booking] = [e for e in outcome.events if e.type.endswith("BookingRequested")]
    assert booking.data["shift_id"] == HOST_SHIFT
    assert booking.data["booking_id"] == f"locums_nest:RXW:{applied['data']['id']}"
    assert booking.data["home_trust"] == "RXW" and not outcome.rejected


def test_locums_nest_traffic_books_offered_partner_shifts_too() -> None:
    sim = LocumsNestSimulator(["RXW"], seed=8, initial_changes=30)
    sim.platform.external(HOST_SHIFT, {"grade": "ST3-5"}, "k-open")
    sim.platform.generate("RXW", 60)
    external = [c["data"] for c in sim.platform.changes("RXW") if c["data"].get("external_id")]
    assert [d["external_id"] for d in external] == [HOST_SHIFT]  # applied for once, among the own traffic


def test_nhsp_booking_of_an_offered_partner_shift_names_the_hosts_shift(tmp_path: Path) -> None:
    sim = NhspSimulator(trusts=1, seed=3, start=date(2026, 10, 12), count=0)
    host = HOST_SHIFT.replace("RXX", sim.trusts[0].ods)
    drop = _render(
        "nhsp",
        open_offer(host, "NURSING_MIDWIFERY_REGISTERED", "BAND_5"),
        Destination("nhsp-RXY", "RXY", "nhsp", folder=str(tmp_path)),
    )
    assert isinstance(drop, FileDrop)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / drop.name).write_bytes(drop.content)
    assert sim.receive_outbound(tmp_path / "in") == 1

    booking = sim.book_offered(host)
    assert booking is not None and booking.request.group == "Nursing and Midwifery Registered"
    assert booking.request.band == 5 and booking.worker.band >= 5
    [export] = [f for f in sim.export(tmp_path / "out") if f.name.startswith("bookings_")]
    outcome = _map(export.read_bytes(), "nhsp", None)
    [event] = outcome.events
    assert event.type.endswith("BookingRequested") and not outcome.rejected
    assert event.data["shift_id"] == host  # not nhsp:<trust>:<NHSP's own request id>
    assert event.data["booking_id"] == f"nhsp:{sim.trusts[0].ods}:{booking.ref}"
    assert sim.book_offered(host) is None  # booked: no longer open


def test_nhsp_days_book_offered_shifts_and_own_requests_keep_their_ids(tmp_path: Path) -> None:
    sim = NhspSimulator(trusts=1, seed=4, start=date(2026, 10, 12), count=3)
    req = sim._request(sim.trusts[0], date(2026, 10, 20))
    req.hub_shift_id = HOST_SHIFT
    for _ in range(3):
        sim.step()
    events = []
    for f in sim.export(tmp_path):
        if f.name.startswith("bookings_"):
            events += _map(f.read_bytes(), "nhsp", None).events
    ids = {e.data["shift_id"] for e in events}
    assert HOST_SHIFT in ids
    assert all(i == HOST_SHIFT or i.startswith(f"nhsp:{sim.trusts[0].ods}:NHSP-RQ-") for i in ids)
