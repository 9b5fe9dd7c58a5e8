"""Issue #7's first "done when", end to end through the real broker, connectors and simulators.

A HealthRoster-style roster at trust A (RHQ) exports a duty as a file; the file-drop connector
takes it in. One worker process runs identity, passport, availability (A's cascade shortened to
COLLABORATIVE_BANK after 5 s, so the TIMER releases it), the booking saga and outbound delivery
to five simulated platforms, each keeping its own copy of the shifts:

* HealthRoster at A (host; update files in a folder),
* Patchwork at B (RCU; signed webhooks to its platform side),
* NHSP (folder) at B, Locum's Nest (REST) and a FHIR server at C (RFR).

A nurse known through Patchwork at B (registration and credentials as the connectors publish
them; Patchwork's webhook API has no worker event) is cleared at A by the passport (A accepts
B's checks). After the release the shift must be open on every partner platform; the nurse's
request then enters as a signed Patchwork webhook through the ingress, naming the partner shift
by the hub id Patchwork was offered it with. Then: one BookingConfirmed from the hub, A's roster
shows the duty filled by that nurse, no platform lists the shift as open, and no platform
applied any update twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from rosterhub.connectors.simulators.fhir import create_fhir_server
from rosterhub.connectors.simulators.files import trusts_named
from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator
from rosterhub.connectors.simulators.locums_nest import LocumsNestSimulator
from rosterhub.connectors.simulators.nhsp import NhspSimulator
from rosterhub.connectors.simulators.platform_state import PlatformState
from rosterhub.connectors.simulators.serving import serving
from rosterhub.envelope import Envelope
from rosterhub.instants import LONDON
from rosterhub.kafka.resolve import Resolved
from rosterhub.streams.identity.match import person_id_for
from tests.integration.connectors.filedrop_support import connect_roster, prepare
from tests.integration.helpers import wait_for
from tests.integration.market_support import approve_for_bank, nurse_asks, open_market, outbound_env, post_patchwork
from tests.integration.test_booking_saga import SagaHub
from tests.support import free_port

pytestmark = pytest.mark.integration

A, B, C = "RHQ", "RCU", "RFR"
PW_SECRET = "pw-e2e-secret"
NMC = "24C5678D"
NURSE_NAME = "Amara Okafor"


@dataclass
class Market:
    hub: SagaHub
    worker_url: str
    ingress: str
    sftp: Path  # HealthRoster's export folder (the connector's inboxes)
    roster: HealthRosterSimulator  # trust A's system
    roster_out: Path  # where the hub drops HealthRoster's update files
    nhsp: NhspSimulator
    nhsp_out: Path
    patchwork: PlatformState
    locums_nest: LocumsNestSimulator
    fhir: PlatformState

    def roster_copy(self, shift_id: str) -> Any:
        self.roster.receive_updates(self.roster_out)
        return self.roster.shift(shift_id)

    def partners(self) -> dict[str, Callable[[], set[str]]]:
        """Open shift ids on every platform but the host, each read as that platform would read its inbox."""

        def nhsp() -> set[str]:
            self.nhsp.receive_outbound(self.nhsp_out)
            return self.nhsp.open_shifts()

        return {
            "patchwork": self.patchwork.open_shifts,
            "locums_nest": self.locums_nest.platform.state.open_shifts,
            "nhsp": nhsp,
            "fhir": self.fhir.open_shifts,
        }


@pytest.fixture(scope="module")
def market(kafka: Resolved, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    tmp = tmp_path_factory.mktemp("market")
    now = datetime.now(UTC)
    roster_out, nhsp_out = tmp / "out" / "healthroster", tmp / "out" / "nhsp"
    roster = HealthRosterSimulator(trusts_named([A]), seed=7, count=1, formats="xml")
    nhsp = NhspSimulator(trusts_named([A, B, C]), seed=7, count=1)
    locums_nest = LocumsNestSimulator([C], seed=7, initial_changes=0)
    fhir_app = create_fhir_server()
    with ExitStack() as stack:
        bank = open_market(
            stack, kafka, tmp, host=A, release_after="5s", employer=B, secret=PW_SECRET, nmc=NMC, now=now
        )
        hub = bank.hub
        fhir_url = stack.enter_context(serving(fhir_app, free_port()))
        ln_url = stack.enter_context(locums_nest.running(free_port()))
        destinations = [
            {"name": f"healthroster-{A}", "trust": A, "platform": "healthroster", "folder": str(roster_out)},
            bank.patchwork_destination,
            {"name": f"nhsp-{B}", "trust": B, "platform": "nhsp", "folder": str(nhsp_out)},
            {
                "name": f"locums_nest-{C}",
                "trust": C,
                "platform": "locums_nest",
                "url": ln_url,
                "secret": locums_nest.key_for(C),
            },
            {"name": f"fhir-{C}", "trust": C, "platform": "fhir", "url": f"{fhir_url}/fhir/R4"},
        ]
        url = stack.enter_context(hub.worker(**bank.cascade, **outbound_env(destinations)))
        hub.wait_cleared(url, [NMC], A, now + timedelta(days=12))
        yield Market(
            hub,
            url,
            bank.ingress,
            tmp / "sftp",
            roster,
            roster_out,
            nhsp,
            nhsp_out,
            bank.patchwork,
            locums_nest,
            fhir_app.state.platform,
        )


def _export_duty(m: Market) -> str:
    """Trust A's roster approves a Band 5 nursing long day for bank, exports it, and the connector takes it in."""
    m.roster.step()
    duty = min(m.roster.duties.values(), key=lambda d: d.id)
    approve_for_bank(duty, "LD", m.roster.today + timedelta(days=12))
    duty.changed = datetime.now(LONDON).replace(second=0, microsecond=0)  # approved just now
    report = _connect_healthroster(m)
    assert report["events_published"] >= 1 and report["rejected"] == 0, report  # (and any clock-change night)
    return f"healthroster:{A}:{duty.id}"


