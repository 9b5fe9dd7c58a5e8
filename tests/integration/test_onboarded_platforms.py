"""Issue #18 on the real broker: three platforms the hub learnt by mapping files, each from the vendor's own
payload to the update the hub sends back.

One worker (identity, passport, availability, booking saga, outbound delivery) serves three tests:

* **Lantum** (a mapping file and configuration only): a session published and booked on Lantum's activity
  feed, polled by the connector; the hub confirms; Lantum is told through the hub's standard update
  webhook (``rosterhub_webhook``), shows the session filled and the booking confirmed, and the change it
  then reports is an echo.
* **An agency supplier's booking feed** (a master vendor's CSV): four agency bookings on shifts released to
  the agency tiers, which the master vendor was offered; the agency rules decide (within the price cap;
  over it; off-framework and over it with break glass recorded with its authoriser; a nurse ESR says
  RCU employs substantively, whom the moonlighting rule routes to the bank); the master vendor hears each
  decision, and its next export is an echo.
* **HealthRoster/BankStaff bookings**: duties booked on the trust's own bank module come in with the roster's
  export; one is confirmed (HealthRoster gets the duty's ``Fill``), one refused (a ``Reject`` that opens the
  duty again); the next export reports both changes back as echoes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rosterhub.connectors import metrics
from rosterhub.connectors.kinds import runner
from rosterhub.connectors.registry import connector
from rosterhub.connectors.simulators.files import trusts_named
from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator
from rosterhub.connectors.simulators.lantum import Clinician, LantumSimulator
from rosterhub.connectors.simulators.master_vendor import AgencyBooking, MasterVendor, running
from rosterhub.connectors.simulators.master_vendor import destinations as mv_destinations
from rosterhub.envelope import Envelope, event_id
from rosterhub.instants import LONDON
from rosterhub.kafka.resolve import Resolved
from tests.integration.connectors.filedrop_support import Hub, connect_roster, context, newest_report, prepare, run_once
from tests.integration.helpers import wait_for
from tests.integration.market_support import approve_for_bank, outbound_env
from tests.integration.test_booking_saga import NURSE, SagaHub
from tests.support import free_port, isolated_settings
from tests.unit.streams.identity_harness import membership, worker
from tests.unit.streams.passport_builders import nurse_passport

pytestmark = pytest.mark.integration

SECRET = "onboarded-platforms-secret"
TRUST = "RHQ"
LANTUM_NMC = "24C5678D"
BANK_NMC, UNCLEARED_NMC = "31A2998E", "41B7777F"
AGENCY_NMC = {"within": "12A3456B", "over": "98B7654C", "glass": "55C1234D", "moonlighter": "66D4321E"}


@dataclass
class Platforms:
    hub: SagaHub
    connectors: Hub
    url: str
    tmp: Path
    lantum: LantumSimulator
    lantum_url: str
    vendor: MasterVendor
    roster: HealthRosterSimulator
    now: datetime


@pytest.fixture(scope="module")
def platforms(kafka: Resolved, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platforms]:
    tmp = tmp_path_factory.mktemp("onboarded")
    settings = isolated_settings(kafka.bootstrap, tmp)
    hub = SagaHub(settings, tmp)
    connectors = prepare(settings)  # raw.lantum, raw.master_vendor: declared by the YAML connectors
    now = datetime.now(UTC)
    # Nurses the passport clears at RHQ (as their vetting and ESR records publish them); one known, uncleared.
    cleared = {
        "esr:RHQ:30001": LANTUM_NMC,
        "esr:RHQ:30002": BANK_NMC,
        **{f"vetting:RHQ:{k}": nmc for k, nmc in AGENCY_NMC.items() if k != "moonlighter"},
    }
    for local, nmc in cleared.items():
        hub.publish(worker(local, nmc=nmc), *nurse_passport(local, TRUST, now))
    moonlighter = "esr:RCU:40004"  # employed substantively at RCU, by ESR's word
    hub.publish(
        worker(moonlighter, nmc=AGENCY_NMC["moonlighter"]),
        membership(moonlighter, "40004-1", kind="SUBSTANTIVE", since=(now - timedelta(days=700)).date(), at=now),
        *nurse_passport(moonlighter, "RCU", now),
    )
    hub.publish(worker("esr:RHQ:30003", nmc=UNCLEARED_NMC))
    lantum = LantumSimulator((TRUST,), SECRET.encode())
    vendor = MasterVendor(SECRET.encode())
    roster = HealthRosterSimulator(trusts_named([TRUST]), seed=11, count=3, formats="xml")
    with ExitStack() as stack:
        stack.callback(hub.close)
        lantum_url = stack.enter_context(lantum.running(free_port()))
        vendor_url = stack.enter_context(running(vendor, free_port()))
        destinations = [
            *lantum.destinations(lantum_url),
            *mv_destinations(vendor_url, SECRET, (TRUST,)),
            {"name": f"healthroster-{TRUST}", "trust": TRUST, "platform": "healthroster", "folder": str(tmp / "hr")},
        ]
        url = stack.enter_context(hub.worker(**outbound_env(destinations)))
        hub.wait_cleared(url, (LANTUM_NMC, BANK_NMC, *AGENCY_NMC.values()), TRUST, now + timedelta(days=12), timeout=90)
        yield Platforms(hub, connectors, url, tmp, lantum, lantum_url, vendor, roster, now)


def _poll_lantum(p: Platforms) -> None:
    """One ``rosterhub connect lantum --once``: the connector the YAML declares, on the hub's poll transport."""
    options = p.lantum.connector_options(p.lantum_url)
    with context(p.connectors) as ctx:
        runner("poll")(connector("lantum"), ctx, options, threading.Event(), once=True)


