"""A simulated NHS Professionals-style managed bank: daily bookings and timesheets CSV files.

One NHSP serves every trust of the collaborative (BankShare), so each file carries all
of them and every row names its trust. A pool of bank workers (NMC/HCPC-registered or
support workers) books requests at member trusts; bookings go Provisional -> Booked,
and some are cancelled by the worker, NHSP or the trust (within 4 hours of the start:
a 2-hour fee, NHSP's rule). After a shift the worker submits a timesheet (actual times,
a late finish now and then, nights across the clock changes claimed on the wall clock),
which the ward approves or queries. :meth:`NhspSimulator.step` is one day;
:meth:`~NhspSimulator.export` writes ``bookings_<date>.csv`` (Windows cp1252, CRLF, the
``£`` header) and ``timesheets_<date>.csv`` (UTF-8) atomically: docs/vendors/nhsp.md.

Receiving: :meth:`~NhspSimulator.receive_outbound` takes the hub's update files (an ``Offer``
of a partner trust's shift becomes a new request that keeps the ``Hub Shift ID`` it was offered with,
exported on its bookings so the hub knows which shift they are) and the older ``ShiftPosted`` /
``BookingConfirmed`` / ``BookingRejected`` documents.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from time import time_ns
from typing import Any

import typer

from rosterhub.connectors.simulators.file_command import FileCommand, file_demo_source, register
from rosterhub.connectors.simulators.files import (
    BANDS,
    WARDS,
    Trust,
    Ward,
    clock_change_dates,
    hcpc_number,
    nmc_pin,
    person_name,
    pick_trusts,
    trusts_named,
    write_atomic,
)
from rosterhub.connectors.simulators.hub_drops import first_delivery, new_documents, take_drops
from rosterhub.connectors.simulators.platform_state import ShiftCopy
from rosterhub.instants import LONDON

__all__ = ["Booking", "NhspSimulator", "register_cli"]

BOOKINGS_HEADER = [
    "Booking Reference",
    "Request ID",
    "Trust Code",
    "Trust Name",
    "Ward",
    "Ward Code",
    "Cost Centre",
    "Staff Group",
    "Grade",
    "Shift Date",
    "Start Time",
    "End Time",
    "Break (mins)",
    "Worker ID",
    "Worker Name",
    "Registration Body",
    "Registration Number",
    "Status",
    "Status Date",
    "Cancelled By",
    "Cancellation Reason",
    "Cancellation Fee Hours",
    "Pay Rate (£/hr)",
    "Hub Reference",
    "Hub Shift ID",
    "Bank Trust Code",
]
TIMESHEETS_HEADER = [
    "Timesheet ID",
    "Booking Reference",
    "Request ID",
    "Trust Code",
    "Worker ID",
    "Worker Name",
    "Registration Body",
    "Registration Number",
    "Shift Date",
    "Actual Start",
    "Actual End",
    "Break (mins)",
    "Hours Claimed",
    "Submitted At",
    "Status",
    "Approver ID",
    "Approved At",
    "Approved Hours",
    "Query Reason",
    "Query Detail",
    "Hub Shift ID",
]
_LABELS = {
    "Nursing and Midwifery Registered": "Registered Nurse",
    "Additional Clinical Services": "Healthcare Support Worker",
    "Allied Health Professionals": "Allied Health Professional",
}
#: Hub staff group codes -> NHSP labels (the older ShiftPosted documents carry the hub's codes).
_GROUP_LABELS = {
    "NURSING_MIDWIFERY_REGISTERED": "Registered Nurse",
    "ADDITIONAL_CLINICAL_SERVICES": "Healthcare Support Worker",
    "ALLIED_HEALTH_PROFESSIONALS": "Allied Health Professional",
}
_RATES = {2: "12.45", 3: "13.60", 4: "15.26", 5: "18.52", 6: "22.85", 7: "26.74"}  # GBP/hour, bank base rates
#: (start, end, break minutes): early, late, long day, night
_SHIFTS = (("07:00", "15:00", 30), ("14:00", "22:00", 30), ("07:30", "20:00", 60), ("20:00", "08:00", 60))
_WORKER_CANCEL = ("Sickness", "Worker unavailable")
_TRUST_CANCEL = ("Ward closed", "No longer required", "Filled by trust staff", "Booked in error")
_QUERIES = (
    ("Hours differ", "Rostered finish differs from the claim; please confirm"),
    ("Break differs", "Break not taken on the ward record"),
)
_STAMP = "%d/%m/%Y %H:%M"


@dataclass
class Worker:
    id: str
    name: str
    group: str
    band: int
    body: str = ""
    number: str = ""


@dataclass
class Request:
    id: str
    trust: Trust
    ward: Ward
    group: str
    band: int
    day: date
    start: str
    end: str
    break_min: int
    hub_shift_id: str | None = None  # a partner's shift the hub offered: its hub id, exported on every booking
    bank_trust: str = ""  # and the trust whose bank the offer came through (its Bank Trust Code), exported too
    status: str = "open"  # open | withdrawn | filled (through another platform) | cancelled

    def instants(self) -> tuple[datetime, datetime]:
        start = datetime.combine(self.day, time.fromisoformat(self.start), LONDON)
        end_day = self.day + timedelta(days=1) if self.end <= self.start else self.day
        return start, datetime.combine(end_day, time.fromisoformat(self.end), LONDON)


@dataclass
class Booking:
    ref: str
    request: Request
    worker: Worker
    status: str
    status_at: datetime
    cancelled_by: str = ""
    reason: str = ""
    fee_hours: str = ""
    no_show: bool = False
    hub_reference: str = ""  # the hub update that last changed the booking (exported until NHSP changes it)


@dataclass
class Timesheet:
    id: str
    booking: Booking
    actual_start: str
    actual_end: str
    claimed: Decimal
    submitted_at: datetime
    status: str = "Submitted"
    approved_at: datetime | None = None
    query: tuple[str, str] | None = None
    hub_status: dict[str, str] | None = None  # what the hub said of it (hub_timesheets_*.csv): queried / approved


class NhspSimulator:
    """One managed bank for ``trusts`` member trusts; ``count`` bookings a day."""

    def __init__(
        self,
        trusts: int | Sequence[Trust] = 3,
        *,
        seed: int = 0,
        start: date | None = None,
        count: int = 20,
        workers: int = 60,
    ) -> None:
        self.rng = random.Random(seed)
        self.trusts = pick_trusts(trusts)
        self.today = start or date.today()
        self.count = count
        self.workers = [self._worker(i) for i in range(workers)]
        self.requests: dict[str, Request] = {}
        self.bookings: dict[str, Booking] = {}
        self.timesheets: dict[str, Timesheet] = {}
        self.received: dict[str, Any] = {}
        self.repeats = 0  # hub updates received again (same Hub Reference)
        self._changed_b: set[str] = set()
        self._changed_t: set[str] = set()
        self._n = self.rng.randint(100_000, 899_999)
        self._steps = 0

    def _id(self) -> int:
        self._n += 1
        return self._n

    def _worker(self, i: int) -> Worker:
        group = self.rng.choice(list(BANDS))
        _, first, last = person_name(self.rng)
        w = Worker(f"NHSP-W-{100_000 + i * 37:06d}", f"{first} {last}", group, self.rng.choice(BANDS[group]))
        if group == "Nursing and Midwifery Registered":
            w.body, w.number = "NMC", nmc_pin(self.rng)
        elif group == "Allied Health Professionals":
            number = hcpc_number(self.rng)
            w.body, w.number = "HCPC", number if self.rng.random() < 0.8 else f"{number[:2].lower()} {number[2:]}"
        return w

    def _export_clock(self) -> datetime:
        return datetime.combine(self.today, time(23, 55), LONDON)

    def _request(self, trust: Trust, day: date, shift: tuple[str, str, int] | None = None) -> Request:
        ward = self.rng.choice(WARDS)
        group = self.rng.choice(ward.staff_groups)
        start, end, brk = shift or self.rng.choice(_SHIFTS)
        req = Request(f"NHSP-RQ-{self._id()}", trust, ward, group, self.rng.choice(BANDS[group]), day, start, end, brk)
        self.requests[req.id] = req
        return req

    def _book(self, req: Request, at: datetime, status: str = "Booked") -> Booking | None:
        able = [w for w in self.workers if w.group == req.group and w.band >= req.band]
        if not able:
            return None
        b = Booking(f"NHSP-BK-{self._id() * 10 + self.rng.randint(0, 9)}", req, self.rng.choice(able), status, at)
        self.bookings[b.ref] = b
        self._changed_b.add(b.ref)
        return b

    def step(self) -> None:
        """One day of bank activity (the first step starts at ``start``)."""
        if self._steps:
            self.today += timedelta(days=1)
        self._steps += 1
        day_at = datetime.combine(self.today, time(9), LONDON)
        for saturday in clock_change_dates(self.today, 14):
            if not any(r.day == saturday and r.start == "20:00" for r in self.requests.values()):
                self._book(self._request(self.trusts[0], saturday, _SHIFTS[3]), day_at)
        for _ in range(self.count):
            req = self._request(self.rng.choice(self.trusts), self.today + timedelta(days=self.rng.randint(1, 14)))
            at = day_at + timedelta(minutes=self.rng.randint(0, 600))
            self._book(req, at, "Provisional" if self.rng.random() < 0.15 else "Booked")
        for req in self._offered_open():
            if self.rng.random() < 0.5:  # a worker takes an offered partner shift
                self._book(req, day_at + timedelta(minutes=self.rng.randint(0, 600)))
        for b in list(self.bookings.values()):
            if b.ref in self._changed_b or b.request.day in clock_change_dates(b.request.day, 1):
                continue  # the clock-change nights are kept booked: they are what timesheets must get right
            start, _ = b.request.instants()
            if b.status == "Provisional" and self.rng.random() < 0.7:
                b.status, b.status_at = "Booked", day_at + timedelta(hours=2)
            elif b.status == "Booked" and start.date() == self.today and self.rng.random() < 0.08:
                at = start - timedelta(minutes=self.rng.randint(60, 210))  # trust cancels within 4 h: 2 h fee
                b.status, b.status_at, b.cancelled_by = "Cancelled", at, "Trust"
                b.reason, b.fee_hours = self.rng.choice(_TRUST_CANCEL), "2.00"
            elif b.status == "Booked" and start.date() > self.today + timedelta(days=1) and self.rng.random() < 0.04:
                who = self.rng.choice(("Worker", "Trust", "NHSP"))
                b.status, b.status_at, b.cancelled_by = "Cancelled", day_at + timedelta(hours=3), who
                b.reason = self.rng.choice(_WORKER_CANCEL if who == "Worker" else _TRUST_CANCEL)
            else:
                continue
            b.hub_reference = ""
            self._changed_b.add(b.ref)
        self._timesheets()

    def _timesheets(self) -> None:
        now = self._export_clock()
        for ts in self.timesheets.values():
            if ts.status == "Submitted" and ts.submitted_at.date() < self.today:
                roll = self.rng.random()
                if roll < 0.7:
                    ts.status, ts.approved_at = "Approved", datetime.combine(self.today, time(9, 12), LONDON)
                elif roll < 0.8:
                    ts.status, ts.query = "Queried", self.rng.choice(_QUERIES)
                else:
                    continue
                self._changed_t.add(ts.id)
        done = {t.booking.ref for t in self.timesheets.values()}
        for b in self.bookings.values():
            start, end = b.request.instants()
            if b.status != "Booked" or b.ref in done or end > now - timedelta(hours=1):
                continue
            late = timedelta(minutes=self.rng.choice((0, 0, 0, 15, 30)))
            actual_end = end + late
            wall = datetime.combine(actual_end.date(), actual_end.time()) - datetime.combine(start.date(), start.time())
            claimed = Decimal(wall.total_seconds() / 3600 - b.request.break_min / 60).quantize(Decimal("0.01"))
            submitted = min(now, actual_end + timedelta(minutes=40))
            ts = Timesheet(
                f"TS-{self._id() * 100 + self.rng.randint(0, 99)}",
                b,
                b.request.start,
                actual_end.strftime("%H:%M"),
                claimed,
                submitted,
            )
            self.timesheets[ts.id] = ts
            self._changed_t.add(ts.id)

    def receive_outbound(self, folder: Path) -> int:
        """Apply the hub's update files (``hub_updates_*.csv``, docs/vendors/nhsp.md) and, from before they
        existed, ShiftPosted / BookingConfirmed / BookingRejected JSON documents; returns how many applied."""
        applied = self.receive_updates(folder)
        for kind, data in new_documents(folder, self.received):
            applied += self._apply(kind, data)
        return applied

    def receive_updates(self, folder: Path) -> int:
        """Apply the hub's ``hub_updates_*.csv`` files (cp1252); a ``Hub Reference`` seen before changes nothing."""
        applied = 0
        for path, content in take_drops(folder, ".csv"):
            rows = csv.DictReader(io.StringIO(content.decode("cp1252")))
            if path.name.startswith("hub_updates_"):
                applied += sum(self._apply_update(row) for row in rows)
            elif path.name.startswith("hub_timesheets_"):
                applied += sum(self._apply_timesheet_answer(row) for row in rows)
        return applied

    def _apply_timesheet_answer(self, row: dict[str, str]) -> int:
        """The hub queried (with a reason) or approved one of NHSP's timesheets; a reference seen before is a repeat."""
        if not first_delivery(self, row["Hub Reference"], row):
            return 0
        ts = self.timesheets.get(row["Timesheet ID"])
        if ts is None:
            return 0
        if row["Action"] == "Query":
            ts.hub_status = {"status": "queried", "reason": row["Query Reason"], "detail": row["Query Detail"]}
        else:
            ts.hub_status = {"status": "approved", "hours": row["Approved Hours"]}
        return 1

    def _apply_update(self, row: dict[str, str]) -> int:
        key = row["Hub Reference"]
        if not first_delivery(self, key, row):
            return 0
        action, hub_id = row["Action"], row["Hub Shift ID"]
        req = self.requests.get(row["Request ID"]) or next(
            (r for r in self.requests.values() if r.hub_shift_id == hub_id), None
        )
        booking = self.bookings.get(row["Booking Reference"])
        if action == "Offer" and req is None:
            trust = next((t for t in self.trusts if t.ods == row["Trust Code"]), None)
            if trust is None:
                return 0
            staffed = _staffed(row.get("Staff Group") or "", row.get("Grade") or "")
            if staffed is None:  # a staff group or grade NHSP does not supply: no request, nobody books it
                return 0
            day = datetime.strptime(row["Shift Date"], "%d/%m/%Y").date()
            req = self._request(trust, day, (row["Start Time"], row["End Time"], 0))
            req.hub_shift_id, req.bank_trust = hub_id, row.get("Bank Trust Code") or ""
            req.group, req.band = staffed  # the offered shift's own, never the random ward's
        elif action == "Offer" and req is not None:
            req.status = "open"
        elif action in ("Withdraw", "Filled") and req is not None:
            req.status = "withdrawn" if action == "Withdraw" else "filled"
        elif action in ("Confirm", "Reject") and booking is not None and booking.status == "Provisional":
            at = datetime.combine(self.today, time(12), LONDON)
            if action == "Confirm":
                booking.status, booking.status_at = "Booked", at
            else:
                booking.status, booking.status_at, booking.cancelled_by, booking.reason = (
                    "Cancelled",
                    at,
                    "Trust",
                    "Booked in error",
                )
            booking.hub_reference = key
            self._changed_b.add(booking.ref)
        elif action == "Cancel" and booking is not None and booking.status != "Cancelled":
            booking.status, booking.cancelled_by = "Cancelled", "Trust"
            booking.status_at, booking.reason = datetime.combine(self.today, time(12), LONDON), row["Reasons"]
            booking.hub_reference = key
            self._changed_b.add(booking.ref)
        elif action == "Cancel" and req is not None:
            req.status = "open"
        elif action == "NoShow" and booking is not None:
            booking.no_show = True
        else:
            return 0
        return 1

    def _offered_open(self) -> list[Request]:
        """Requests made from the hub's offers that are open, ahead and not booked yet."""
        return [
            r
            for r in self.requests.values()
            if r.hub_shift_id and r.status == "open" and r.day > self.today and self._booked(r) is None
        ]

    def book_offered(self, hub_shift_id: str, at: datetime | None = None) -> Booking | None:
        """A worker books the request NHSP made from the hub's offer of ``hub_shift_id`` (a partner's shift); its
        row in the next bookings file carries that id in ``Hub Shift ID``. None: not offered, not open, or no
        worker holds the grade."""
        req = next((r for r in self._offered_open() if r.hub_shift_id == hub_shift_id), None)
        return None if req is None else self._book(req, at or datetime.combine(self.today, time(10), LONDON))

    # --- this bank's view, for convergence checks ---------------------------------------------------
    def _hub_id(self, req: Request) -> str:
        return req.hub_shift_id or f"nhsp:{req.trust.ods}:{req.id}"

    def _booked(self, req: Request) -> Booking | None:
        return next((b for b in self.bookings.values() if b.request is req and b.status != "Cancelled"), None)

    def open_shifts(self) -> set[str]:
        """Hub ids of requests its workers may book now: open, not booked, not past."""
        return {
            self._hub_id(r)
            for r in self.requests.values()
            if r.status == "open" and r.day > self.today and self._booked(r) is None
        }

    def shift(self, shift_id: str) -> ShiftCopy | None:
        req = next((r for r in self.requests.values() if self._hub_id(r) == shift_id), None)
        if req is None:
            return None
        booked = self._booked(req)
        status = "filled" if booked or req.status == "filled" else req.status
        if booked is not None and booked.no_show:
            status = "no_show"
        return ShiftCopy(
            shift_id,
            status,
            own=req.hub_shift_id is None,
            booking_id=booked.ref if booked else None,
            filled_by=booked.worker.name if booked else None,
        )

    def _apply(self, kind: str, data: dict[str, Any]) -> int:
        if kind == "ShiftPosted":
            trust = next((t for t in self.trusts if t.ods == (data.get("trust") or {}).get("ods_code")), None)
            if trust is None or any(r.hub_shift_id == data.get("shift_id") for r in self.requests.values()):
                return 0
            grade = str(data.get("grade") or "")
            band = f"Band {grade.removeprefix('BAND_')}" if grade.startswith("BAND_") else grade
            staffed = _staffed(_GROUP_LABELS.get(str(data.get("staff_group") or ""), ""), band)
            if staffed is None:
                return 0
            start = datetime.fromisoformat(str(data["start"])).astimezone(LONDON)
            end = datetime.fromisoformat(str(data["end"])).astimezone(LONDON)
            req = self._request(
                trust,
                start.date(),
                (start.strftime("%H:%M"), end.strftime("%H:%M"), int(data.get("break_minutes") or 0)),
            )
            req.hub_shift_id = str(data.get("shift_id"))
            req.group, req.band = staffed
            return 1
        ref = str(data.get("booking_id", "")).rsplit(":", 1)[-1]
        b = self.bookings.get(ref)
        if b is None or b.status != "Provisional" or kind not in ("BookingConfirmed", "BookingRejected"):
            return 0
        at = datetime.combine(self.today, time(12), LONDON)
        if kind == "BookingConfirmed":
            b.status, b.status_at = "Booked", at
        else:
            b.status, b.status_at, b.cancelled_by, b.reason = "Cancelled", at, "Trust", "Booked in error"
        self._changed_b.add(b.ref)
        return 1

    def export(self, out: Path) -> list[Path]:
        """Write today's changed bookings and timesheets (a file only when it has rows)."""
        written = []
        stamp = self.today.strftime("%Y%m%d")
        if self._changed_b:
            rows = [self._booking_row(self.bookings[r]) for r in sorted(self._changed_b)]
            body = _csv(BOOKINGS_HEADER, rows, "\r\n").encode("cp1252")
            written.append(write_atomic(out / f"bookings_{stamp}.csv", body))
        if self._changed_t:
            rows = [self._timesheet_row(self.timesheets[t]) for t in sorted(self._changed_t)]
            written.append(write_atomic(out / f"timesheets_{stamp}.csv", _csv(TIMESHEETS_HEADER, rows, "\n").encode()))
        self._changed_b.clear()
        self._changed_t.clear()
        return written

    @staticmethod
    def _booking_row(b: Booking) -> list[str]:
        r, w = b.request, b.worker
        return [
            b.ref,
            r.id,
            r.trust.ods,
            r.trust.name,
            r.ward.name,
            r.ward.code,
            r.ward.cost_centre,
            _LABELS[r.group],
            f"Band {r.band}",
            r.day.strftime("%d/%m/%Y"),
            r.start,
            r.end,
            str(r.break_min),
            w.id,
            w.name,
            w.body,
            w.number,
            b.status,
            b.status_at.strftime(_STAMP),
            b.cancelled_by,
            b.reason,
            b.fee_hours,
            _RATES[r.band],
            b.hub_reference,
            r.hub_shift_id or "",
            r.bank_trust,
        ]

    @staticmethod
    def _timesheet_row(t: Timesheet) -> list[str]:
        b, r, w = t.booking, t.booking.request, t.booking.worker
        approved = t.status == "Approved"
        query = t.query or ("", "")
        approver = f"{r.trust.ods}-WM-{sum(map(ord, r.ward.code)) % 9000 + 1000}" if t.status != "Submitted" else ""
        return [
            t.id,
            b.ref,
            r.id,
            r.trust.ods,
            w.id,
            w.name,
            w.body,
            w.number,
            r.day.strftime("%d/%m/%Y"),
            t.actual_start,
            t.actual_end,
            str(r.break_min),
            str(t.claimed),
            t.submitted_at.strftime(_STAMP),
            t.status,
            approver,
            t.approved_at.strftime(_STAMP) if approved and t.approved_at else "",
            str(t.claimed) if approved else "",
            *query,
            r.hub_shift_id or "",
        ]