def _connect_healthroster(m: Market) -> dict[str, Any]:
    """A's roster exports what changed; one run of the file-drop connector over A's inbox; the file's report."""
    return connect_roster(prepare(m.hub.settings), m.roster, m.sftp, A)


def _request(m: Market, booking: str, offered_as: str) -> httpx.Response:
    """The nurse books the partner shift in Patchwork at B: Patchwork's signed webhook to the ingress."""
    return post_patchwork(m.ingress, PW_SECRET, nurse_asks(booking, B, NMC, NURSE_NAME, offered_as))


def test_a_shift_posted_at_a_is_released_booked_through_b_and_filled_everywhere(market: Market) -> None:
    m = market
    sid = _export_duty(m)
    assert sid in m.roster.open_shifts()

    # The timer releases it to the collaborative bank; every partner platform is offered it.
    def offered() -> bool:
        return all(sid in open_now() for open_now in m.partners().values())

    _wait(m, sid, offered, f"{sid} open on every partner platform after the release")
    releases = [
        e
        for e in m.hub.events(m.hub.names.events("shift"), timeout=2)
        if e.subject == sid and e.type.endswith("ShiftReleased")
    ]
    assert [(e.source, e.data["to_tier"], e.data["automatic"]) for e in releases] == [
        ("/rosterhub/availability", "COLLABORATIVE_BANK", True)
    ]
    views = [
        (v.data["status"], v.data["tier"], v.data["visible_to"])
        for v in m.hub.events(m.hub.names.availability_view, timeout=2)
        if v.subject == sid
    ]
    assert views[:2] == [("POSTED", "OWN_BANK", [A]), ("RELEASED", "COLLABORATIVE_BANK", sorted([A, B, C]))]
    offer = m.patchwork.shift(sid)
    assert offer is not None and not offer.own and offer.detail["grade"] == "Band 5"

    # The nurse asks for it through Patchwork at B, naming the shift as Patchwork was offered it.
    booking = f"PB-{uuid.uuid4().hex[:6]}"
    answer = _request(m, booking, offer.shift_id)
    assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text
    booking_id = f"patchwork:{B}:{booking}"
    decision = m.hub.wait_decided([booking_id], timeout=45)[booking_id]
    assert decision.type.endswith("BookingConfirmed"), decision.data.get("reason_codes")
    assert decision.source == "/rosterhub/booking" and decision.data["shift_id"] == sid
    assert decision.data["worker"]["person_id"] == person_id_for(f"reg:nmc:{NMC}")
    assert (decision.data["vendor"], decision.data["host_trust"]["ods_code"]) == ("patchwork", A)

    # Trust A's roster shows the duty filled by that nurse; Patchwork has the confirmation.
    filled = wait_for(
        lambda: (c := m.roster_copy(sid)) is not None and c.status == "filled" and c,
        timeout=30,
        what=f"{sid} filled in A's HealthRoster",
    )
    assert (filled.filled_by, filled.booking_id) == (NURSE_NAME, booking_id)
    wait_for(
        lambda: m.patchwork.bookings.get(booking_id) == "confirmed", timeout=30, what="the confirmation at Patchwork"
    )

    # No platform lists it as open any more.
    def gone() -> dict[str, bool] | None:
        still = {name: sid in open_now() for name, open_now in m.partners().items()}
        return None if any(still.values()) else still

    wait_for(gone, timeout=30, what=f"{sid} gone from every platform's open list")
    assert sid not in m.roster.open_shifts()
    assert m.patchwork.shift(sid).status == "withdrawn"  # type: ignore[union-attr]

    # Nothing applied twice.
    states = {"patchwork": m.patchwork, "locums_nest": m.locums_nest.platform.state, "fhir": m.fhir}
    assert {n: s.repeats for n, s in states.items()} == dict.fromkeys(states, 0)
    assert all(len(s.applied) == len(set(s.applied)) for s in states.values())
    assert (m.roster.repeats, m.nhsp.repeats) == (0, 0)
    _no_second_decision(m, booking_id)

    # A's next export shows the duty filled, with the hub's reference: recognised as an echo, not taken in.
    report = _connect_healthroster(m)
    assert (report["events_published"], report["echoes"], report["rejected"]) == (0, 1, 0), report


