"""A simulated HealthRoster-style e-rostering system: daily Temp Staff Request exports per trust.

Each trust's roster holds duties its ward managers sent to bank: staff group, AfC band
(labelled the way that trust labels grades), ward, cost centre, early/late/day/long
day/twilight/night shifts (nights across the clock changes included), and the request
states of the bank flow (Send to Bank, Approve Temp Staff Request, Cancelled, Filled).
Every :meth:`HealthRosterSimulator.step` is one day: new requests, approvals, revisions
and cancellations; :meth:`~HealthRosterSimulator.export` writes what changed since the
last export, per trust, as XML or CSV (docs/vendors/healthroster.md) into
``<out>/<ODS>/``, atomically. RXY's system is configured like the ``healthroster.RXY``
mapping variant: job titles as grades, ISO dates, its own shift codes (always XML).

Receiving: :meth:`~HealthRosterSimulator.receive_outbound` applies the hub's booking
outcomes (``BookingConfirmed``: the duty is Filled; ``BookingCancelled``: re-opened as a
new revision), as HealthRoster would when the bank platform books a duty.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import time_ns
from typing import Any
from xml.etree import ElementTree as ET

import typer
from defusedxml import ElementTree as DefusedET

from rosterhub.connectors.simulators import healthroster_timesheets as timesheets
from rosterhub.connectors.simulators.file_command import FileCommand, file_demo_source, option, register
from rosterhub.connectors.simulators.files import (
    BANDS,
    WARDS,
    Trust,
    Ward,
    clock_change_dates,
    nmc_pin,
    person_name,
    pick_trusts,
    trusts_named,
    write_atomic,
)
from rosterhub.connectors.simulators.hub_drops import first_delivery, new_documents, take_drops
from rosterhub.connectors.simulators.platform_state import ShiftCopy
from rosterhub.instants import LONDON
from rosterhub.xml_bytes import xml_bytes

__all__ = ["Duty", "HealthRosterSimulator", "parse_updates", "register_cli"]

NS = "urn:rosterhub:vendor:healthroster:bank-export:1"
UPDATES_NS = "urn:rosterhub:vendor:healthroster:booking-import:1"
#: code -> (start, end, unpaid break)
PATTERNS = {
    "E": ("07:00", "15:00", "00:30"),
    "L": ("13:00", "21:00", "00:30"),
    "D": ("08:00", "16:00", "00:30"),
    "LD": ("07:30", "20:00", "01:00"),
    "T": ("17:00", "24:00", "00:00"),
    "N": ("20:00", "08:00", "01:00"),
}
_WEIGHTS = {"E": 3, "L": 3, "D": 1, "LD": 4, "T": 1, "N": 4}
_RXY_CODES = {"LD": "LDAY", "N": "NGT"}
_RXY_TITLES = {
    2: "Healthcare Assistant",
    3: "Senior Healthcare Assistant",
    4: "Nursing Associate",
    5: "Staff Nurse",
    6: "Senior Staff Nurse",
    7: "Sister / Charge Nurse",
}
_GRADE_STYLES = ("Band {}", "B{}", "AfC Band {}")
_REASONS = ("Vacancy", "Sickness", "Acuity", "Annual leave", "Maternity leave", "Enhanced observation")
_CANCEL = ("Demand changed", "Filled internally", "Raised in error", "Duplicate request")
_CSV_HEADER = [
    "Duty ID",
    "Revision",
    "Trust Code",
    "Roster Location",
    "Location Code",
    "Cost Centre",
    "Staff Group",
    "Grade",
    "Duty Date",
    "Shift",
    "Start",
    "End",
    "Break",
    "Request State",
    "Last Changed",
    "Comments",
    "Hub Reference",
]
_OPEN = "Approve Temp Staff Request"


@dataclass
class Duty:
    id: int
    trust: Trust
    ward: Ward
    staff_group: str
    band: int
    day: date
    code: str
    state: str
    reason: str
    changed: datetime
    revision: int = 1
    cancel_reason: str | None = None
    preferred: tuple[str, str, str] | None = None  # staff number, NMC PIN, name
    comments: str | None = None
    booked_by: str | None = None
    filled_by: str | None = None
    hub_reference: str | None = None  # the hub update that last changed the duty (exported until the roster changes it)
    filled_nmc: str | None = None  # the NMC PIN of whoever filled it (Fill update's Person nmc)
    timesheet: dict[str, Any] | None = None  # once the filled duty is over (healthroster_timesheets.py)
    #: booked on the trust's own bank module (BankStaff): staff number, NMC PIN, name, grade label, home trust
    bankstaff: tuple[str, str, str, str, str] | None = None
    rejected: str | None = None  # the reason codes of the hub's last refusal of a BankStaff booking

    @property
    def times(self) -> tuple[str, str, str]:
        return PATTERNS[self.code]


class HealthRosterSimulator:
    """One HealthRoster per trust; ``formats`` is ``xml``, ``csv`` or ``mixed`` (the 1st, 3rd... trust CSV)."""

    def __init__(
        self,
        trusts: int | Sequence[Trust] = 2,
        *,
        seed: int = 0,
        start: date | None = None,
        days: int = 28,
        count: int = 20,
        formats: str = "xml",
    ) -> None:
        self.rng = random.Random(seed)
        self.trusts = pick_trusts(trusts)
        self.today = start or date.today()
        self.days, self.count, self.formats = days, count, formats
        self.duties: dict[int, Duty] = {}
        self._dirty: set[int] = set()
        self._next_id = 7_700_000 + self.rng.randint(0, 99_999)
        self._steps = 0
        self.received: dict[str, Any] = {}
        self.repeats = 0  # hub updates received again (same reference)
        self._dirty_ts: set[int] = set()  # duties whose timesheet changed since the last export

    # --- the roster changing over a day --------------------------------------------------------
    def _clock(self) -> datetime:
        return datetime.combine(self.today, time(5, 40), LONDON)

    def _new(self, trust: Trust, day: date, code: str | None = None) -> Duty:
        ward = self.rng.choice(WARDS)
        group = self.rng.choice(ward.staff_groups)
        code = code or self.rng.choices(list(_WEIGHTS), weights=list(_WEIGHTS.values()))[0]
        state = "Send to Bank" if self.rng.random() < 0.2 else _OPEN
        duty = Duty(
            self._next_id,
            trust,
            ward,
            group,
            self.rng.choice(BANDS[group]),
            day,
            code,
            state,
            self.rng.choice(_REASONS),
            self._clock() - timedelta(minutes=self.rng.randint(5, 600)),
        )
        self._next_id += 1
        if group == "Nursing and Midwifery Registered" and self.rng.random() < 0.15:
            _, first, last = person_name(self.rng)
            duty.preferred = (str(self.rng.randint(20_000_000, 29_999_999)), nmc_pin(self.rng), f"{first} {last}")
        if code == "N" and day in clock_change_dates(day, 1):
            duty.comments = "Night across the clock change: paid on actual hours."
        self.duties[duty.id] = duty
        self._dirty.add(duty.id)
        return duty

    def step(self) -> None:
        """One day: the first step fills the next ``days`` days; later steps add, approve, revise and cancel."""
        if self._steps:
            self.today += timedelta(days=1)
        first, self._steps = self._steps == 0, self._steps + 1
        horizon = [self.today + timedelta(days=d) for d in range(1, self.days + 1)]
        for trust in self.trusts:
            for _ in range(self.count if first else max(1, self.count // 4)):
                self._new(trust, self.rng.choice(horizon))
            if first:
                for saturday in clock_change_dates(horizon[0], self.days):
                    self._new(trust, saturday, "N")
        self._timesheets()
        if first:
            return
        live = [d for d in self.duties.values() if d.day > self.today and d.state in (_OPEN, "Send to Bank")]
        for duty in live:
            roll = self.rng.random()
            if duty.state == "Send to Bank" and roll < 0.6:
                duty.state = _OPEN  # approved: first visible to bank workers now, still revision 1
            elif duty.state == _OPEN and roll < 0.05:
                duty.state, duty.cancel_reason = "Cancelled", self.rng.choice(_CANCEL)
                duty.revision += 1
            elif duty.state == _OPEN and roll < 0.12:
                duty.code = self.rng.choice([c for c in PATTERNS if c != duty.code])
                duty.revision += 1
            else:
                continue
            duty.changed = self._clock() - timedelta(minutes=self.rng.randint(1, 300))
            duty.hub_reference = None
            self._dirty.add(duty.id)

    def _timesheets(self) -> None:
        """Filled duties that are over get a timesheet; submitted ones are authorised (or queried) a day later."""
        now = self._clock()
        for duty in sorted(self.duties.values(), key=lambda d: d.id):
            start, end = self.instants(duty)
            if duty.state == "Filled" and duty.timesheet is None and end <= now:
                duty.timesheet = timesheets.new_timesheet(self.rng, duty.id, duty.day, duty.times, start, end, now)
                self._dirty_ts.add(duty.id)
            elif (
                duty.timesheet is not None
                and duty.timesheet["status"] == "Submitted"
                and end + timedelta(days=1) <= now
            ):
                timesheets.authorise(duty.timesheet, self.rng, now, f"{duty.trust.ods}-WM-0388")
                self._dirty_ts.add(duty.id)

    def instants(self, duty: Duty) -> tuple[datetime, datetime]:
        """The duty's start and end instants (an end not after the start is the next day)."""
        start_t, end_t, _ = duty.times
        start = datetime.combine(duty.day, time.fromisoformat(start_t), LONDON)
        end_day = duty.day + timedelta(days=1) if end_t <= start_t or end_t == "24:00" else duty.day
        end = datetime.combine(end_day, time(0) if end_t == "24:00" else time.fromisoformat(end_t), LONDON)
        return start, end

    def book_bank(self, duty_id: int, staff: str, nmc: str, name: str, *, home: str | None = None) -> str:
        """A bank worker books an approved duty on BankStaff, the trust's own bank module: the duty is
        ``Booked`` in the next export, with the person; returns the hub's booking id for it (the mapping's)."""
        duty = self.duties[duty_id]
        if duty.state != _OPEN:
            raise ValueError(f"duty {duty_id} is {duty.state!r}, not open to bank workers")
        grade = f"Band {duty.band}"
        duty.state, duty.bankstaff = "Booked", (staff, nmc, name, grade, home or duty.trust.ods)
        duty.revision += 1
        duty.changed = datetime.now(LONDON).replace(second=0, microsecond=0)
        duty.hub_reference = None
        self._dirty.add(duty.id)
        return f"healthroster:{duty.trust.ods}:{duty.id}-{staff}"

    # --- receiving the hub's updates ------------------------------------------------------------
    def receive_outbound(self, folder: Path) -> int:
        """Apply what the hub dropped in ``folder``: ``BankBookingUpdates`` XML files (the hub's outbound
        adapter) and, from before that existed, JSON booking outcomes; returns how many changed a duty."""
        applied = self.receive_updates(folder)
        for kind, data in new_documents(folder, self.received):
            duty = self._duty_of(str(data.get("shift_id", "")))
            if duty is None:
                continue
            if kind == "BookingConfirmed" and duty.state == _OPEN:
                duty.state, duty.booked_by = "Filled", str(data.get("booking_id"))
            elif kind == "BookingCancelled" and duty.state == "Filled":
                duty.state, duty.booked_by = _OPEN, None
            else:
                continue
            duty.revision += 1
            duty.changed = self._clock()
            self._dirty.add(duty.id)
            applied += 1
        return applied

    def receive_updates(self, folder: Path) -> int:
        """Apply the hub's ``BankBookingUpdates`` XML files (docs/vendors/healthroster.md); returns how many
        changed a duty. A reference seen before is a redelivery and changes nothing."""
        applied = 0
        for _path, content in take_drops(folder, ".xml"):
            for update in parse_updates(content):
                applied += self._apply_update(update)
        return applied

    def _apply_update(self, update: dict[str, str]) -> int:
        key = update["reference"]
        if not first_delivery(self, key, update):
            return 0
        duty = self._duty_of(update.get("HubShiftId", ""))
        if duty is None:
            return 0
        action = update["action"]
        if action in ("QueryTimesheet", "AuthoriseTimesheet"):
            return int(duty.timesheet is not None and timesheets.apply_hub_answer(duty.timesheet, update))
        if action == "Fill" and duty.state in (_OPEN, "Booked"):
            duty.state, duty.booked_by = "Filled", update.get("BookingReference") or None
            duty.filled_by = update.get("Person") or None
            duty.filled_nmc = update.get("nmc") or None
        elif action == "Reject" and duty.state == "Booked":  # the hub refused the BankStaff booking: open again
            duty.state, duty.bankstaff, duty.booked_by = _OPEN, None, None
            duty.rejected = update.get("Reasons") or ""
        elif action == "Reopen" and duty.state in ("Filled", "No Show"):
            duty.state, duty.booked_by, duty.filled_by, duty.bankstaff = _OPEN, None, None, None
        elif action == "Cancel" and duty.state != "Cancelled":
            duty.state, duty.cancel_reason = "Cancelled", update.get("Reason") or "Cancelled through the bank"
        elif action == "NoShow" and duty.state == "Filled":
            duty.state = "No Show"
        else:
            return 0
        duty.revision += 1
        duty.changed = self._clock()
        duty.hub_reference = key
        self._dirty.add(duty.id)
        return 1

    # --- this roster's view, for convergence checks -------------------------------------------------
    def open_shifts(self) -> set[str]:
        """Hub ids of the duties bank workers may book now (approved, not filled or cancelled, not past)."""
        return {self._hub_id(d) for d in self.duties.values() if d.state == _OPEN and d.day > self.today}

    def shift(self, shift_id: str) -> ShiftCopy | None:
        duty = self._duty_of(shift_id)
        if duty is None:
            return None
        states = {_OPEN: "open", "Booked": "booked", "Filled": "filled", "Cancelled": "cancelled", "No Show": "no_show"}
        status = states.get(duty.state, duty.state)
        return ShiftCopy(
            shift_id,
            status,
            own=True,
            booking_id=duty.booked_by,
            filled_by=duty.filled_by,
            reference=duty.hub_reference,
        )

    @staticmethod
    def _hub_id(duty: Duty) -> str:
        return f"healthroster:{duty.trust.ods}:{duty.id}"

    def _duty_of(self, shift_id: str) -> Duty | None:
        parts = shift_id.split(":")
        if len(parts) != 3 or parts[0] != "healthroster" or not parts[2].isdigit():
            return None
        duty = self.duties.get(int(parts[2]))
        return duty if duty is not None and duty.trust.ods == parts[1] else None

    # --- export files ---------------------------------------------------------------------------
    def export(self, out: Path) -> list[Path]:
        """Write each trust's changed duties (if any) to ``<out>/<ODS>/``; returns the files written."""
        written = []
        stamp = self._clock().strftime("%Y%m%d_%H%M")
        for i, trust in enumerate(self.trusts):
            duties = sorted((self.duties[d] for d in self._dirty if self.duties[d].trust == trust), key=lambda d: d.id)
            if not duties:
                continue
            csv_here = self.formats == "csv" or (self.formats == "mixed" and i % 2 == 0)
            fmt = "csv" if csv_here and trust.ods != "RXY" else "xml"
            body = self._xml(trust, duties, i) if fmt == "xml" else self._csv(trust, duties, i)
            written.append(write_atomic(out / trust.ods / f"bank_requests_{trust.ods}_{stamp}.{fmt}", body))
        self._dirty.clear()
        for trust in self.trusts:
            rows = [(self.duties[d], self.duties[d].timesheet) for d in sorted(self._dirty_ts)]
            filed = [(d, ts) for d, ts in rows if d.trust == trust and ts is not None]
            if filed:
                body = timesheets.csv_file(trust.ods, filed)
                written.append(write_atomic(out / trust.ods / f"timesheets_{trust.ods}_{stamp}.csv", body))
        self._dirty_ts.clear()
        return written

    def _grade(self, duty: Duty, index: int) -> str:
        if duty.trust.ods == "RXY" and duty.band in _RXY_TITLES and duty.staff_group != "Allied Health Professionals":
            return _RXY_TITLES[duty.band]
        return _GRADE_STYLES[index % len(_GRADE_STYLES)].format(duty.band)

    def _dates(self, duty: Duty) -> tuple[str, str]:
        if duty.trust.ods == "RXY":
            return duty.day.isoformat(), duty.changed.strftime("%Y-%m-%d %H:%M")
        return duty.day.strftime("%d/%m/%Y"), duty.changed.strftime("%d/%m/%Y %H:%M")

    def _xml(self, trust: Trust, duties: list[Duty], index: int) -> bytes:
        root = ET.Element(
            "BankRequestExport",
            {
                "xmlns": NS,
                "trustCode": trust.ods,
                "exportedAt": self._clock().strftime("%Y-%m-%dT%H:%M:%S"),
                "system": "HealthRoster 25.2",
            },
        )
        for d in duties:
            el = ET.SubElement(root, "Duty", {"id": str(d.id), "revision": str(d.revision)})
            day, changed = self._dates(d)
            start, end, brk = d.times
            code = _RXY_CODES.get(d.code, d.code) if trust.ods == "RXY" else d.code
            times = f"{start}-{'00:00' if end == '24:00' else end}"  # XML: an end not after the start is next day
            values = [
                ("CostCentre", d.ward.cost_centre),
                ("StaffGroup", d.staff_group),
                ("Grade", self._grade(d, index)),
                ("DutyDate", day),
                ("ShiftCode", code),
                ("Times", times),
                ("Break", brk),
                ("RequestState", d.state),
                ("RequestReason", d.reason),
            ]
            ET.SubElement(el, "RosterLocation", {"code": d.ward.code}).text = d.ward.name
            for tag, text in values:
                ET.SubElement(el, tag).text = text
            if d.preferred:
                staff, pin, name = d.preferred
                ET.SubElement(el, "PreferredPerson", {"staffNumber": staff, "gmc": "", "nmc": pin}).text = name
            if d.bankstaff and d.state in ("Booked", "Filled"):
                staff, pin, name, grade, home = d.bankstaff
                booking = ET.SubElement(el, "Booking", {"source": "BankStaff"})
                attrs = {"staffNumber": staff, "nmc": pin, "gmc": "", "grade": grade, "staffGroup": d.staff_group}
                ET.SubElement(booking, "Person", {**attrs, "homeTrust": home}).text = name
            if d.cancel_reason and d.state == "Cancelled":
                ET.SubElement(el, "CancelReason").text = d.cancel_reason
            ET.SubElement(el, "LastChanged").text = changed
            if d.hub_reference:
                ET.SubElement(el, "HubReference").text = d.hub_reference
            if d.comments:
                ET.SubElement(el, "Comments").text = d.comments
        ET.indent(root)
        return xml_bytes(root, "UTF-8", xml_declaration=True) + b"\n"

    def _csv(self, trust: Trust, duties: list[Duty], index: int) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(_CSV_HEADER)
        for d in duties:
            day, changed = self._dates(d)
            start, end, brk = d.times
            writer.writerow(
                [
                    d.id,
                    d.revision,
                    trust.ods,
                    d.ward.name,
                    d.ward.code,
                    d.ward.cost_centre,
                    d.staff_group,
                    self._grade(d, index),
                    day,
                    d.code,
                    start,
                    end,
                    brk,
                    d.state,
                    changed,
                    d.comments or "",
                    d.hub_reference or "",
                ]
            )
        return out.getvalue().encode("utf-8-sig")


