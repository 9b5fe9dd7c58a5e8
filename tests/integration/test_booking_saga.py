"""The booking saga on the real broker, with one worker process shared by the whole module.

Connector-shaped events go to events.worker, events.credential, events.shift and
events.booking (requests carry the vendor's local worker ids); identity stamps the
person, the shift stage holds each shift for one request at a time, the person stage
reads the passport table and the person's bookings at every trust. Issue #7's "done when":
two platforms racing for the same shifts, one person known through two platforms asking
for overlapping shifts at two trusts, and a cleared against an uncleared worker.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.envelope import Envelope, event_id
from rosterhub.events.codes import vendor_system
from rosterhub.instants import LONDON
from rosterhub.mapping.engine import apply_mapping
from rosterhub.streams.booking.outcome import SOURCE
from tests.integration.helpers import wait_for
from tests.integration.test_passport_end_to_end import EndToEnd
from tests.support import isolated_settings
from tests.unit.streams.identity_harness import worker
from tests.unit.streams.passport_builders import nurse_passport

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BOOKING = REPO / "policies" / "booking"
NURSE = {"staff_group": "NURSING_MIDWIFERY_REGISTERED", "grade": "BAND_5"}


class SagaHub(EndToEnd):
    """The passport end-to-end harness (publish as a connector would) plus the hub's booking decisions."""

    def start_worker(
        self, stack: ExitStack, name: str = "worker", state: str = "state", **extra: object
    ) -> tuple[subprocess.Popen[bytes], str]:
        """The passport's worker deciding bookings by the shipped booking policies (unless ``extra`` names
        others): the worker's default folder is relative to where it starts."""
        return super().start_worker(stack, name, state, **{"ROSTERHUB_BOOKING_POLICY_DIR": str(BOOKING), **extra})

    def decisions(self) -> dict[str, Envelope]:
        """The hub's decisions on events.booking by booking id (a duplicate has the same id and content)."""
        found = {}
        for env in self.events(self.names.events("booking"), timeout=2):
            if env.source == SOURCE and env.type.rsplit(".", 1)[-1] in ("BookingConfirmed", "BookingRejected"):
                found[env.data["booking_id"]] = env
        return found

    def wait_decided(self, booking_ids: list[str], timeout: float = 90) -> dict[str, Envelope]:
        def all_there() -> dict[str, Envelope] | None:
            got = self.decisions()
            return got if all(b in got for b in booking_ids) else None

        return wait_for(all_there, timeout=timeout, interval=1, what=f"decisions for {len(booking_ids)} bookings")


@pytest.fixture(scope="module")
def saga(kafka: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SagaHub, datetime]]:
    tmp = tmp_path_factory.mktemp("saga")
    settings = isolated_settings(kafka.bootstrap, tmp)
    hub = SagaHub(settings, tmp)
    now = datetime.now(UTC)
    # People: A (Patchwork) and B (NHSP) race; C is known through Patchwork at RHQ and Locum's Nest at RCU;
    # D is cleared, E has no credentials. Each passport is issued at RHQ, which RCU accepts.
    hub.publish(
        worker("patchwork:RHQ:pw-a", nmc="11A1111A"),
        worker("nhsp:RHQ:nh-b", nmc="22B2222B"),
        worker("patchwork:RHQ:pw-c", nmc="33C3333C"),
        worker("locumsnest:RCU:ln-c", nmc="33C3333C"),
        worker("patchwork:RHQ:pw-d", nmc="44D4444D"),
        worker("patchwork:RHQ:pw-e", nmc="55E5555E"),
    )
    for local in ("patchwork:RHQ:pw-a", "nhsp:RHQ:nh-b", "patchwork:RHQ:pw-c", "patchwork:RHQ:pw-d"):
        hub.publish(*nurse_passport(local, "RHQ", now))
    try:
        with hub.worker() as url:
            hub.wait_cleared(url, ("11A1111A", "22B2222B", "33C3333C", "44D4444D"), "RHQ", now + timedelta(days=10))
            yield hub, now
    finally:
        hub.close()


def _published(type_: str, vendor: str, trust: str, data: dict, subject: str, id_prefix: str) -> Envelope:
    """An event as the vendor's connector publishes it: its id derived from its subject, so a re-send repeats it."""
    return Envelope(
        type=type_, source=f"/vendors/{vendor}/{trust}", data=data, id=event_id(id_prefix, subject), subject=subject
    )


