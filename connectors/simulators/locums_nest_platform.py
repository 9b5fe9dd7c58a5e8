"""The state of a simulated Locum's Nest-style platform, and the change traffic it generates.

No HTTP here (that is :mod:`rosterhub.connectors.simulators.locums_nest`): organisations,
doctors, shifts and bookings, the change log the changes endpoint pages through, and the
outbound updates (fills, declines) the hub sends back. Traffic is reproducible from a
seed: the same seed gives the same sequence of changes (only ``changed_at`` follows the
clock). It looks like a doctors' locum platform: FY1 to consultant, emergency medicine to
psychiatry, days, long days, twilights and nights (some on the clock-change nights, where
21:00-09:00 lasts 13 or 11 hours), weekends at a premium, doctors whose GMC numbers are
sometimes written with a ``C`` prefix, applications, rate rises and cancellations.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rosterhub.connectors.simulators.platform_state import PlatformState
from rosterhub.instants import LONDON

__all__ = ["Organisation", "Platform", "PlatformError", "organisations"]


_NAMED = (
    ("RXX", "Riverside Hospitals NHS Foundation Trust", ("Riverside General Hospital", "Riverside Community Hospital")),
    ("RXW", "Westmoor Teaching Hospitals NHS Trust", ("Westmoor Royal Infirmary",)),
    ("RXV", "Vale and Downs University Hospitals NHS Foundation Trust", ("Vale General Hospital", "Downs Hospital")),
    ("RXT", "Thornbury and District Hospitals NHS Trust", ("Thornbury Hospital",)),
    ("RXS", "Saltmarsh Coast NHS Foundation Trust", ("Saltmarsh District General Hospital",)),
    ("RXR", "Redfern Valley Hospitals NHS Trust", ("Redfern Valley Hospital",)),
)
#: department -> cost code prefix
_DEPARTMENTS = (
    ("Emergency Medicine", "EM"),
    ("Acute Medicine", "AM"),
    ("General Medicine", "GM"),
    ("Geriatric Medicine", "GE"),
    ("General Surgery", "GS"),
    ("Trauma and Orthopaedics", "TO"),
    ("Paediatrics", "PA"),
    ("Obstetrics and Gynaecology", "OG"),
    ("Anaesthetics", "AN"),
    ("Psychiatry", "PS"),
)
#: Locum's Nest grade label -> (weight among shifts, hourly rate range in GBP)
_GRADES = {
    "F1": (4, (38, 45)),
    "F2": (8, (42, 52)),
    "SHO": (14, (50, 65)),
    "CT1-2": (8, (50, 65)),
    "ST1-2": (4, (50, 65)),
    "Registrar (ST3+)": (14, (70, 100)),
    "ST3-5": (6, (70, 95)),
    "ST6-8": (4, (85, 110)),
    "Specialty Doctor": (6, (75, 100)),
    "Specialist": (2, (95, 125)),
    "Consultant": (5, (120, 165)),
}
#: shift type -> (local start hour, minute, hours on the wall clock, break minutes, weight)
_PATTERNS = {
    "early": (7, 30, 8.0, 30, 2),
    "day": (9, 0, 8.0, 30, 4),
    "late": (14, 0, 8.5, 30, 2),
    "long day": (8, 0, 12.5, 60, 5),
    "twilight": (16, 0, 8.0, 30, 2),
    "night": (21, 0, 12.0, 30, 5),
}
_FIRST = (
    "Priya",
    "Tom",
    "Aisha",
    "James",
    "Siobhán",
    "Oluwaseun",
    "Mei",
    "Gareth",
    "Zoë",
    "Ahmed",
    "Catrin",
    "Raj",
    "Hannah",
    "Kwame",
    "Elif",
    "Niamh",
    "Daniel",
    "Fatima",
    "Łukasz",
    "Sarah",
)
_LAST = (
    "Raman",
    "Ellis",
    "Khan",
    "O'Connor",
    "Adeyemi",
    "Chen",
    "Williams",
    "Patel",
    "Hughes",
    "Nowak",
    "Okafor",
    "Jones",
    "MacLeod",
    "Begum",
    "Davies",
    "Öztürk",
    "Evans",
    "Murphy",
    "Singh",
    "Taylor",
)
_CANCEL_REASONS = ("no longer required", "filled internally", "created in error")
_CURSOR = re.compile(r"chg_(\d+)")


class PlatformError(Exception):
    """A request the platform refuses; ``status`` and ``code`` are what its API answers."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class Organisation:
    ods_code: str
    name: str
    sites: tuple[tuple[str, str], ...]  # (site ODS code, site name)


