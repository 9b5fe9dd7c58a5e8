"""What the file-based platform simulators (HealthRoster, NHSP, ESR) share.

* :func:`write_atomic`: files appear the way SFTP uploads do, as ``<name>.part`` renamed
  when complete, so the connector never reads half a file;
* realistic building blocks: trusts and wards, shift patterns (day, long day, night,
  twilight; nights across the clock changes), names, valid-format NMC/GMC/HCPC and NI
  numbers;
* how they *receive* the hub's files is :mod:`~rosterhub.connectors.simulators.hub_drops`;
* :class:`FileFeeder`: runs a simulator in a thread, exporting a batch every interval
  and applying whatever the hub dropped in the outbound folder in between.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import typer

from rosterhub.instants import LONDON

__all__ = [
    "BANDS",
    "TRUSTS",
    "WARDS",
    "FileFeeder",
    "FileSimulator",
    "Trust",
    "Ward",
    "clock_change_dates",
    "echo_paths",
    "gmc_number",
    "hcpc_number",
    "ni_number",
    "nmc_pin",
    "person_name",
    "pick_trusts",
    "run_batches",
    "trusts_named",
    "write_atomic",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Trust:
    ods: str
    name: str


@dataclass(frozen=True, slots=True)
class Ward:
    code: str
    name: str
    cost_centre: str
    staff_groups: tuple[str, ...]


#: A fictional collaborative (RXX and RXY are the trusts of the mapping samples).
TRUSTS = (
    Trust("RXX", "Riverside Hospitals NHS FT"),
    Trust("RXY", "Northgate Hospitals NHS Trust"),
    Trust("RHQ", "Sheffield Teaching Hospitals NHS FT"),
    Trust("RFR", "The Rotherham NHS FT"),
    Trust("RP5", "Doncaster and Bassetlaw Teaching Hospitals NHS FT"),
    Trust("RFF", "Barnsley Hospital NHS FT"),
    Trust("RCU", "Sheffield Children's NHS FT"),
    Trust("RWA", "Hull University Teaching Hospitals NHS Trust"),
)

_NURSING = "Nursing and Midwifery Registered"
_SUPPORT = "Additional Clinical Services"
_AHP = "Allied Health Professionals"
WARDS = (
    Ward("W7AM", "Ward 7 Acute Medicine", "W7AM01", (_NURSING, _SUPPORT)),
    Ward("W12OR", "Ward 12 Orthopaedics", "W12OR1", (_NURSING, _SUPPORT)),
    Ward("AMU", "Acute Medical Unit", "AMU001", (_NURSING, _SUPPORT)),
    Ward("ED", "Emergency Department", "ED0001", (_NURSING, _SUPPORT)),
    Ward("CCU", "Coronary Care Unit", "CCU001", (_NURSING,)),
    Ward("ITU", "Intensive Care Unit", "ITU001", (_NURSING,)),
    Ward("MATT", "Maternity Triage", "MAT001", (_NURSING,)),
    Ward("PHYS", "Physiotherapy Outpatients", "PT0001", (_AHP,)),
)

#: Agenda for Change bands each staff group is commonly booked at through a bank.
BANDS = {_NURSING: (5, 5, 5, 6, 6, 7), _SUPPORT: (2, 3, 3, 4), _AHP: (5, 6, 6, 7)}

_FIRST = (
    "Amara",
    "Sam",
    "Lee",
    "Ava",
    "Kit",
    "Jo",
    "Priya",
    "Tomasz",
    "Siobhan",
    "Chidi",
    "Zoë",
    "Mohammed",
    "Grace",
    "Owen",
    "Aisha",
    "Rhys",
    "Niamh",
    "Daniel",
    "Fatima",
    "Ewan",
    "Marta",
    "Kwame",
    "Hannah",
    "Li",
)
_LAST = (
    "Okafor",
    "O'Neill",
    "Chan",
    "Patel",
    "Morgan",
    "Bloggs",
    "Kowalski",
    "O'Brien-Smith",
    "Nwosu",
    "Hughes",
    "Khan",
    "Evans",
    "Davies",
    "MacLeod",
    "Ahmed",
    "Jones",
    "Nowak",
    "Mensah",
    "Brontë",
    "Williams",
    "Begum",
)
_TITLES = ("MR", "MRS", "MS", "MISS", "MX", "DR")
_LETTERS = "ABCDEFGHJKLMNPRSTUWY"
_NI_FIRST = "ABCEGHJKLMNOPRSTWXYZ"  # HMRC: not D F I Q U V
_NI_SECOND = "ABCEGHJKLMNPRSTWXYZ"  # HMRC: not D F I O Q U V
_HCPC = ("PH", "OT", "SL", "RA", "CH", "DT", "PA", "ODP")  # physio, OT, SLT, radiographer, ...


def trusts_named(codes: Sequence[str]) -> tuple[Trust, ...]:
    """Trusts by ODS code (the known names, else the code as name), for callers that choose their own trusts."""
    known = {t.ods: t for t in TRUSTS}
    return tuple(known.get(code, Trust(code, code)) for code in codes)


def pick_trusts(trusts: int | Sequence[Trust]) -> tuple[Trust, ...]:
    """The trusts a simulator serves: the first ``trusts`` of those the simulators know, or the ones given."""
    if not isinstance(trusts, int):
        return tuple(trusts)
    if not 1 <= trusts <= len(TRUSTS):
        raise ValueError(f"the simulators know {len(TRUSTS)} trusts; asked for {trusts}")
    return TRUSTS[:trusts]


def nmc_pin(rng: random.Random) -> str:
    """NNANNNNA, e.g. 71A2998E (the register's own check rules are not public; the shape is)."""
    return f"{rng.randint(0, 99):02d}{rng.choice(_LETTERS)}{rng.randint(0, 9999):04d}{rng.choice(_LETTERS)}"


def gmc_number(rng: random.Random) -> str:
    return f"{rng.randint(1000000, 7999999)}"


def hcpc_number(rng: random.Random) -> str:
    return f"{rng.choice(_HCPC)}{rng.randint(1, 199999):06d}"


def ni_number(rng: random.Random) -> str:
    """HMRC format (two prefix letters, six digits, suffix A-D), avoiding the never-issued prefixes."""
    while True:
        prefix = rng.choice(_NI_FIRST) + rng.choice(_NI_SECOND)
        if prefix not in ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ"):
            return f"{prefix}{rng.randint(0, 999999):06d}{rng.choice('ABCD')}"


def person_name(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(_TITLES), rng.choice(_FIRST), rng.choice(_LAST)


def clock_change_dates(start: date, days: int) -> list[date]:
    """The Saturdays in [start, start+days) whose night runs across a clock change (last Sunday of March/October)."""
    out = []
    for offset in range(days):
        d = start + timedelta(days=offset)
        sunday = d + timedelta(days=1)
        if d.weekday() == 5 and sunday.month in (3, 10) and (sunday + timedelta(days=7)).month != sunday.month:
            out.append(d)
    return out


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``<path>.part`` then rename it, as an SFTP upload does; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    part.replace(path)
    return path


class FileSimulator(Protocol):
    def step(self) -> None: ...
    def export(self, out: Path) -> list[Path]: ...
    def receive_outbound(self, folder: Path) -> int: ...


def echo_paths(files: list[Path]) -> None:
    """A simulator CLI's ``on_export``: each file it wrote, one path a line."""
    for f in files:
        typer.echo(str(f))


class FileFeeder:
    """Runs a file simulator in a thread: each ``interval_s`` it applies outbound updates, steps and exports."""

    def __init__(
        self,
        sim: FileSimulator,
        out: Path,
        *,
        interval_s: float = 10.0,
        outbound: Path | None = None,
        on_export: Callable[[list[Path]], None] | None = None,
    ) -> None:
        self.sim, self.out, self.interval_s, self.outbound, self.on_export = sim, out, interval_s, outbound, on_export
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.exported: list[Path] = []

    def batch(self) -> list[Path]:
        if self.outbound is not None:
            self.sim.receive_outbound(self.outbound)
        self.sim.step()
        files = self.sim.export(self.out)
        self.exported += files
        if self.on_export:
            self.on_export(files)
        return files

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.batch()
            except Exception:
                log.exception("file simulator batch failed")
            self._stop.wait(self.interval_s)

    def start(self) -> FileFeeder:
        self._thread = threading.Thread(target=self._run, name=f"sim-{type(self.sim).__name__}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def local_stamp(day: date, hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h % 24, m, tzinfo=LONDON) + timedelta(days=h // 24)


def run_batches(feeder: FileFeeder, batches: int, interval_s: float) -> None:
    """The simulate commands' loop: ``batches`` exports (0: until interrupted), ``interval_s`` apart."""
    done = 0
    while batches == 0 or done < batches:
        feeder.batch()
        done += 1
        if batches == 0 or done < batches:
            threading.Event().wait(interval_s)