def _shift(shift_id: str, trust: str, start: datetime, hours: float = 8) -> Envelope:
    vendor, _, local = shift_id.split(":", 2)
    data = {
        "shift_id": shift_id,
        "version": 1,
        "vendor": vendor,
        "vendor_shift_id": local,
        "trust": {"ods_code": trust, "name": None},
        "ward": "Ward 3B",
        "shift_type": "DAY",
        **NURSE,
        "start": start,
        "end": start + timedelta(hours=hours),
    }
    return _published("rosterhub.shift.v1.ShiftPosted", vendor, trust, data, shift_id, "test-shift")


def _request(booking_id: str, shift_id: str, local: str, home: str, at: datetime) -> Envelope:
    vendor, trust, worker_id = local.split(":", 2)
    data = {
        "booking_id": booking_id,
        "shift_id": shift_id,
        "vendor": vendor,
        "requested_at": at,
        "worker": {
            "person_id": None,
            "display_name": None,
            "identifiers": [{"system": vendor_system(vendor, trust), "value": worker_id}],
        },
        "membership": "BANK",
        "home_trust": home,
        **NURSE,
    }
    return _published("rosterhub.booking.v1.BookingRequested", vendor, trust, data, booking_id, "test-request")


def _codes(env: Envelope) -> list[str]:
    return list(env.data.get("reason_codes", []))


def test_two_platforms_racing_for_twenty_shifts_get_one_confirmation_each(saga: tuple[SagaHub, datetime]) -> None:
    hub, now = saga
    base = (now + timedelta(days=10)).replace(hour=8, minute=0, second=0, microsecond=0)
    shifts = [f"patchwork:RHQ:race-{i}" for i in range(20)]
    hub.publish(*(_shift(s, "RHQ", base + timedelta(days=2 * i)) for i, s in enumerate(shifts)))
    a = [_request(f"patchwork:RHQ:ra-{i}", s, "patchwork:RHQ:pw-a", "RHQ", now) for i, s in enumerate(shifts)]
    b = [_request(f"nhsp:RHQ:rb-{i}", s, "nhsp:RHQ:nh-b", "RHQ", now) for i, s in enumerate(shifts)]
    with ThreadPoolExecutor(2) as pool:  # both platforms at the same instant
        list(pool.map(lambda reqs: hub.publish(*reqs), [a, b]))
    got = hub.wait_decided([r.data["booking_id"] for r in a + b])
    for ra, rb in zip(a, b, strict=True):
        pair = [got[ra.data["booking_id"]], got[rb.data["booking_id"]]]
        kinds = sorted(e.type.rsplit(".", 1)[-1] for e in pair)
        assert kinds == ["BookingConfirmed", "BookingRejected"], ra.data["shift_id"]
        winner = next(e for e in pair if e.type.endswith("Confirmed"))
        loser = next(e for e in pair if e.type.endswith("Rejected"))
        assert _codes(loser) == ["SHIFT_ALREADY_FILLED"]
        assert winner.data["booking_id"] in loser.data["rule_results"][0]["detail"]
        assert len(winner.data["rule_results"]) == 19 and winner.data["vendor"] in ("patchwork", "nhsp")


def test_one_person_through_two_platforms_cannot_overlap_at_two_trusts(saga: tuple[SagaHub, datetime]) -> None:
    hub, now = saga
    start = (now + timedelta(days=60)).replace(hour=8, minute=0, second=0, microsecond=0)
    hub.publish(
        _shift("patchwork:RHQ:ov-1", "RHQ", start, 12),
        _shift("locumsnest:RCU:ov-2", "RCU", start + timedelta(hours=6), 8),
    )
    reqs = [
        _request("patchwork:RHQ:ovb-1", "patchwork:RHQ:ov-1", "patchwork:RHQ:pw-c", "RHQ", now),
        _request("locumsnest:RCU:ovb-2", "locumsnest:RCU:ov-2", "locumsnest:RCU:ln-c", "RCU", now),
    ]
    hub.publish(*reqs)
    got = hub.wait_decided([r.data["booking_id"] for r in reqs])
    pair = list(got[r.data["booking_id"]] for r in reqs)
    assert sorted(e.type.rsplit(".", 1)[-1] for e in pair) == ["BookingConfirmed", "BookingRejected"]
    winner = next(e for e in pair if e.type.endswith("Confirmed"))
    loser = next(e for e in pair if e.type.endswith("Rejected"))
    assert _codes(loser) == ["DOUBLE_BOOKED"]
    clash = next(r for r in loser.data["rule_results"] if r["rule"] == "no_overlap")["detail"]
    assert winner.data["booking_id"] in clash and winner.data["host_trust"]["ods_code"] in clash
    assert winner.data["worker"]["person_id"] == loser.data["worker"]["person_id"]  # one person, linked by identity


