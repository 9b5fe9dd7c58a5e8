"""A simulated ESR (Electronic Staff Record) outbound interface: one per trust.

Each trust's ESR holds substantive staff (NI number, date of birth and address: the
personal data the hub must never publish), their assignments (Permanent, Fixed Term
Temp, Bank) and CSTF competencies with refresher-period expiries. The first export is a
MONTHLY full refresh (the initial load), as is the first export of every month; the
others are DAILY change files: new starters, updates (regrading), leavers with their
assignments terminated, renewed training, new bank assignments. Files are pipe-delimited
with a header and a trailer count (docs/vendors/esr.md), named
``ESR_<ODS>_<YYYYMMDD>_<sequence>_<DAILY|MONTHLY>.dat``, written atomically into
``<out>/<ODS>/``. :meth:`EsrSimulator.omit_from_next_refresh` leaves people out of the
next full refresh, as an extract fault or a data-entry mistake would.

Receiving: ESR is the trusts' payroll. :meth:`~EsrSimulator.receive_outbound` takes the
hub's ``PayrollLine`` documents (kept as pay lines per person) and ``MembershipChanged``
(a bank membership ``JOINED`` for a known person becomes a Bank assignment in the next
change file).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer

from rosterhub.connectors.simulators.file_command import FileCommand, file_demo_source, register
from rosterhub.connectors.simulators.files import (
    BANDS,
    WARDS,
    Trust,
    Ward,
    hcpc_number,
    ni_number,
    nmc_pin,
    person_name,
    pick_trusts,
    trusts_named,
    write_atomic,
)
from rosterhub.connectors.simulators.hub_drops import first_delivery, new_documents, take_drops
from rosterhub.connectors.simulators.platform_state import ShiftCopy

__all__ = ["EsrSimulator", "Person", "interface_file", "parse_bookings", "parse_pay", "register_cli"]

#: ESR competence name -> refresher period in years (trusts differ; these are common ones).
CSTF = {
    "Conflict Resolution": 3,
    "Equality, Diversity and Human Rights": 3,
    "Health, Safety and Welfare": 3,
    "Fire Safety": 2,
    "Infection Prevention and Control - Level 1": 3,
    "Infection Prevention and Control - Level 2": 1,
    "Information Governance and Data Security": 1,
    "Moving and Handling - Level 2": 2,
    "Preventing Radicalisation": 3,
    "Resuscitation - Level 2": 1,
    "Safeguarding Adults - Level 2": 3,
    "Safeguarding Children - Level 2": 3,
}
_POSITIONS = {
    "Nursing and Midwifery Registered": {5: "Staff Nurse", 6: "Deputy Sister/Charge Nurse", 7: "Ward Sister"},
    "Additional Clinical Services": {
        2: "Healthcare Assistant",
        3: "Senior Healthcare Assistant",
        4: "Assistant Practitioner",
    },
    "Allied Health Professionals": {
        5: "Physiotherapist",
        6: "Specialist Physiotherapist",
        7: "Advanced Physiotherapist",
    },
}
_PLACES = (
    ("Sheffield", "S1"),
    ("Sheffield", "S10"),
    ("Rotherham", "S60"),
    ("Doncaster", "DN1"),
    ("Barnsley", "S70"),
    ("Hull", "HU1"),
    ("Worksop", "S80"),
)
_STREETS = ("River Lane", "Mill Court", "New Street", "Church Road", "Station Road", "Park Avenue", "Vicarage Close")


def interface_file(
    ods: str, day: date, freq: str, sequence: int, records: Sequence[str], *, cut_second: int = 0
) -> bytes:
    """One ESR interface file (docs/vendors/esr.md): the header (the trust, the interface, the day and the 02:15 run
    that cut it, DAILY or MONTHLY, the file's sequence number), the records, and the trailer whose count the
    mapping checks. The simulator's exports and the tests' hand-made files share it, so the layout is written
    once."""
    head = f"HDR|{ods}|ESR-INT-0117|{day:%Y%m%d}|0215{cut_second:02d}|{freq}|{sequence:06d}"
    return ("\n".join([head, *records, f"TRL|{len(records)}"]) + "\n").encode("utf-8")


def _oracle(d: date | None) -> str:
    return d.strftime("%d-%b-%Y").upper() if d else ""


@dataclass
class Assignment:
    number: str
    ward: Ward
    band: int
    category: str
    start: date
    hours: str
    end: date | None = None


@dataclass
class Person:
    number: str
    title: str
    first: str
    last: str
    ni: str
    dob: date
    address: tuple[str, str, str]
    group: str
    band: int
    register: str = ""
    reg_number: str = ""
    active: bool = True
    assignments: list[Assignment] = field(default_factory=list)
    competencies: dict[str, date] = field(default_factory=dict)  # name -> achieved
    pay_lines: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _TrustEsr:
    trust: Trust
    people: dict[str, Person] = field(default_factory=dict)
    sequence: int = 400
    changes: list[str] = field(default_factory=list)  # record lines of the next change file
    omit: set[str] = field(default_factory=set)
    refreshed: bool = False
    sent: set[str] = field(default_factory=set)  # person and assignment numbers the interface has sent


class EsrSimulator:
    """ESR for ``trusts`` trusts with ``count`` substantive staff each."""

    def __init__(
        self, trusts: int | Sequence[Trust] = 2, *, seed: int = 0, start: date | None = None, count: int = 50
    ) -> None:
        self.rng = random.Random(seed)
        self.today = start or date.today()
        self.count = count
        chosen = pick_trusts(trusts)
        self.esr = {t.ods: _TrustEsr(t, sequence=self.rng.randint(100, 900)) for t in chosen}
        self._next = 10_000_000 + self.rng.randint(0, 89) * 100_000
        self._steps = 0
        self._force_refresh = False
        self.received: dict[str, Any] = {}
        self.repeats = 0  # hub booking records received again (same hub reference)
        self.bank_bookings: dict[str, dict[str, str]] = {}  # booking id -> the latest BKG record
        self.pay_lines: dict[str, dict[str, str]] = {}  # line id -> the PAY record (the employing trust's payroll)
        self.pay_batches: dict[str, dict[str, str]] = {}  # batch id -> the CTL record of its close
        for t in self.esr.values():
            for _ in range(count):
                self._hire(t, self.today - timedelta(days=self.rng.randint(30, 3650)), record=False)

    # --- people -----------------------------------------------------------------------------------
    def _hire(self, t: _TrustEsr, on: date, *, record: bool = True) -> Person:
        group = self.rng.choice(list(_POSITIONS))
        band = self.rng.choice(BANDS[group])
        title, first, last = person_name(self.rng)
        self._next += self.rng.randint(1, 40)
        town, district = self.rng.choice(_PLACES)
        address = (
            f"{self.rng.randint(1, 120)} {self.rng.choice(_STREETS)}",
            town,
            f"{district} {self.rng.randint(1, 9)}{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            f"{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
        )
        ni = ni_number(self.rng)
        if self.rng.random() < 0.3:
            ni = f"{ni[:2]} {ni[2:4]} {ni[4:6]} {ni[6:8]} {ni[8]}"  # as typed on a form
        p = Person(
            str(self._next),
            title,
            first.upper(),
            last.upper(),
            ni,
            date(1960, 1, 1) + timedelta(days=self.rng.randint(0, 15000)),
            address,
            group,
            band,
        )
        if group == "Nursing and Midwifery Registered":
            p.register, p.reg_number = "NMC", nmc_pin(self.rng)
        elif group == "Allied Health Professionals":
            p.register, p.reg_number = "HCPC", hcpc_number(self.rng)
        ward = self.rng.choice([w for w in WARDS if group in w.staff_groups] or WARDS)
        category = "Permanent" if self.rng.random() < 0.85 else "Fixed Term Temp"
        p.assignments.append(Assignment(f"{p.number}-1", ward, band, category, on, "37.50"))
        for name in self.rng.sample(list(CSTF), self.rng.randint(6, len(CSTF))):
            p.competencies[name] = self.today - timedelta(days=self.rng.randint(1, 330 * CSTF[name]))
        t.people[p.number] = p
        if record:
            t.sent.update([p.number, *(a.number for a in p.assignments)])
            t.changes += [
                self._per(p, "N"),
                *(self._asg(p, a, "N") for a in p.assignments),
                *(self._cmp(p, n) for n in p.competencies),
            ]
        return p

    def _per(self, p: Person, action: str) -> str:
        return "|".join(
            [
                "PER",
                p.number,
                action,
                p.title,
                p.first,
                p.last,
                p.ni,
                _oracle(p.dob),
                *p.address,
                p.register,
                p.reg_number,
                p.group,
                f"Band {p.band}",
            ]
        )

    def _asg(self, p: Person, a: Assignment, action: str) -> str:
        position = "Bank " + _POSITIONS[p.group][a.band] if a.category == "Bank" else _POSITIONS[p.group][a.band]
        return "|".join(
            [
                "ASG",
                p.number,
                a.number,
                action,
                a.ward.cost_centre,
                a.ward.name,
                position,
                f"Band {a.band}",
                p.group,
                a.category,
                _oracle(a.start),
                _oracle(a.end),
                a.hours,
            ]
        )

    def _cmp(self, p: Person, name: str) -> str:
        achieved = p.competencies[name]
        expiry = (
            achieved.replace(year=achieved.year + CSTF[name])
            if (achieved.month, achieved.day) != (2, 29)
            else achieved + timedelta(days=365 * CSTF[name])
        )
        return "|".join(["CMP", p.number, "NHS", "CSTF", name, _oracle(achieved), _oracle(expiry)])

    # --- a day in ESR ---------------------------------------------------------------------------
    def omit_from_next_refresh(self, trust: str, people: Iterable[str]) -> None:
        """Leave these person numbers out of the trust's next full refresh (they stay employed in ESR)."""
        self.esr[trust].omit.update(people)

    def force_refresh(self) -> None:
        self._force_refresh = True

    def step(self) -> None:
        """One day of HR activity (the first step is the initial load: nothing changes)."""
        if self._steps:
            self.today += timedelta(days=1)
        self._steps += 1
        if self._steps == 1:
            return
        for t in self.esr.values():
            for _ in range(max(1, self.count // 50)):
                self._hire(t, self.today)
            active = [p for p in t.people.values() if p.active]
            for p in self.rng.sample(active, min(len(active), max(1, self.count // 25))):
                roll = self.rng.random()
                if roll < 0.25:  # leaver: person L, open assignments terminated today
                    p.active = False
                    t.changes.append(self._per(p, "L"))
                    for a in p.assignments:
                        if a.end is None:
                            a.end = self.today
                            t.changes.append(self._asg(p, a, "T"))
                elif roll < 0.5 and p.band < max(BANDS[p.group]):  # promotion
                    p.band += 1
                    p.assignments[0].band = p.band
                    t.changes += [self._per(p, "U"), self._asg(p, p.assignments[0], "U")]
                else:  # training renewed
                    name = self.rng.choice(list(p.competencies))
                    p.competencies[name] = self.today
                    t.changes.append(self._cmp(p, name))

    def receive_outbound(self, folder: Path) -> int:
        """Apply the hub's booking files (``RHUB_*.dat``) and PayrollLine / bank MembershipChanged JSON
        documents; returns how many applied."""
        applied = self.receive_bookings(folder)
        for kind, data in new_documents(folder, self.received):
            found = self._person(data)
            if found is None:
                continue
            t, p = found
            if kind == "PayrollLine":
                p.pay_lines.append(data)
            elif (
                kind == "MembershipChanged" and data.get("membership_type") == "BANK" and data.get("change") == "JOINED"
            ):
                if any(a.category == "Bank" for a in p.assignments if a.end is None):
                    continue
                bank = Assignment(
                    f"{p.number}-{len(p.assignments) + 1}", p.assignments[0].ward, p.band, "Bank", self.today, "0.00"
                )
                p.assignments.append(bank)
                t.sent.add(bank.number)
                t.changes.append(self._asg(p, bank, "N"))
            else:
                continue
            applied += 1
        return applied

    def receive_bookings(self, folder: Path) -> int:
        """Apply the hub's pipe-delimited booking files (HDR / BKG / TRL, docs/vendors/esr.md): each ``BKG`` is
        a bank booking ESR will pay (``F``), a cancellation (``C``) or a no-show (``N``), kept per booking.
        A file whose trailer count is wrong is refused whole (ValueError), as ESR refuses a short file."""
        applied = 0
        for path, content in take_drops(folder, ".dat"):
            if not path.name.startswith("RHUB_"):
                continue
            if path.name.startswith("RHUB_PAY"):
                applied += self._receive_pay(content)
                continue
            for record in parse_bookings(content):
                if not first_delivery(self, record["hub_reference"], record):
                    continue
                self.bank_bookings[record["booking_id"]] = record
                applied += 1
        return applied

    def _receive_pay(self, content: bytes) -> int:
        """A pay file (``PAY``: one payroll line) or a batch control file (``CTL``: the batch closed)."""
        applied = 0
        for record in parse_pay(content):
            if not first_delivery(self, record["hub_reference"], record):
                continue
            if record["record_type"] == "PAY":
                self.pay_lines[record["line_id"]] = record
            else:
                self.pay_batches[record["batch_id"]] = record
            applied += 1
        return applied

    def batch(self, batch_id: str) -> tuple[list[dict[str, str]], dict[str, str] | None]:
        """A batch as ESR holds it: its lines in line order, and its control record once closed."""
        lines = sorted(
            (r for r in self.pay_lines.values() if r["batch_id"] == batch_id), key=lambda r: int(r["line_number"])
        )
        return lines, self.pay_batches.get(batch_id)

    def open_shifts(self) -> set[str]:
        """ESR lists no shifts: it pays the bookings it is told of."""
        return set()

    def shift(self, shift_id: str) -> ShiftCopy | None:
        found = [r for r in self.bank_bookings.values() if r["hub_shift_id"] == shift_id]
        if not found:
            return None
        last = found[-1]
        status = {"F": "filled", "C": "cancelled", "N": "no_show"}[last["action"]]
        return ShiftCopy(
            shift_id,
            status,
            booking_id=last["booking_id"],
            filled_by=last["worker_name"] or None,
            reference=last["hub_reference"],
        )

    def _person(self, data: dict[str, Any]) -> tuple[_TrustEsr, Person] | None:
        refs = [str(data.get("worker_id") or data.get("person_id") or "")]
        worker = data.get("worker") or {}
        refs += [
            f"esr:{i['system'].rsplit('/', 1)[-1]}:{i['value']}"
            for i in worker.get("identifiers") or []
            if "/Id/esr-person/" in str(i.get("system"))
        ]
        for ref in refs:
            parts = ref.split(":")
            if len(parts) == 3 and parts[0] == "esr" and parts[1] in self.esr and parts[2] in self.esr[parts[1]].people:
                t = self.esr[parts[1]]
                return t, t.people[parts[2]]
        return None

    # --- files -----------------------------------------------------------------------------------
    def export(self, out: Path) -> list[Path]:
        """Each trust's files for today: its change file (when anything changed), then the full refresh when one
        is due (first export, 1st of the month, or forced); sequence numbers and names keep that order."""
        written = []
        for t in self.esr.values():
            if t.changes:
                written.append(self._write(out, t, "DAILY", t.changes))
            t.changes = []
            if not t.refreshed or self.today.day == 1 or self._force_refresh:
                lines = [
                    line
                    for p in t.people.values()
                    if p.active and p.number not in t.omit
                    for line in self._current(t, p)
                ]
                written.append(self._write(out, t, "MONTHLY", lines))
                t.omit.clear()
                t.refreshed = True
        self._force_refresh = False
        return written

    def _write(self, out: Path, t: _TrustEsr, freq: str, lines: list[str]) -> Path:
        t.sequence += 1
        ods = t.trust.ods
        body = interface_file(ods, self.today, freq, t.sequence, lines, cut_second=self.rng.randint(0, 59))
        name = f"ESR_{ods}_{self.today:%Y%m%d}_{t.sequence:06d}_{freq}.dat"  # name order = file order
        return write_atomic(out / ods / name, body)

    def _current(self, t: _TrustEsr, p: Person) -> list[str]:
        """A person as a full refresh states them: open assignments, latest training; N when never sent before."""
        lines = [self._per(p, "U" if p.number in t.sent else "N")]
        lines += [self._asg(p, a, "U" if a.number in t.sent else "N") for a in p.assignments if a.end is None]
        lines += [self._cmp(p, n) for n in sorted(p.competencies)]
        t.sent.update([p.number, *(a.number for a in p.assignments)])
        return lines


def _records(content: bytes, what: str, kinds: tuple[str, ...] = ()) -> list[list[str]]:
    """The records of a hub file between its ``HDR`` (of a kind in ``kinds``, when given) and its ``TRL``, split on
    ``|``. Raises ValueError when either is missing or the trailer's count is not the records', as ESR refuses a
    short file."""
    lines = [line.split("|") for line in content.decode("utf-8").splitlines() if line.strip()]
    if len(lines) < 2 or lines[0][0] != "HDR" or lines[-1][0] != "TRL" or (kinds and lines[0][5] not in kinds):
        header = f"HDR (kind {' or '.join(kinds)})" if kinds else "HDR"
        raise ValueError(f"a hub {what} file needs a {header} first and a TRL last")
    body = lines[1:-1]
    if lines[-1][1:] != [str(len(body))]:
        raise ValueError(f"the trailer counts {lines[-1][1:]} records; the file has {len(body)}")
    return body


def parse_bookings(content: bytes) -> list[dict[str, str]]:
    """The ``BKG`` records of a hub booking file as dicts (:data:`BKG_FIELDS`); checks HDR and the TRL count."""
    from rosterhub.connectors.outbound.adapters.esr import BKG_FIELDS

    out = []
    for fields in _records(content, "booking"):
        if fields[0] != "BKG" or len(fields) != len(BKG_FIELDS) + 1:
            raise ValueError(f"not a BKG record of {len(BKG_FIELDS)} fields: {fields[0]}")
        out.append(dict(zip(BKG_FIELDS, fields[1:], strict=True)))
    return out


def parse_pay(content: bytes) -> list[dict[str, str]]:
    """The records of a hub pay file (``PAY``) or batch control file (``CTL``) as dicts with ``record_type``;
    checks HDR (kind PAY or PAYCTL) and the TRL count, as ESR refuses a short file."""
    from rosterhub.connectors.outbound.adapters._pay_file import CTL_FIELDS, PAY_FIELDS

    out = []
    for fields in _records(content, "pay", kinds=("PAY", "PAYCTL")):
        names = PAY_FIELDS if fields[0] == "PAY" else CTL_FIELDS if fields[0] == "CTL" else None
        if names is None or len(fields) != len(names) + 1:
            raise ValueError(f"not a PAY or CTL record: {fields[0]}")
        out.append({"record_type": fields[0], **dict(zip(names, fields[1:], strict=True))})
    return out


def register_cli(group: typer.Typer) -> None:
    doc = "ESR-style interface files (a monthly full refresh first, then daily change files) for N trusts."
    register(group, FileCommand("esr", EsrSimulator, doc, count="Substantive staff per trust.", folder_per_trust=True))


def registered_nurses(sim: EsrSimulator) -> list[Any]:
    """The active NMC-registered staff of every trust, as the demo's workforce sees them."""
    from rosterhub.demo_market import DemoWorker

    return [
        DemoWorker(ods, p.reg_number, f"{p.first.title()} {p.last.title()}", p.band)
        for ods, t in list(sim.esr.items())
        for p in list(t.people.values())
        if p.active and p.register == "NMC" and p.reg_number
    ]


def demo_source(ctx: Any) -> Any:
    """ESR in ``rosterhub run``: a full refresh per trust, then a change file every fifth round, read by
    `rosterhub connect esr`."""
    sim = EsrSimulator(trusts_named(ctx.trusts), seed=ctx.seed, count=25)
    workforce = getattr(ctx, "workforce", None)
    if workforce is not None:  # its registered nurses are the demo's bank nurses (rosterhub.demo_market)
        workforce.add_source(lambda: registered_nurses(sim))
    return file_demo_source(
        ctx,
        "esr",
        sim,
        folder_per_trust=True,
        # ESR hosts no shifts: it hears of every booking at its trust (the adapter keeps what changes pay)
        destination_options={"all_platforms": True},
        # the demo's collaborative secret for identity_match_key, for the connect process (never a real one)
        env={"ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY": "rosterhub-demo-collaborative-secret"},
    )
