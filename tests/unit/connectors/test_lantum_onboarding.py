"""Lantum onboarded with a mapping file and configuration only (issue #18), checked without a broker.

No Python of Lantum's own under connectors/ or mapping/: the connector is a YAML declaration
(connectors/vendors/lantum.yaml, kind poll), the outbound side the hub's standard update webhook
(adapter rosterhub_webhook). The simulator's feed maps with the shipped mapping; the hub's updates,
as the adapter renders and the engine signs them, are applied by the simulator, and the change it
then reports is recognised as an echo.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rosterhub.connectors.kinds.poll import PollQuirks
from rosterhub.connectors.outbound.adapters.rosterhub_webhook import ADAPTER
from rosterhub.connectors.outbound.contract import Destination, HttpCall, Update, wire_headers
from rosterhub.connectors.outbound.destinations import adapters, destinations, resolve
from rosterhub.connectors.registry import connectors
from rosterhub.connectors.simulators.lantum import UPDATE_PATH, LantumSimulator, create_lantum_app
from rosterhub.errors import ConfigError
from rosterhub.mapping.engine import apply_mapping, find_mapping, load_mapping
from rosterhub.settings import Settings
from tests.unit.connectors.outbound_builders import outcome, view
from tests.unit.mapping.mapping_helpers import RECEIVED

REPO = Path(__file__).resolve().parents[3]
SECRET = b"lantum-shared-secret"


def test_lantum_is_a_declaration_and_a_mapping_not_python() -> None:
    assert not (REPO / "connectors/vendors/lantum.py").exists()
    assert not any(p.name.startswith("lantum") for p in (REPO / "mapping").rglob("*.py"))
    spec = connectors()["lantum"]
    quirks = spec.quirks
    assert isinstance(quirks, PollQuirks)
    assert (spec.kind, quirks.changes_field, quirks.auth_scheme) == ("poll", "activity", "Token")
    settings = Settings(
        outbound_destinations=[
            {"name": "lantum-RHQ", "trust": "RHQ", "platform": "lantum", "adapter": "rosterhub_webhook", "url": "x"}
        ]
    )
    [dest] = destinations(settings)
    assert resolve([dest])["lantum-RHQ"] is adapters()["rosterhub_webhook"]
    with pytest.raises(ConfigError, match="rosterhub_webhook"):  # a platform without an adapter is told how
        resolve([Destination("lantum-RHQ", "RHQ", "lantum", url="x")])


def test_the_simulators_feed_maps_with_the_shipped_mapping() -> None:
    sim = LantumSimulator(("RHQ",), SECRET)
    p = sim.platform
    session = p.publish("RHQ", date(2026, 10, 24), "20:00", "08:00", staff_group="Medical", grade="ST4")
    nurse = p.clinician("RHQ")
    booking = p.book("RHQ", session["id"], nurse)
    page = p.page("RHQ", after=None, since=None, limit=10)
    outcome_ = apply_mapping(load_mapping(find_mapping("lantum")), json.dumps(page).encode(), received_at=RECEIVED)
    assert not outcome_.rejected
    posted, requested = outcome_.events
    assert posted.subject == f"lantum:RHQ:{session['id']}"
    assert (posted.data["end"] - posted.data["start"]).total_seconds() == 13 * 3600  # the clocks go back
    assert (requested.data["booking_id"], requested.data["membership"]) == (f"lantum:RHQ:{booking}", "BANK")
    assert requested.data["shift_id"] == posted.subject and requested.data["grade"] == "BAND_5"


def _update(kind: str, env, shift: dict | None = None) -> Update:  # type: ignore[no-untyped-def]
    return Update(f"key-{kind}", "lantum-RHQ", kind, env.data["shift_id"], env.data["shift_id"], env, shift)  # type: ignore[arg-type]


def test_the_hubs_updates_reach_lantum_signed_and_its_change_comes_back_as_an_echo() -> None:
    sim = LantumSimulator(("RHQ",), SECRET)
    session = sim.platform.publish("RHQ", date(2026, 10, 24), "20:00", "08:00")
    sid, booking = f"lantum:RHQ:{session['id']}", "lantum:RHQ:bk_1"
    dest = Destination(
        "lantum-RHQ", "RHQ", "lantum", url="http://sim", secret=SECRET.decode(), adapter="rosterhub_webhook"
    )
    shift_view = view(sid, 2, vendor="lantum", open_=False)
    client = TestClient(create_lantum_app(sim.platform))
    for kind, env in (
        ("booking_confirmed", outcome("BookingConfirmed", sid, booking)),
        ("shift_filled", outcome("ShiftFilled", sid, booking)),
    ):
        call = ADAPTER.render(_update(kind, env, shift_view), dest)
        assert call is not None and call.path == UPDATE_PATH
        body = json.loads(call.body)
        assert (body["shift_id"], body["booking_id"], body["hub_booking_id"]) == (session["id"], "bk_1", booking)
        forged = {**_signed(call, dest), "X-Rosterhub-Signature": "0" * 64}
        assert client.post(UPDATE_PATH, content=call.body, headers=forged).status_code == 401
        assert client.post(UPDATE_PATH, content=call.body, headers=_signed(call, dest)).status_code == 204
        assert client.post(UPDATE_PATH, content=call.body, headers=_signed(call, dest)).status_code == 204  # again
    copy = sim.platform.state.shift(sid)
    assert copy is not None and copy.status == "filled" and sim.platform.state.bookings[booking] == "confirmed"
    assert sim.platform.state.repeats == 2  # each update applied once
    page = sim.platform.page("RHQ", after=None, since=None, limit=10)
    mapped = apply_mapping(load_mapping(find_mapping("lantum")), json.dumps(page).encode(), received_at=RECEIVED)
    assert [s.echo for s in mapped.skipped] == [True]  # Lantum's session.filled, with the hub's reference


def _signed(call: HttpCall, dest: Destination) -> dict[str, str]:
    """The headers the delivery engine sends: signed now, with the destination's secret."""
    return wire_headers(call, dest, "key", time.time())


def test_partner_shifts_are_offered_in_lantums_own_labels() -> None:
    dest = Destination("lantum-RHQ", "RHQ", "lantum", url="http://sim", secret="s", adapter="rosterhub_webhook")
    partner = "healthroster:RCU:7742445"
    env = outcome("ShiftFilled", partner, "x")  # any event: shift_open reads the view
    shift_view = view(partner, 3, vendor="healthroster", host="RCU", visible_to=("RCU", "RHQ"))
    call = ADAPTER.render(_update("shift_open", env, shift_view), dest)
    assert call is not None
    body = json.loads(call.body)
    assert body["shift_id"] is None and body["hub_shift_id"] == partner
    assert (body["shift"]["grade"], body["shift"]["staff_group"], body["shift"]["tier"]) == (
        "Band 5",
        "Nursing",
        "network",
    )


def test_a_kind_the_webhook_shape_does_not_carry_is_not_sent() -> None:
    dest = Destination("lantum-RHQ", "RHQ", "lantum", url="http://sim", secret="s", adapter="rosterhub_webhook")
    env = outcome("ShiftFilled", "lantum:RHQ:ses_55004", "x")
    assert ADAPTER.render(_update("shift_filled", env, None), dest) is not None
    assert ADAPTER.render(_update("pay_line", env, None), dest) is None  # a kind declared after this shape