def test_cleared_and_uncleared_workers_decide_differently(saga: tuple[SagaHub, datetime]) -> None:
    hub, now = saga
    start = (now + timedelta(days=90)).replace(hour=8, minute=0, second=0, microsecond=0)
    hub.publish(*(_shift(f"patchwork:RHQ:pp-{i}", "RHQ", start + timedelta(days=i)) for i in range(3)))
    reqs = [
        _request("patchwork:RHQ:ppb-d", "patchwork:RHQ:pp-0", "patchwork:RHQ:pw-d", "RHQ", now),
        _request("patchwork:RHQ:ppb-e", "patchwork:RHQ:pp-1", "patchwork:RHQ:pw-e", "RHQ", now),
        _request("patchwork:RHQ:ppb-x", "patchwork:RHQ:pp-2", "patchwork:RHQ:pw-nobody", "RHQ", now),
    ]
    hub.publish(*reqs)
    got = hub.wait_decided([r.data["booking_id"] for r in reqs])
    cleared, uncleared, unknown = (got[r.data["booking_id"]] for r in reqs)
    assert cleared.type.endswith("BookingConfirmed")
    assert uncleared.type.endswith("BookingRejected") and _codes(uncleared) == ["PASSPORT_NOT_CLEARED"]
    assert _codes(unknown) == ["WORKER_UNKNOWN"]
    assert "pw-nobody" in next(r for r in unknown.data["rule_results"] if r["rule"] == "worker_known")["detail"]


def test_an_nhsp_booking_of_an_nhsp_request_is_confirmed(saga: tuple[SagaHub, datetime]) -> None:
    """NHSP's bookings file is the only place the hub learns of an NHSP-hosted shift: the real mapping posts the
    request's shift with the booking, so the booking is decided (it used to end SHIFT_UNKNOWN)."""
    hub, now = saga
    # an odd day: the race test above books nh-b on even days (10..48), and a clash would refuse this one
    day = (now + timedelta(days=41)).astimezone(LONDON)
    header = (
        "Booking Reference,Request ID,Trust Code,Trust Name,Ward,Ward Code,Cost Centre,Staff Group,Grade,Shift Date,"
        "Start Time,End Time,Break (mins),Worker ID,Worker Name,Registration Body,Registration Number,Status,"
        "Status Date,Cancelled By,Cancellation Reason,Cancellation Fee Hours,Pay Rate (\u00a3/hr),Hub Reference"
    )
    row = (
        f"NHSP-BK-77001,NHSP-RQ-77001,RHQ,Harbour Quay Hospitals NHS Trust,Ward 4,W4,W401,Registered Nurse,Band 5,"
        f"{day:%d/%m/%Y},08:00,16:00,30,nh-b,B,NMC,22B2222B,Booked,{now.astimezone(day.tzinfo):%d/%m/%Y %H:%M},"
        ",,,26.14,"
    )
    outcome = apply_mapping(packaged_mapping("nhsp", None), f"{header}\r\n{row}\r\n".encode("cp1252"), received_at=now)
    assert not outcome.rejected and [e.type.rsplit(".", 1)[-1] for e in outcome.events] == [
        "ShiftPosted",
        "ShiftUpdated",
        "BookingRequested",
    ]
    # the booking first: the saga parks it until the shift arrives, as when the topics are read out of step
    hub.publish(
        *(
            Envelope(type=e.type, source=e.source, data=e.data, id=e.id, subject=e.subject)
            for e in [outcome.events[2], *outcome.events[:2]]
        )
    )
    got = hub.wait_decided(["nhsp:RHQ:NHSP-BK-77001"])["nhsp:RHQ:NHSP-BK-77001"]
    assert got.type.endswith("BookingConfirmed"), _codes(got)
    assert got.data["shift_id"] == "nhsp:RHQ:NHSP-RQ-77001" and got.data["vendor"] == "nhsp"
