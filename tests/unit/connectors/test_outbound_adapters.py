"""The six platform adapters: what each renders for every update kind (a table), the content of what it
renders (golden values, FHIR validated by fhir.resources, CSV/pipe/XML parsed back by the simulators'
readers), and convergence: every simulated platform, fed the rendered updates, ends up with the hub's view."""

from __future__ import annotations

import csv
import importlib
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from rosterhub.connectors.outbound.contract import (
    AUTH,
    SIGN,
    Destination,
    FileDrop,
    HttpCall,
    Update,
    wire_headers,
)
from rosterhub.connectors.outbound.kinds import declared
from rosterhub.connectors.signing import verify
from rosterhub.connectors.simulators.esr import EsrSimulator, parse_bookings
from rosterhub.connectors.simulators.fhir import create_fhir_server
from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator, parse_updates
from rosterhub.connectors.simulators.locums_nest import LocumsNestSimulator
from rosterhub.connectors.simulators.nhsp import NhspSimulator
from rosterhub.connectors.simulators.patchwork import create_patchwork_platform, echo_of
from rosterhub.connectors.simulators.platform_state import PlatformState
from rosterhub.envelope import Envelope
from tests.unit.connectors.outbound_builders import offer_view

PLATFORMS = ("patchwork", "locums_nest", "healthroster", "nhsp", "esr", "fhir")
#: The kinds the booking and availability processors declare: about shifts and bookings (this table's subject;
#: the payroll kinds are tested in test_payroll_adapters.py).
UPDATE_KINDS = tuple(
    k.name for k in declared().values() if k.source in ("/rosterhub/booking", "/rosterhub/availability")
)
NMC = "https://fhir.hl7.org.uk/Id/nmc-number"
GMC = "https://fhir.hl7.org.uk/Id/gmc-number"
AT = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)


def adapter(platform: str) -> Any:
    return importlib.import_module(f"rosterhub.connectors.outbound.adapters.{platform}").ADAPTER


def destination(platform: str, trust: str = "RXX") -> Destination:
    return Destination(f"{platform}-{trust}", trust, platform, url="http://sim", folder="/drop", secret="s3cret")


def view(shift_id: str, **extra: Any) -> dict[str, Any]:
    trust = shift_id.split(":")[1]
    return offer_view(shift_id, trust={"ods_code": trust, "name": trust}, **extra)


WORKER = {
    "person_id": "person-1",
    "display_name": "Jo Bloggs",
    "identifiers": [
        {"system": NMC, "value": "71A2998E"},
        {"system": GMC, "value": "7012345"},
        {"system": "https://rosterhub.org/Id/patchwork/RHQ", "value": "w-9"},
    ],
}


def update(
    kind: str, shift_id: str, booking_id: str = "patchwork:RHQ:55012", key: str | None = None, **data: Any
) -> Update:
    shift = view(shift_id)
    event_data = {
        "booking_id": booking_id,
        "shift_id": shift_id,
        "worker": WORKER,
        "host_trust": shift["trust"],
        "start": shift["start"],
        "end": shift["end"],
        **data,
    }
    types = {
        "shift_open": "view.v1.ShiftAvailability",
        "shift_withdrawn": "view.v1.ShiftAvailability",
        "booking_confirmed": "booking.v1.BookingConfirmed",
        "booking_rejected": "booking.v1.BookingRejected",
        "shift_filled": "booking.v1.ShiftFilled",
        "booking_cancelled": "booking.v1.BookingCancelled",
        "no_show": "booking.v1.NoShow",
    }
    if kind in ("shift_open", "shift_withdrawn"):
        event_data = shift
    env = Envelope(
        type=f"rosterhub.{types[kind]}", source="/rosterhub/booking", data=event_data, id=f"ev-{kind}", time=AT
    )
    return Update(key or f"{kind}:{shift_id}", "dest", kind, shift_id, shift_id, env, shift)  # type: ignore[arg-type]