def _staffed(group_label: str, grade_label: str) -> tuple[str, int] | None:
    """(staff group, band) NHSP books an offered shift at, from the hub's labels; None when it cannot staff it.

    NHSP supplies only the staff groups of its labels, at Agenda for Change bands 2-7. An offer of any other
    staff group (a doctor's shift: ``MEDICAL_DENTAL`` passes through unlabelled) or grade (Band 8a, a
    trust-local grade) must make no request: a request at the random ward's group or the lowest band would
    have NHSP book a worker the hub refuses (STAFF_GROUP_MISMATCH, GRADE_TOO_LOW). No Grade: the lowest band.
    """
    group = {label: g for g, label in _LABELS.items()}.get(group_label)
    if group is None:
        return None
    if not grade_label:
        return group, min(BANDS[group])
    band = grade_label.removeprefix("Band ")
    return (group, int(band)) if band.isdigit() and int(band) in _RATES else None


def _csv(header: list[str], rows: list[list[str]], newline: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def register_cli(group: typer.Typer) -> None:
    doc = "NHSP-style bookings and timesheets CSV files for a collaborative of N trusts."
    register(group, FileCommand("nhsp", NhspSimulator, doc, count="New bookings per day.", folder_per_trust=False))


def enrol_nurses(sim: NhspSimulator, nurses: Sequence[Any], share: float = 0.75) -> int:
    """Make about ``share`` of the pool's registered nurses people the trusts already employ (``nurses``:
    rosterhub.demo_market.DemoWorker, with NMC PIN, name and band), as most bank workers are; the rest stay
    NHSP-only members the hub has never seen. Returns how many were enrolled."""
    pool = [w for w in sim.workers if w.body == "NMC"]
    enrolled = 0
    for worker, nurse in zip(pool, nurses, strict=False):
        if sim.rng.random() < share and nurse.band in BANDS[worker.group]:
            worker.name, worker.number, worker.band = nurse.name, nurse.number, nurse.band
            enrolled += 1
    return enrolled


def demo_source(ctx: Any) -> Any:
    """NHSP in ``rosterhub run``: a day of bookings and timesheets for the collaborative every fifth round, read
    by `rosterhub connect nhsp`."""
    sim = NhspSimulator(trusts_named(ctx.trusts), seed=ctx.seed + time_ns(), count=6)  # new bookings per run
    workforce = getattr(ctx, "workforce", None)
    if workforce is not None:  # most of its registered nurses are the trusts' own staff, known through ESR
        enrol_nurses(sim, [w for w in workforce.registered() if w.register == "nmc"])
    # the simulated NHSP supplies Bands 2-7 (``_RATES``): its destinations are offered no other grade
    supplied = {"grades": [f"BAND_{band}" for band in sorted(_RATES)]}
    return file_demo_source(ctx, "nhsp", sim, folder_per_trust=False, destination_options=supplied)