def test_lantum_a_session_in_booked_and_back_out(platforms: Platforms) -> None:
    p = platforms
    day = (p.now + timedelta(days=12)).astimezone(LONDON).date()
    session = p.lantum.platform.publish(TRUST, day, "07:30", "20:00", staff_group="Nursing", grade="Band 5")
    nurse = Clinician("cl_415", "Amara Okafor", "Nursing", "Band 5", TRUST, nmc_pin=LANTUM_NMC)
    booking = p.lantum.platform.book(TRUST, session["id"], nurse)
    _poll_lantum(p)
    sid, bid = f"lantum:{TRUST}:{session['id']}", f"lantum:{TRUST}:{booking}"
    decision = p.hub.wait_decided([bid], timeout=90)[bid]
    assert decision.type.endswith("BookingConfirmed"), decision.data.get("reason_codes")
    assert (decision.data["shift_id"], decision.data["vendor"]) == (sid, "lantum")
    state = p.lantum.platform.state
    wait_for(lambda: state.bookings.get(bid) == "confirmed", timeout=60, what="the confirmation at Lantum")
    filled = wait_for(
        lambda: (s := state.shift(sid)) is not None and s.status == "filled" and s, timeout=60, what="filled"
    )
    assert filled.booking_id == bid and state.repeats == 0
    # Lantum's own report of the fill carries the hub's reference: skipped as an echo, nothing published
    echoes = metrics.ECHOES.labels("lantum")._value.get()
    _poll_lantum(p)
    assert metrics.ECHOES.labels("lantum")._value.get() == echoes + 1


def _agency_shift(n: int, start: datetime) -> Envelope:
    sid = f"rotaplus:{TRUST}:AG-{n}"
    data = {
        "shift_id": sid,
        "version": 1,
        "vendor": "rotaplus",
        "vendor_shift_id": f"AG-{n}",
        "trust": {"ods_code": TRUST, "name": None},
        "ward": "Neonatal Intensive Care",
        "shift_type": "LONG_DAY",
        **NURSE,
        "start": start,
        "end": start + timedelta(hours=12, minutes=30),
        "tier": "AGENCY_TIER_3",
    }
    return Envelope("rosterhub.shift.v1.ShiftPosted", f"/vendors/rotaplus/{TRUST}", data, event_id("ag", sid), sid)


def _row(n: int, who: str, agency: str, framework: str, charge: str, shift: Envelope, **kw: Any) -> AgencyBooking:
    d = shift.data
    return AgencyBooking(
        ref=f"MV-30041{n}",
        trust=TRUST,
        hub_shift_id=d["shift_id"],
        agency=agency,
        framework=framework,
        candidate_id=f"C-{n}",
        name=f"Agency Nurse {who}",
        nmc=AGENCY_NMC[who],
        grade="Band 5",
        staff_group="Registered Nurse",
        start=d["start"],
        end=d["end"],
        charge=Decimal(charge),
        **kw,
    )


