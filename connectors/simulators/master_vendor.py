"""A simulated master vendor: an agency managed service booking agency workers onto released shifts.

Both sides, as the hub meets them (docs/vendors/master_vendor.md):

* it **receives** the hub's updates in the hub's standard shape (adapter ``rosterhub_webhook``,
  ``POST /rosterhub/updates``, HMAC-signed): shifts released to agency tiers (``shift_open``),
  withdrawals, and the hub's decisions on its bookings (``booking_confirmed`` / ``booking_rejected``
  with reason codes), each applied once to a
  :class:`~rosterhub.connectors.simulators.platform_state.PlatformState`;
* it **sends** its agency bookings as ``agency_bookings_<stamp>.csv`` files into the hub's inbox
  (:meth:`MasterVendor.export`): the agency, the framework it supplies under, the all-in charge
  rate and, where the trust invoked it, break glass and who authorised it; bookings the hub has
  decided on carry the hub's reference in ``Hub Reference`` (an echo the mapping skips).

Candidates and agencies are made up; a seed makes generated traffic reproducible.
"""

from __future__ import annotations

import csv
import io
import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from fastapi import FastAPI

from rosterhub.connectors.simulators.hub_webhook import mount_updates
from rosterhub.connectors.simulators.platform_state import PlatformState
from rosterhub.connectors.simulators.serving import serving
from rosterhub.instants import LONDON

__all__ = ["COLUMNS", "AgencyBooking", "MasterVendor", "create_master_vendor_app", "register_cli"]

COLUMNS = (
    "Booking Ref",
    "Trust Code",
    "Hub Shift ID",
    "Agency",
    "Framework",
    "Candidate ID",
    "Candidate Name",
    "Registration Body",
    "Registration Number",
    "Candidate Grade",
    "Staff Group",
    "Shift Date",
    "Start Time",
    "End Time",
    "Charge Rate",
    "Break Glass",
    "Authorised By",
    "Status",
    "Status Date",
    "Cancelled By",
    "Cancellation Reason",
    "Hub Reference",
)
#: the master vendor's supply chain: (agency, framework it supplies under)
AGENCIES = (
    ("Northern Care Staffing Ltd", "CCS RM6161"),
    ("Pennine Locums", "CCS RM6161"),
    ("Cityline Nursing", "Off framework"),
)


@dataclass
class AgencyBooking:
    """One booking the master vendor made (one row of its export)."""

    ref: str
    trust: str
    hub_shift_id: str
    agency: str
    framework: str
    candidate_id: str
    name: str
    nmc: str
    grade: str  # the master vendor's label (Band 5)
    staff_group: str  # its label (Registered Nurse)
    start: datetime
    end: datetime
    charge: Decimal
    break_glass: bool = False
    authorised_by: str = ""
    status: str = "Booked"
    at: datetime = field(default_factory=lambda: datetime.now(LONDON))

    def row(self, reference: str | None) -> dict[str, str]:
        start, end, at = (v.astimezone(LONDON) for v in (self.start, self.end, self.at))
        return {
            "Booking Ref": self.ref,
            "Trust Code": self.trust,
            "Hub Shift ID": self.hub_shift_id,
            "Agency": self.agency,
            "Framework": self.framework,
            "Candidate ID": self.candidate_id,
            "Candidate Name": self.name,
            "Registration Body": "NMC",
            "Registration Number": self.nmc,
            "Candidate Grade": self.grade,
            "Staff Group": self.staff_group,
            "Shift Date": start.strftime("%d/%m/%Y"),
            "Start Time": start.strftime("%H:%M"),
            "End Time": end.strftime("%H:%M"),
            "Charge Rate": f"£{self.charge:.2f}",
            "Break Glass": "Y" if self.break_glass else "N",
            "Authorised By": self.authorised_by,
            "Status": self.status,
            "Status Date": at.strftime("%d/%m/%Y %H:%M"),
            "Cancelled By": "",
            "Cancellation Reason": "",
            "Hub Reference": reference or "",
        }