def organisations(count: int) -> list[Organisation]:
    """``count`` trusts: the named ones first, then generated codes (R + two letters)."""
    found = [
        Organisation(code, name, tuple((f"{code}{i + 1:02d}", s) for i, s in enumerate(sites)))
        for code, name, sites in _NAMED
    ]
    letters = "ABCDEFGHJKLMNPQ"
    for a, b in itertools.product(letters, repeat=2):
        if len(found) >= count:
            break
        code = f"R{a}{b}"
        found.append(Organisation(code, f"{code} Hospitals NHS Trust", ((f"{code}01", f"{code} General Hospital"),)))
    return found[:count]


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _next_clock_change(today: date) -> date:
    """The next last-Sunday-of-March or last-Sunday-of-October on or after ``today``."""
    for year in (today.year, today.year + 1):
        for month in (3, 10):
            last = date(year, month, 31)
            sunday = last - timedelta(days=(last.weekday() + 1) % 7)
            if sunday >= today:
                return sunday
    raise AssertionError("unreachable")


@dataclass
class _OrgState:
    org: Organisation
    changes: list[dict[str, Any]] = field(default_factory=list)
    shifts: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> latest data (with status)
    doctors: dict[str, dict[str, Any]] = field(default_factory=dict)
    bookings: dict[str, dict[str, Any]] = field(default_factory=dict)
    timesheets: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> data, with the booking's id