def test_an_agency_suppliers_bookings_meet_the_agency_rules(platforms: Platforms) -> None:
    p = platforms
    base = (p.now + timedelta(days=14)).astimezone(LONDON).replace(hour=7, minute=30, second=0, microsecond=0)
    shifts = [_agency_shift(n, base + timedelta(days=n)) for n in range(4)]
    p.hub.publish(*shifts)
    ids = {s.data["shift_id"] for s in shifts}
    wait_for(lambda: ids <= p.vendor.state.open_shifts(), timeout=60, what="the agency-tier shifts at the vendor")
    assert p.vendor.state.shift(shifts[0].data["shift_id"]).detail["grade"] == "Band 5"  # type: ignore[union-attr]
    bookings = [
        _row(0, "within", "Northern Care Staffing Ltd", "CCS RM6161", "23.50", shifts[0]),
        _row(1, "over", "Cityline Nursing", "CCS RM6161", "31.00", shifts[1]),
        _row(
            2,
            "glass",
            "Cityline Nursing",
            "Off framework",
            "41.50",
            shifts[2],
            break_glass=True,
            authorised_by="Director of Nursing",
        ),
        _row(3, "moonlighter", "Northern Care Staffing Ltd", "CCS RM6161", "23.00", shifts[3]),
    ]
    for b in bookings:
        p.vendor.book(b)
    inbox = p.tmp / "mv-inbox"
    p.vendor.export(inbox)
    run_once(p.connectors, "master_vendor", {"inboxes": [{"path": str(inbox)}]})
    bid = {b.ref: f"master_vendor:{TRUST}:{b.ref}" for b in bookings}
    decided = p.hub.wait_decided(list(bid.values()), timeout=120)

    def verdict(ref: str) -> tuple[str, list[str]]:
        env = decided[bid[ref]]
        return env.type.rsplit(".", 1)[-1], list(env.data.get("reason_codes") or [])

    def result(ref: str, rule: str) -> dict[str, Any]:
        return next(r for r in decided[bid[ref]].data["rule_results"] if r["rule"] == rule)

    assert verdict("MV-300410") == ("BookingConfirmed", [])  # £23.50 within the £23.76 cap, approved framework
    assert verdict("MV-300411")[0] == "BookingRejected" and "AGENCY_PRICE_CAP_EXCEEDED" in verdict("MV-300411")[1]
    assert verdict("MV-300412") == ("BookingConfirmed", [])  # break glass at RHQ, on record with its authoriser
    for rule in ("agency_framework", "agency_price_cap"):
        glass = result("MV-300412", rule)
        assert glass["reason_code"] == "AGENCY_BREAK_GLASS" and "Director of Nursing" in glass["detail"]
    assert verdict("MV-300413") == ("BookingRejected", ["MOONLIGHTING_ROUTE_TO_BANK"])
    assert "RCU (ESR assignment)" in result("MV-300413", "moonlighting")["detail"]  # nobody declared it
    # the master vendor hears every decision on its bookings
    want = {bid["MV-300410"]: "confirmed", bid["MV-300411"]: "rejected", bid["MV-300412"]: "confirmed"}
    want[bid["MV-300413"]] = "rejected"
    wait_for(
        lambda: {b: p.vendor.state.bookings.get(b) for b in want} == want, timeout=60, what="decisions at the vendor"
    )
    assert p.vendor.state.repeats == 0
    # its next export carries the hub's references: four echoes, nothing new published
    p.vendor.export(inbox)
    run_once(p.connectors, "master_vendor", {"inboxes": [{"path": str(inbox)}]})
    records = newest_report(inbox)
    assert (records["events_published"], records["echoes"]) == (0, 4), records


def _export_roster(p: Platforms) -> dict[str, Any]:
    return connect_roster(p.connectors, p.roster, p.tmp / "hr-sftp", TRUST)


def test_healthroster_bankstaff_bookings_in_and_the_roster_told(platforms: Platforms) -> None:
    p = platforms
    p.roster.step()
    duties = sorted(p.roster.duties.values(), key=lambda d: d.id)[:2]
    for n, duty in enumerate(duties):
        approve_for_bank(duty, "LD", p.roster.today + timedelta(days=12 + 2 * n))
    report = _export_roster(p)
    assert report["rejected"] == 0, report
    good = p.roster.book_bank(duties[0].id, "20458811", BANK_NMC, "Jo Bloggs")
    bad = p.roster.book_bank(duties[1].id, "20111234", UNCLEARED_NMC, "Lee Chan")
    report = _export_roster(p)
    assert report["rejected"] == 0 and report["events_published"] >= 2, report
    decided = p.hub.wait_decided([good, bad], timeout=120)
    assert decided[good].type.endswith("BookingConfirmed"), decided[good].data.get("reason_codes")
    assert decided[bad].type.endswith("BookingRejected")
    assert "PASSPORT_NOT_CLEARED" in decided[bad].data["reason_codes"]
    # HealthRoster is told: the duty's Fill for the confirmed booking, a Reject for the refused one
    first, second = (f"healthroster:{TRUST}:{d.id}" for d in duties)

    def told() -> bool:
        p.roster.receive_updates(p.tmp / "hr")
        a, b = p.roster.shift(first), p.roster.shift(second)
        return a is not None and b is not None and (a.status, b.status) == ("filled", "open")

    wait_for(told, timeout=60, what="HealthRoster's duties filled and re-opened")
    assert p.roster.shift(first).booking_id == good and second in p.roster.open_shifts()  # type: ignore[union-attr]
    assert p.roster.repeats == 0
    # the next export shows both changes with the hub's reference: echoes, nothing taken in
    report = _export_roster(p)
    assert (report["events_published"], report["echoes"], report["rejected"]) == (0, 2, 0), report