def _wait(m: Market, sid: str, check: Callable[[], Any], what: str, timeout: float = 45) -> Any:
    """``wait_for`` that, on timeout, says where the shift got to: its view records, shift events and offers."""
    try:
        return wait_for(check, timeout=timeout, what=what)
    except AssertionError as exc:
        views = [
            (v.data["revision"], v.data["status"], v.data["tier"], v.data["visible_to"])
            for v in m.hub.events(m.hub.names.availability_view, timeout=2)
            if v.subject == sid
        ]
        shift = [
            e.type.rsplit(".", 1)[-1]
            for e in m.hub.events(m.hub.names.events("shift"), timeout=2)
            if e.data.get("shift_id") == sid
        ]
        where = {name: sid in open_now() for name, open_now in m.partners().items()}
        raise AssertionError(f"{exc}\nviews: {views}\nshift events: {shift}\nopen on: {where}") from None


def _no_second_decision(m: Market, booking_id: str) -> None:
    """One decision for the request on events.booking (a duplicate would be a second record)."""
    mine: list[Envelope] = [
        e
        for e in m.hub.events(m.hub.names.events("booking"), timeout=2)
        if e.source == "/rosterhub/booking"
        and e.data.get("booking_id") == booking_id
        and e.type.endswith(("BookingConfirmed", "BookingRejected"))
    ]
    assert len(mine) == 1, [e.type for e in mine]