class Platform:
    """Thread-safe: the HTTP server and a test may both touch it."""

    def __init__(
        self, orgs: list[Organisation], *, seed: int = 0, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.rng = random.Random(seed)
        self.clock = clock
        self.orgs = {o.ods_code: _OrgState(o) for o in orgs}
        self.fills: dict[str, dict[str, Any]] = {}  # Idempotency-Key -> fill as received
        self.declines: dict[str, dict[str, Any]] = {}
        self.repeats = 0  # outbound updates received again (same Idempotency-Key)
        self._ids = itertools.count(100_000)
        self._shift_ids = itertools.count(77_000)
        self._other_ids = itertools.count(5_000)
        self._last_time = datetime.min.replace(tzinfo=UTC)
        self.last_change_id = 0
        self._lock = threading.RLock()
        self.state = PlatformState()  # this platform's copy of the shifts, as the hub's updates leave it

    # --- the change log ---------------------------------------------------------------------------
    def append(
        self,
        ods: str,
        resource: str,
        action: str,
        data: dict[str, Any],
        *,
        changed_at: str | None = None,
        actor: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record one change (also how tests put hand-written or bad changes on the feed).

        ``actor`` says who made it through the API: the hub's changes carry its ``idempotency_key``,
        which the hub's poll connector recognises as an echo of its own update.
        """
        with self._lock:
            now = max(self.clock(), self._last_time + timedelta(milliseconds=1))
            self._last_time = now
            self.last_change_id = next(self._ids)
            change = {
                "change_id": self.last_change_id,
                "resource": resource,
                "action": action,
                "changed_at": changed_at or _instant(now),
                "data": data,
            }
            if actor is not None:
                change["actor"] = actor
            self.orgs[ods].changes.append(change)
            return change

    def page(self, ods: str, *, cursor: str | None, since: str | None, limit: int) -> dict[str, Any]:
        """One page of the changes endpoint, exactly as docs/vendors/locums_nest.md defines it."""
        with self._lock:
            state = self.orgs[ods]
            if cursor is not None:
                m = _CURSOR.fullmatch(cursor)
                if m is None:
                    raise PlatformError(400, "invalid_cursor", f"{cursor!r} is not a cursor this platform issued")
                after = int(m.group(1))
                pending = [c for c in state.changes if c["change_id"] > after]
            elif since is not None:
                try:
                    since_at = datetime.fromisoformat(since.replace("Z", "+00:00"))
                except ValueError:
                    raise PlatformError(400, "invalid_since", f"{since!r} is not an ISO 8601 instant") from None
                if since_at.tzinfo is None:
                    raise PlatformError(400, "invalid_since", "since needs a UTC offset or Z")
                pending = [
                    c
                    for c in state.changes
                    if datetime.fromisoformat(c["changed_at"].replace("Z", "+00:00")) >= since_at
                ]
            else:
                pending = list(state.changes)
            chosen = pending[:limit]
            # an empty page leaves the cursor where it was (or at the newest change, for a first read)
            next_cursor = f"chg_{chosen[-1]['change_id']}" if chosen else cursor or f"chg_{self.last_change_id}"
            return {
                "object": "change_list",
                "organisation": {"ods_code": state.org.ods_code, "name": state.org.name},
                "since": since,
                "next_cursor": next_cursor,
                "has_more": len(pending) > len(chosen),
                "changes": [dict(c) for c in chosen],
            }

    def changes(self, ods: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.orgs[ods].changes]

    # --- traffic -------------------------------------------------------------------------------------
    def generate(self, ods: str, count: int = 1) -> list[dict[str, Any]]:
        with self._lock:
            return [self._step(self.orgs[ods]) for _ in range(count)]

    def _step(self, state: _OrgState) -> dict[str, Any]:
        rng = self.rng
        open_shifts = [s for s in state.shifts.values() if s["status"] == "open"]
        unbooked = [s for s in open_shifts if not any(b["shift_id"] == s["id"] for b in state.bookings.values())]
        choices: list[tuple[str, int]] = [("shift_created", 35), ("doctor_created", 12 if state.doctors else 40)]
        if open_shifts:
            choices += [("shift_updated", 12), ("shift_cancelled", 4)]
        if unbooked and state.doctors:
            choices.append(("booking_applied", 25))
        offered = self._unapplied_offers(state) if state.doctors else []
        if offered:
            choices.append(("external_applied", 10))
        if state.doctors:
            choices.append(("viewed_profile", 6))
        kind = rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]
        if kind == "shift_created":
            return self._shift_created(state)
        if kind == "doctor_created":
            return self._doctor_created(state)
        if kind == "shift_updated":
            return self._shift_updated(state, rng.choice(open_shifts))
        if kind == "shift_cancelled":
            return self._shift_cancelled(state, rng.choice(open_shifts))
        if kind == "booking_applied":
            return self._booking_applied(state, rng.choice(unbooked))
        if kind == "external_applied":
            return self._booking_applied(state, None, external_id=rng.choice(offered))
        doctor = rng.choice(sorted(state.doctors))
        return self.append(state.org.ods_code, "doctor", "viewed_profile", {"id": doctor})

    def _shift_created(self, state: _OrgState) -> dict[str, Any]:
        rng = self.rng
        grade = rng.choices(list(_GRADES), weights=[w for w, _ in _GRADES.values()])[0]
        shift_type = rng.choices(list(_PATTERNS), weights=[p[4] for p in _PATTERNS.values()])[0]
        hour, minute, hours, break_minutes, _ = _PATTERNS[shift_type]
        today = self.clock().astimezone(LONDON).date()
        day = today + timedelta(days=rng.randint(1, 42))
        if shift_type == "night" and rng.random() < 0.15:  # the night the clocks change
            day = _next_clock_change(today + timedelta(days=1)) - timedelta(days=1)
        start = datetime(day.year, day.month, day.day, hour, minute)
        end = start + timedelta(hours=hours)  # wall clock, as the platform writes it (no offset)
        low, high = _GRADES[grade][1]
        rate = rng.uniform(low, high) * (1.15 if shift_type == "night" or day.weekday() >= 5 else 1.0)
        department, code = rng.choice(_DEPARTMENTS)
        site_code, site_name = rng.choice(state.org.sites)
        data: dict[str, Any] = {
            "id": next(self._shift_ids),
            "revision": 1,
            "status": "open",
            "department": department,
            "site": {"name": site_name, "ods_code": site_code},
            "cost_code": f"{code}{rng.randint(1, 40):04d}",
            "grade": grade,
            "shift_type": shift_type,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "break_minutes": break_minutes,
            "rate": {"amount": round(rate * 2) / 2, "per": "hour"},
            "escalation": rng.choices(("internal", "collaborative"), weights=(4, 1))[0],
        }
        if rng.random() < 0.2:
            data["notes"] = rng.choice(
                (
                    "Resident on-call cover.",
                    "Handover 08:30 in the department.",
                    "Rota gap: sickness.",
                    "Weekend cover, senior support on site.",
                )
            )
        state.shifts[data["id"]] = data
        return self.append(state.org.ods_code, "shift", "created", dict(data))

    def _shift_updated(
        self, state: _OrgState, shift: dict[str, Any], changed: list[str] | None = None, *, key: str | None = None
    ) -> dict[str, Any]:
        if changed is None:
            if shift["escalation"] == "internal" and self.rng.random() < 0.4:
                shift["escalation"], changed = "collaborative", ["escalation"]
            else:
                shift["rate"] = {"amount": shift["rate"]["amount"] + self.rng.choice((5.0, 10.0, 15.0)), "per": "hour"}
                changed = ["rate"]
        shift["revision"] += 1
        actor = None if key is None else {"type": "api_client", "idempotency_key": key}
        return self.append(state.org.ods_code, "shift", "updated", {**shift, "changed": changed}, actor=actor)

    def _shift_cancelled(self, state: _OrgState, shift: dict[str, Any]) -> dict[str, Any]:
        shift["revision"] += 1
        shift["status"] = "cancelled"
        data = {
            "id": shift["id"],
            "revision": shift["revision"],
            "start": shift["start"],
            "end": shift["end"],
            "cancel_reason": self.rng.choice(_CANCEL_REASONS),
        }
        return self.append(state.org.ods_code, "shift", "cancelled", data)

    def _doctor_created(self, state: _OrgState) -> dict[str, Any]:
        rng = self.rng
        gmc = str(rng.randint(3_000_000, 7_999_999))
        data = {
            "id": f"doc_{next(self._other_ids)}",
            "first_name": rng.choice(_FIRST),
            "last_name": rng.choice(_LAST),
            "gmc_number": f"C{gmc}" if rng.random() < 0.3 else gmc,
            "grade": rng.choices(list(_GRADES), weights=[w for w, _ in _GRADES.values()])[0],
            "specialty": rng.choice(_DEPARTMENTS)[0],
        }
        state.doctors[data["id"]] = {**data, "gmc_digits": gmc}
        return self.append(state.org.ods_code, "doctor", "created", data)

    def _unapplied_offers(self, state: _OrgState) -> list[str]:
        """Hub ids of partner shifts offered to the platform, open, that none of ``state``'s doctors applied for."""
        applied = {b.get("external_id") for b in state.bookings.values()}
        offered = [sid for sid in self.state.open_shifts() if (copy := self.state.shift(sid)) and not copy.own]
        return sorted(sid for sid in offered if sid not in applied)

    def _booking_applied(
        self, state: _OrgState, shift: dict[str, Any] | None, *, external_id: str | None = None
    ) -> dict[str, Any]:
        """A doctor applies for an own shift, or (``external_id``) for a partner's shift the hub offered: that
        booking has no ``shift_id`` and names the shift by the external id it was offered with (the hub's id)."""
        rng = self.rng
        if shift is None:
            copy = self.state.shift(str(external_id))
            grade = copy.detail.get("grade") if copy else None
        else:
            grade = shift["grade"]
        same_grade = sorted(d for d, v in state.doctors.items() if v["grade"] == grade)
        doctor = state.doctors[rng.choice(same_grade or sorted(state.doctors))]
        gmc = doctor["gmc_digits"]
        applied = self.clock() - timedelta(seconds=rng.randint(1, 5))
        data: dict[str, Any] = {
            "id": f"bk_{next(self._other_ids)}",
            "shift_id": None if shift is None else shift["id"],
            **({} if external_id is None else {"external_id": external_id}),
            "doctor": {
                "id": doctor["id"],
                "gmc_number": f"C{gmc}" if rng.random() < 0.3 else gmc,
                "name": f"Dr {doctor['first_name']} {doctor['last_name']}",
                "grade": doctor["grade"],
            },
            "applied_at": _instant(applied),
        }
        state.bookings[data["id"]] = {**data, "status": "applied"}
        return self.append(state.org.ods_code, "booking", "applied", data)

    def apply_offered(self, ods: str, hub_shift_id: str | None = None) -> dict[str, Any] | None:
        """A doctor of ``ods`` applies for a partner's shift the hub offered (``hub_shift_id``, or any open one
        they have not applied for); None when there is no such shift or the organisation has no doctors yet."""
        with self._lock:
            state = self.orgs[ods]
            offered = self._unapplied_offers(state)
            if hub_shift_id is not None:
                offered = [hub_shift_id] if hub_shift_id in offered else []
            if not offered or not state.doctors:
                return None
            return self._booking_applied(state, None, external_id=offered[0])

    # --- outbound updates from the hub -------------------------------------------------------------------
    def shift(self, shift_id: int) -> tuple[str, dict[str, Any]]:
        with self._lock:
            for ods, state in self.orgs.items():
                if shift_id in state.shifts:
                    return ods, dict(state.shifts[shift_id])
        raise PlatformError(404, "not_found", f"no shift {shift_id}")

    def fill(self, shift_id: int, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Fill a shift with the doctor of a booking the hub confirmed; idempotent on the key."""
        with self._lock:
            if idempotency_key in self.fills:
                self.repeats += 1
                return self.shift(shift_id)[1]
            ods, _ = self.shift(shift_id)
            state = self.orgs[ods]
            shift = state.shifts[shift_id]
            booking_id = str(body.get("booking_id") or "")
            if shift["status"] == "cancelled":
                raise PlatformError(409, "shift_cancelled", f"shift {shift_id} was cancelled")
            if shift["status"] == "filled" and shift.get("filled_by", {}).get("booking_id") != booking_id:
                raise PlatformError(409, "already_filled", f"shift {shift_id} is filled by another booking")
            shift["status"] = "filled"
            shift["filled_by"] = {"booking_id": booking_id, "doctor": body.get("doctor") or {}}
            if booking_id in state.bookings:
                state.bookings[booking_id]["status"] = "confirmed"
            self.fills[idempotency_key] = {"shift_id": shift_id, "organisation": ods, **body}
            self._shift_updated(state, shift, ["status", "filled_by"], key=idempotency_key)
            doctor = body.get("doctor") or {}
            self.state.apply(
                idempotency_key,
                "fill",
                f"locums_nest:{ods}:{shift_id}",
                booking_id=booking_id,
                worker=doctor.get("name") or doctor.get("gmc_number"),
            )
            return dict(shift)

    def decline(self, booking_id: str, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        with self._lock:
            if idempotency_key in self.declines:
                self.repeats += 1
                return self.declines[idempotency_key]
            for ods, state in self.orgs.items():
                if booking_id in state.bookings:
                    state.bookings[booking_id]["status"] = "declined"
                    self.declines[idempotency_key] = {"booking_id": booking_id, "organisation": ods, **body}
                    booking = state.bookings[booking_id]
                    shift_id = booking.get("external_id") or f"locums_nest:{ods}:{booking['shift_id']}"
                    self.state.apply(idempotency_key, "reject", shift_id, booking_id=booking_id)
                    return self.declines[idempotency_key]
        raise PlatformError(404, "not_found", f"no booking {booking_id}")

    # --- timesheets: doctors submit the hours of confirmed bookings once the shift is over --------------------
    def submit_timesheets(self, now: datetime | None = None, *, approve: bool = True) -> list[dict[str, Any]]:
        """A ``timesheet`` / ``submitted`` change (and, with ``approve``, an ``approved`` one) for every booking the
        platform holds confirmed whose shift has ended and has no timesheet yet; the changes made."""
        now = now or self.clock()
        made = []
        with self._lock:
            for ods, state in self.orgs.items():
                done = {t["booking_id"] for t in state.timesheets.values()}
                for booking_id, booking in sorted(state.bookings.items()):
                    confirmed = (
                        booking.get("status") == "confirmed" or self.state.bookings.get(booking_id) == "confirmed"
                    )
                    times = self._booked_times(ods, booking)
                    if booking_id in done or not confirmed or times is None:
                        continue
                    start, end, brk = times
                    if datetime.fromisoformat(end).replace(tzinfo=LONDON) > now:
                        continue
                    made += self._timesheet(state, booking, start, end, brk, approve=approve)
        return made

    def _booked_times(self, ods: str, booking: dict[str, Any]) -> tuple[str, str, int] | None:
        """(start, end, break minutes) of the booking's shift as the platform writes them (local, no offset)."""
        if booking.get("shift_id") is not None:
            shift = self.orgs[ods].shifts.get(booking["shift_id"])
            return None if shift is None else (shift["start"], shift["end"], int(shift.get("break_minutes") or 0))
        copy = self.state.shift(str(booking.get("external_id")))
        if copy is None or "start" not in copy.detail:
            return None
        return str(copy.detail["start"]), str(copy.detail["end"]), 30

    def _timesheet(
        self, state: _OrgState, booking: dict[str, Any], start: str, end: str, brk: int, *, approve: bool
    ) -> list[dict[str, Any]]:
        late = self.rng.choice((0, 0, 5, 15))
        actual_end = (datetime.fromisoformat(end) + timedelta(minutes=late)).isoformat()
        data = {
            "id": f"ts_{next(self._other_ids)}",
            "revision": 1,
            "booking_id": booking["id"],
            "shift_id": booking.get("shift_id"),
            **({"external_id": booking["external_id"]} if booking.get("external_id") else {}),
            "doctor": booking["doctor"],
            "start": start,
            "end": actual_end,
            "break_minutes": brk,
            "submitted_at": _instant(self.clock()),
        }
        state.timesheets[data["id"]] = {**data, "status": "submitted"}
        made = [self.append(state.org.ods_code, "timesheet", "submitted", data)]
        if approve:
            worked = datetime.fromisoformat(actual_end).replace(tzinfo=LONDON) - datetime.fromisoformat(start).replace(
                tzinfo=LONDON
            )
            hours = round((worked.total_seconds() / 60 - brk) / 60, 2)
            approval = {
                "id": data["id"],
                "booking_id": booking["id"],
                "shift_id": booking.get("shift_id"),
                **({"external_id": booking["external_id"]} if booking.get("external_id") else {}),
                "approved_by": "ln-approver-1",
                "approval_step": 1,
                "final": True,
                "approved_hours": hours,
                "approved_at": _instant(self.clock()),
            }
            state.timesheets[data["id"]]["status"] = "approved"
            made.append(self.append(state.org.ods_code, "timesheet", "approved", approval))
        return made

    def timesheet_update(self, timesheet_id: str, op: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """``POST /api/v2/timesheets/{id}/query`` or ``.../approve``: what the hub made of a doctor's timesheet."""
        with self._lock:
            for ods, state in self.orgs.items():
                if timesheet_id in state.timesheets:
                    status = "queried" if op == "query" else "approved"
                    if self.state.timesheet(
                        key,
                        f"locums_nest:{ods}:{timesheet_id}",
                        status,
                        reason=body.get("reason"),
                        detail=body.get("comment"),
                        hours=body.get("approved_hours"),
                    ):
                        state.timesheets[timesheet_id]["status"] = status
                    return {"id": timesheet_id, "status": state.timesheets[timesheet_id]["status"]}
        raise PlatformError(404, "not_found", f"no timesheet {timesheet_id}")

    # --- the hub's other updates: partner shifts offered to this platform's doctors, cancellations ---------
    def external(self, hub_shift_id: str, body: dict[str, Any], key: str, *, withdraw: bool = False) -> dict[str, Any]:
        """``PUT /api/v2/external_shifts/{id}`` (offer) and ``.../withdraw``: a partner trust's shift."""
        with self._lock:
            if withdraw and self.state.shift(hub_shift_id) is None:
                raise PlatformError(404, "not_found", f"no external shift {hub_shift_id}")
            self.state.apply(
                key,
                "withdraw" if withdraw else "offer",
                hub_shift_id,
                **{k: body[k] for k in ("department", "grade", "start", "end") if k in body},
            )
            copy = self.state.shift(hub_shift_id)
            return {"external_id": hub_shift_id, "status": copy.status if copy else "open"}

    def own_shift_update(self, shift_id: int, op: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """``POST /api/v2/shifts/{id}/unfill`` (a confirmed booking cancelled) and ``.../no_show``."""
        with self._lock:
            ods, _ = self.shift(shift_id)
            state = self.orgs[ods]
            shift = state.shifts[shift_id]
            if self.state.seen(key):
                self.repeats += 1
                return dict(shift)
            if op == "unfill":
                shift["status"] = "open" if body.get("reopen") else "cancelled"
                shift.pop("filled_by", None)
            else:
                shift["status"] = "no_show"
            self._shift_updated(state, shift, ["status", "filled_by"], key=key)
            self.state.apply(
                key,
                "cancel" if op == "unfill" else "no_show",
                f"locums_nest:{ods}:{shift_id}",
                booking_id=body.get("booking_id"),
                reopen=bool(body.get("reopen")),
            )
            return dict(shift)

    def booking_update(self, booking_id: str, op: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """``POST /api/v2/bookings/{id}/confirm`` and ``.../cancel``: a booking on a partner's shift."""
        with self._lock:
            shift_id = str(body.get("external_id") or "")
            if op == "confirm":
                self.state.apply(key, "confirm", shift_id, booking_id=booking_id)
            else:
                copy = next((s for s in self.state.shifts.values() if s.booking_id == booking_id), None)
                self.state.apply(key, "cancel", copy.shift_id if copy else shift_id, booking_id=booking_id)
            return {"id": booking_id, "status": self.state.bookings.get(booking_id)}