def parse_updates(content: bytes) -> list[dict[str, str]]:
    """The ``Update`` elements of a ``BankBookingUpdates`` document: ``reference``, ``action`` and each child's
    text (``Person`` is the worker's name). Raises ValueError for a document that is not one."""
    root = DefusedET.fromstring(content)
    if root.tag != f"{{{UPDATES_NS}}}BankBookingUpdates":
        raise ValueError(f"not a BankBookingUpdates document: {root.tag}")
    out = []
    for el in root.findall(f"{{{UPDATES_NS}}}Update"):
        fields = {child.tag.removeprefix(f"{{{UPDATES_NS}}}"): (child.text or "").strip() for child in el}
        person = el.find(f"{{{UPDATES_NS}}}Person")
        if person is not None:
            fields["nmc"] = person.get("nmc", "")
        out.append({**fields, "reference": el.get("reference", ""), "action": el.get("action", "")})
    return out


def register_cli(group: typer.Typer) -> None:
    formats = option("formats", str, "mixed", "xml, csv or mixed (RXY always exports XML).", flag="--format")
    register(
        group,
        FileCommand(
            "healthroster",
            HealthRosterSimulator,
            "HealthRoster-style Temp Staff Request exports (XML/CSV) for N trusts.",
            count="Bank requests per trust in the first export.",
            folder_per_trust=True,
            extra=[formats],
        ),
    )


def demo_source(ctx: Any) -> Any:
    """HealthRoster in ``rosterhub run``: a daily export per trust every fifth round, read by
    `rosterhub connect healthroster`."""
    # a new seed per run: duties of an earlier demo run are already known and would only show as duplicates
    sim = HealthRosterSimulator(trusts_named(ctx.trusts), seed=ctx.seed + time_ns(), count=8, formats="mixed")
    return file_demo_source(ctx, "healthroster", sim, folder_per_trust=True)