@dataclass
class MasterVendor:
    """The master vendor's own records: the shifts offered to it, the bookings it made, the hub's answers."""

    secret: bytes
    seed: int = 7
    state: PlatformState = field(default_factory=PlatformState)
    bookings: dict[str, AgencyBooking] = field(default_factory=dict)
    answered: dict[str, str] = field(default_factory=dict)  # hub booking id -> the hub's reference (update key)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def book(self, booking: AgencyBooking) -> AgencyBooking:
        with self._lock:
            self.bookings[booking.ref] = booking
        return booking

    def on_update(self, update: dict[str, Any]) -> None:
        """The hub decided on one of our bookings: its reference goes on the row from now on (echo)."""
        booking = update.get("hub_booking_id")
        if update["update"] in ("booking_confirmed", "booking_rejected", "booking_cancelled") and booking:
            with self._lock:
                self.answered[booking] = update["id"]

    def book_offered(self, *, charge: Decimal, break_glass: bool = False, authoriser: str = "") -> list[AgencyBooking]:
        """A candidate for every shift offered and not yet booked, from the first agency that has one."""
        made = []
        for sid in sorted(self.state.open_shifts()):
            if any(b.hub_shift_id == sid for b in self.bookings.values()):
                continue
            copy = self.state.shift(sid)
            assert copy is not None
            agency, framework = self.rng.choice(AGENCIES)
            detail = copy.detail
            made.append(
                self.book(
                    AgencyBooking(
                        ref=f"MV-{self.rng.randrange(300_000, 399_999)}",
                        trust=sid.split(":")[1],
                        hub_shift_id=sid,
                        agency=agency,
                        framework=framework,
                        candidate_id=f"C-{self.rng.randrange(1000, 9999)}",
                        name="Agency Nurse",
                        nmc=f"{self.rng.randrange(10, 99)}A{self.rng.randrange(1000, 9999)}E",
                        grade=str(detail.get("grade") or "Band 5"),
                        staff_group=str(detail.get("staff_group") or "Registered Nurse"),
                        start=datetime.fromisoformat(str(detail["start"])),
                        end=datetime.fromisoformat(str(detail["end"])),
                        charge=charge,
                        break_glass=break_glass,
                        authorised_by=authoriser,
                    )
                )
            )
        return made

    def export(self, inbox: Path) -> Path | None:
        """Every booking as one ``agency_bookings_<stamp>.csv`` in ``inbox`` (written whole, then renamed)."""
        with self._lock:
            rows = [
                b.row(self.answered.get(f"master_vendor:{b.trust}:{b.ref}"))
                for b in sorted(self.bookings.values(), key=lambda b: b.ref)
            ]
        if not rows:
            return None
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        inbox.mkdir(parents=True, exist_ok=True)
        name = f"agency_bookings_{datetime.now(LONDON).strftime('%Y%m%dT%H%M%S%f')}.csv"
        part = inbox / (name + ".part")
        part.write_text(out.getvalue(), encoding="utf-8")
        return part.rename(inbox / name)


def create_master_vendor_app(vendor: MasterVendor) -> FastAPI:
    app = FastAPI(title="master-vendor-simulator")
    app.state.vendor = vendor
    mount_updates(app, vendor.secret, vendor.state, on_applied=vendor.on_update)
    return app


@contextmanager
def running(vendor: MasterVendor, port: int) -> Iterator[str]:
    with serving(create_master_vendor_app(vendor), port) as url:
        yield url


def destinations(url: str, secret: str, trusts: tuple[str, ...]) -> list[dict[str, Any]]:
    """``outbound_destinations`` entries: offered only what reached an agency tier, in its own labels."""
    tiers = ["AGENCY_TIER_1", "AGENCY_TIER_2", "AGENCY_TIER_3"]
    return [
        {
            "name": f"master_vendor-{t}",
            "trust": t,
            "platform": "master_vendor",
            "adapter": "rosterhub_webhook",
            "url": url,
            "secret": secret,
            "options": {"tiers": tiers},
        }
        for t in trusts
    ]


def register_cli(group: typer.Typer) -> None:
    @group.command("master_vendor")
    def simulate_master_vendor(
        out: Path = typer.Option(..., help="The hub's inbox for the master vendor's booking files."),
        port: int = typer.Option(8096, help="Port for the hub's updates (shifts released to agencies, decisions)."),
        secret: str = typer.Option(..., envvar="MASTER_VENDOR_HUB_SECRET", help="HMAC secret of the hub's updates."),
        trusts: str = typer.Option("RHQ", help="Comma-separated ODS codes the master vendor serves."),
        charge: str = typer.Option("23.50", help="All-in hourly charge of every booking (GBP)."),
        interval: float = typer.Option(10.0, help="Seconds between booking rounds."),
        seed: int = typer.Option(7, help="Random seed (same seed, same traffic)."),
    ) -> None:
        """Take the hub's agency-tier shifts and book them, one CSV export per round, until Ctrl-C."""
        vendor = MasterVendor(secret.encode(), seed)
        with running(vendor, port) as url:
            codes = tuple(t.strip().upper() for t in trusts.split(","))
            typer.echo(json.dumps({"outbound_destinations": destinations(url, secret, codes)}))
            while True:
                vendor.book_offered(charge=Decimal(charge))
                if (written := vendor.export(out)) is not None:
                    typer.echo(f"wrote {written.name}")
                time.sleep(interval)