# which kinds each platform is told, for a shift it hosts (booked through Patchwork) and for a partner's shift
# booked through it
HOSTED = {
    "patchwork": set(UPDATE_KINDS),
    "locums_nest": {"shift_filled", "booking_cancelled", "no_show"},
    "healthroster": {"shift_filled", "booking_cancelled", "no_show"},
    "nhsp": {"shift_withdrawn", "shift_filled", "booking_cancelled"},
    "esr": {"shift_filled", "booking_cancelled", "no_show"},
    "fhir": {"shift_open", "shift_withdrawn", "shift_filled", "booking_cancelled", "no_show"},
}
PARTNER = {
    "patchwork": set(UPDATE_KINDS),
    "locums_nest": {"shift_open", "shift_withdrawn", "booking_confirmed", "booking_rejected", "booking_cancelled"},
    "healthroster": set(),
    "nhsp": {"shift_open", "shift_withdrawn", "booking_confirmed", "booking_rejected", "booking_cancelled", "no_show"},
    "esr": {"shift_filled", "booking_cancelled", "no_show"},
    "fhir": {"shift_open", "shift_withdrawn", "shift_filled", "booking_cancelled", "no_show"},
}
OWN_IDS = {
    "patchwork": "RXX:884213",
    "locums_nest": "RXX:77120",
    "healthroster": "RXX:7731904",
    "nhsp": "RXX:NHSP-RQ-100201",
    "esr": "RXX:1",
    "fhir": "RXX:slot-1",
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_kind_is_rendered_or_deliberately_ignored(platform: str) -> None:
    hosted = f"{platform}:{OWN_IDS[platform]}"
    partner = "healthroster:RXX:7731904" if platform != "healthroster" else "patchwork:RXX:884213"
    own_booking = f"{platform}:RXX:bk_1"  # a booking made through this platform
    for shift_id, expected in ((hosted, HOSTED[platform]), (partner, PARTNER[platform])):
        rendered = set()
        for kind in UPDATE_KINDS:
            booking = own_booking if shift_id == partner else "patchwork:RHQ:55012"
            if platform in ("patchwork",):
                booking = "patchwork:RHQ:55012"
            out = adapter(platform).render(update(kind, shift_id, booking, shift_reopened=True), destination(platform))
            assert out is None or isinstance(out, HttpCall | FileDrop)
            if out is not None:
                rendered.add(kind)
                body = out.body if isinstance(out, HttpCall) else out.content
                assert f"{kind}:{shift_id}".encode() in body  # the idempotency key travels in every payload
        assert rendered == expected, (platform, shift_id)


def test_same_update_same_bytes() -> None:
    for platform in PLATFORMS:
        u = update("shift_filled", f"{platform}:{OWN_IDS[platform]}")
        assert adapter(platform).render(u, destination(platform)) == adapter(platform).render(u, destination(platform))


def test_patchwork_webhook_body_and_signature() -> None:
    call = adapter("patchwork").render(update("shift_filled", "patchwork:RXX:884213"), destination("patchwork"))
    assert (call.method, call.path, call.headers) == ("POST", "/webhooks/rosterhub", {SIGN: "hmac-sha256"})
    body = json.loads(call.body)
    assert body["event"] == "shift.filled" and body["id"] == "shift_filled:patchwork:RXX:884213"
    assert body["data"] == {
        "hub_reference": body["id"],
        "hub_shift_id": "patchwork:RXX:884213",
        "shift_id": "884213",
        "organisation_ods": "RXX",
        "booking_id": "patchwork:RHQ:55012",
        "worker": {"name": "Jo Bloggs", "register": "gmc", "registration_number": "7012345"},
    }
    headers = wire_headers(call, destination("patchwork"), body["id"], now=AT.timestamp())
    assert SIGN not in headers and headers["Idempotency-Key"] == body["id"]
    verify(
        b"s3cret",
        headers["X-Rosterhub-Timestamp"],
        headers["X-Rosterhub-Signature"],
        call.body,
        now=AT,
        tolerance_s=300,
    )
    with pytest.raises(ValueError, match="secret"):
        wire_headers(call, Destination("p", "RXX", "patchwork", url="http://x"), "k", now=0)


def test_locums_nest_calls() -> None:
    fill = adapter("locums_nest").render(update("shift_filled", "locums_nest:RXX:77120"), destination("locums_nest"))
    assert (fill.method, fill.path, fill.headers) == ("POST", "/api/v2/shifts/77120/fill", {AUTH: "bearer"})
    doctor = {"id": None, "gmc_number": "7012345", "name": "Jo Bloggs"}
    assert json.loads(fill.body) == {
        "booking_id": "patchwork:RHQ:55012",
        "doctor": doctor,
        "reference": "shift_filled:locums_nest:RXX:77120",
    }
    headers = wire_headers(fill, destination("locums_nest"), "k-1", now=0)
    assert headers["Authorization"] == "Bearer s3cret" and AUTH not in headers
    decline = adapter("locums_nest").render(
        update("booking_rejected", "healthroster:RXX:1", "locums_nest:RXX:bk_5531", reason_codes=["SHIFT_FILLED"]),
        destination("locums_nest"),
    )
    assert decline.path == "/api/v2/bookings/bk_5531/decline"
    assert json.loads(decline.body)["reasons"] == ["SHIFT_FILLED"]
    offer = adapter("locums_nest").render(update("shift_open", "healthroster:RXX:1"), destination("locums_nest"))
    assert (offer.method, offer.path) == ("PUT", "/api/v2/external_shifts/healthroster:RXX:1")
    listed = json.loads(offer.body)
    assert listed["start"] == "2026-10-24T20:00:00"  # local wall clock, no offset (BST)
    rate = {"amount": 24.5, "per": "hour"}
    assert (listed["escalation"], listed["shift_type"], listed["rate"]) == ("collaborative", "night", rate)


def test_platform_labels_come_from_the_platforms_own_mapping() -> None:
    offered = json.loads(
        adapter("patchwork").render(update("shift_open", "healthroster:RXX:1"), destination("patchwork")).body
    )["data"]
    assert (offered["grade"], offered["staff_group"], offered["visibility"]) == (
        "Band 5",
        "Registered Nursing",
        "collaborative",
    )
    assert offered["start_time"] == "2026-10-24T20:00:00+01:00"  # with its offset, as Patchwork writes times
    row = adapter("nhsp").render(update("shift_open", "healthroster:RXX:1"), destination("nhsp")).content
    assert b",Registered Nurse,Band 5," in row


def test_fhir_bundles_are_valid_r4() -> None:
    for kind in ("shift_open", "shift_withdrawn", "shift_filled", "booking_cancelled", "no_show"):
        for shift_id in ("fhir:RXX:slot-1", "healthroster:RXX:7731904"):
            call = adapter("fhir").render(update(kind, shift_id, shift_reopened=True), destination("fhir"))
            assert call.content_type == "application/fhir+json" and call.path == ""
            bundle = Bundle.model_validate_json(call.body)
            assert bundle.type == "transaction" and bundle.identifier.value == f"{kind}:{shift_id}"
            assert all(e.request.method == "PUT" for e in bundle.entry)
    filled = json.loads(adapter("fhir").render(update("shift_filled", "fhir:RXX:slot-1"), destination("fhir")).body)
    slot, appt = (e["resource"] for e in filled["entry"])
    assert (slot["id"], slot["status"], appt["status"]) == ("slot-1", "busy", "booked")
    assert appt["slot"] == [{"reference": "Slot/slot-1"}]
    assert appt["participant"][0]["actor"]["identifier"] == {"system": GMC, "value": "7012345"}


def test_file_drops_parse_back() -> None:
    u = update(
        "booking_cancelled", "healthroster:RXX:7731904", reason="DEMAND_CHANGED", shift_reopened=True, notice_hours=30.5
    )
    drop = adapter("healthroster").render(u, destination("healthroster"))
    assert drop.name.startswith("hub_booking_updates_20261020T090000") and drop.name.endswith(".xml")
    [parsed] = parse_updates(drop.content)
    assert parsed == {
        "reference": u.key,
        "action": "Reopen",
        "DutyId": "7731904",
        "HubShiftId": "healthroster:RXX:7731904",
        "BookingReference": "patchwork:RHQ:55012",
        "Reason": "DEMAND_CHANGED",
        "NoticeHours": "30.50",
        "DutyDate": "24/10/2026",
    }
    offer = adapter("nhsp").render(update("shift_open", "healthroster:RXX:7731904"), destination("nhsp"))
    assert b"Pay Rate (\xa3/hr)\r\n" in offer.content  # cp1252 and CRLF, like NHSP's own files
    [row] = list(csv.DictReader(io.StringIO(offer.content.decode("cp1252"))))
    assert (row["Action"], row["Shift Date"], row["Start Time"], row["End Time"], row["Pay Rate (£/hr)"]) == (
        "Offer",
        "24/10/2026",
        "20:00",
        "08:00",
        "24.50",
    )
    esr = adapter("esr").render(update("shift_filled", "healthroster:RXX:7731904"), destination("esr"))
    [bkg] = parse_bookings(esr.content)
    assert (bkg["action"], bkg["duty_date"], bkg["hours"], bkg["registration_number"]) == (
        "F",
        "24-OCT-2026",
        "13.00",
        "7012345",
    )
    assert adapter("esr").render(update("shift_filled", "healthroster:RXY:1"), destination("esr")) is None


def test_platform_state_dedupes_and_follows_the_shift() -> None:
    state = PlatformState()
    assert state.apply("k1", "offer", "s-1")
    assert not state.apply("k1", "offer", "s-1") and state.repeats == 1
    assert state.open_shifts() == {"s-1"}
    assert state.apply("k2", "fill", "s-1", booking_id="b-1", worker="Jo")
    assert state.shift("s-1").status == "filled" and state.open_shifts() == set()
    assert state.apply("k3", "cancel", "s-1", booking_id="b-1", reopen=True)
    assert state.shift("s-1").status == "open" and state.bookings["b-1"] == "cancelled"
    assert state.apply("k4", "withdraw", "s-1") and state.open_shifts() == set()
    with pytest.raises(ValueError):
        state.apply("k5", "explode", "s-1")  # type: ignore[arg-type]


def _send(client: TestClient, call: HttpCall, dest: Destination, key: str, base: str = "") -> Any:
    headers = wire_headers(call, dest, key, now=datetime.now(UTC).timestamp())
    return client.request(call.method, base + call.path, content=call.body, headers=headers)


def test_every_platform_converges_to_the_hubs_view(tmp_path: Path) -> None:
    """A HealthRoster duty at RXX is offered to every bank platform, booked through Patchwork and filled:
    HealthRoster shows it filled by that worker; it leaves every open list. Redeliveries change nothing."""
    hr = HealthRosterSimulator(1, seed=2, start=date(2026, 10, 12), count=5)
    hr.step()
    duty = next(d for d in hr.duties.values() if d.state == "Approve Temp Staff Request")
    shift_id = f"healthroster:{duty.trust.ods}:{duty.id}"
    pw = TestClient(create_patchwork_platform(b"s3cret"))
    ln = LocumsNestSimulator(["RXX"], seed=1, initial_changes=0)
    lnc = TestClient(ln.app)
    fh = TestClient(create_fhir_server())
    nhsp = NhspSimulator(trusts=1, seed=3, start=date(2026, 10, 12), count=0)
    esr = EsrSimulator(1, seed=4, start=date(2026, 10, 12), count=2)
    dests = {p: destination(p, duty.trust.ods) for p in PLATFORMS}
    dests["locums_nest"] = Destination("ln-RXX", "RXX", "locums_nest", url="http://sim", secret=ln.key_for("RXX"))

    def deliver(u: Update, *platforms: str) -> None:
        for p in platforms:
            out = adapter(p).render(u, dests[p])
            if isinstance(out, FileDrop):
                (tmp_path / p).mkdir(exist_ok=True)
                (tmp_path / p / out.name).write_bytes(out.content)
            elif out is not None:
                client, base = {"patchwork": (pw, ""), "locums_nest": (lnc, ""), "fhir": (fh, "/fhir/R4")}[p]
                assert _send(client, out, dests[p], u.key, base).status_code < 300, p
        hr.receive_outbound(tmp_path / "healthroster")
        nhsp.receive_outbound(tmp_path / "nhsp")
        esr.receive_outbound(tmp_path / "esr")

    offered = update("shift_open", shift_id, key="k-open")
    for _ in range(2):  # the second time is a redelivery
        deliver(offered, "patchwork", "locums_nest", "nhsp", "fhir")
    views = {
        "patchwork": pw.app.state.platform,
        "locums_nest": ln.platform.state,
        "fhir": fh.app.state.platform,
        "nhsp": nhsp,
    }
    assert all(shift_id in v.open_shifts() for v in views.values())
    assert shift_id in hr.open_shifts()

    filled = update("shift_filled", shift_id, key="k-fill")
    withdrawn = update("shift_withdrawn", shift_id, key="k-withdrawn")
    confirmed = update("booking_confirmed", shift_id, key="k-confirmed")
    for _ in range(2):
        deliver(confirmed, "patchwork")
        deliver(filled, "healthroster", "esr", "fhir")
        deliver(withdrawn, "locums_nest", "nhsp", "patchwork")
    assert all(shift_id not in v.open_shifts() for v in views.values()) and shift_id not in hr.open_shifts()
    shown = hr.shift(shift_id)
    assert (shown.status, shown.booking_id, shown.filled_by, shown.reference) == (
        "filled",
        "patchwork:RHQ:55012",
        "Jo Bloggs",
        "k-fill",
    )
    assert esr.shift(shift_id).status == "filled"
    assert fh.app.state.platform.shift(shift_id).status == "filled"
    assert pw.app.state.platform.bookings["patchwork:RHQ:55012"] == "confirmed"
    assert [hr.repeats, esr.repeats, nhsp.repeats] == [1, 1, 2]  # each redelivered update counted, not applied
    assert pw.app.state.platform.repeats == 3 and ln.platform.state.repeats == 2
    # HealthRoster's next export carries the hub's reference on the duty: the connector's echo rule
    export = next(p for p in hr.export(tmp_path / "export"))
    assert b"<HubReference>k-fill</HubReference>" in export.read_bytes()


def test_patchwork_echoes_its_own_shift_with_the_hubs_reference() -> None:
    shift = {"shift_id": "884213", "version": 1, "organisation_ods": "RXX"}
    sent = adapter("patchwork").render(update("shift_filled", "patchwork:RXX:884213"), destination("patchwork"))
    echo = echo_of(json.loads(sent.body), shift, version=2)
    assert echo is not None and echo["event"] == "shift.updated"
    assert echo["data"]["hub_reference"] == "shift_filled:patchwork:RXX:884213" and echo["data"]["status"] == "filled"
    partner = adapter("patchwork").render(update("shift_filled", "healthroster:RXX:1"), destination("patchwork"))
    assert echo_of(json.loads(partner.body), shift, version=2) is None


@pytest.mark.parametrize("fmt", ["xml", "csv"])
def test_healthroster_export_after_a_hub_update_is_an_echo(tmp_path: Path, fmt: str) -> None:
    hr = HealthRosterSimulator(1, seed=5, start=date(2026, 10, 12), count=6, formats=fmt)
    hr.step()
    hr.export(tmp_path / "first")
    duty = next(d for d in hr.duties.values() if d.state == "Approve Temp Staff Request")
    shift_id = f"healthroster:RXX:{duty.id}"
    drop = adapter("healthroster").render(update("shift_filled", shift_id, key="k-hr"), destination("healthroster"))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / drop.name).write_bytes(drop.content)
    assert hr.receive_outbound(tmp_path / "in") == 1
    [export] = hr.export(tmp_path / "second")
    outcome = _map(export.read_bytes(), "healthroster" if fmt == "xml" else "healthroster_csv", "RXX")
    assert [s.echo for s in outcome.skipped] == [True] and not outcome.events  # only the filled duty changed
    # the roster's own next change of that duty is news again
    duty.hub_reference = None
    hr._dirty.add(duty.id)
    [again] = hr.export(tmp_path / "third")
    assert not any(
        s.echo for s in _map(again.read_bytes(), "healthroster" if fmt == "xml" else "healthroster_csv", "RXX").skipped
    )


def test_nhsp_export_after_a_hub_update_is_an_echo(tmp_path: Path) -> None:
    nhsp = NhspSimulator(trusts=1, seed=3, start=date(2026, 10, 12), count=12)
    nhsp.step()
    nhsp.export(tmp_path / "first")
    booking = next(b for b in nhsp.bookings.values() if b.status == "Provisional")
    u = update("booking_confirmed", "healthroster:RXX:1", f"nhsp:RXX:{booking.ref}", key="k-nhsp")
    drop = adapter("nhsp").render(u, destination("nhsp"))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / drop.name).write_bytes(drop.content)
    assert nhsp.receive_outbound(tmp_path / "in") == 1 and booking.status == "Booked"
    [export] = [f for f in nhsp.export(tmp_path / "second") if f.name.startswith("bookings_")]
    outcome = _map(export.read_bytes(), "nhsp", None)
    assert [s.echo for s in outcome.skipped] == [True] and not outcome.events


def _map(payload: bytes, mapping: str, trust: str | None) -> Any:
    from rosterhub.connectors.pipeline import packaged_mapping
    from rosterhub.mapping.engine import apply_mapping

    return apply_mapping(packaged_mapping(mapping, trust), payload, received_at=AT, trust=trust)
