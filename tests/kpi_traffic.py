"""A generated month of a three-trust collaborative bank's canonical events, for the KPI oracle and benches.

October 2026 at RHQ, RCU and RFR: shifts posted (a few for Christmas and for the night the clocks go
forward in March 2027), released down the cascade, requested, refused, filled by bank and agency
workers (some over the price cap, some off framework, some by break glass), cancelled after the fill
and refilled, withdrawn, re-timed (across midnight, across the October clock change and onto the March
one), no-shows; the booking processor's own outcomes (``/rosterhub/booking``) beside the vendors'
inputs it ignores; each person's first passport change. Then the delivery order is disturbed as the
broker would see it: exact duplicates (same ce_id), replays of a fact under a new id, older shift
versions arriving after newer ones, and fills arriving before their shift's posting.

Deterministic for a seed; :class:`Traffic` keeps every event once (with its topic and key) and the
order in which they are delivered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.instants import LONDON
from rosterhub.streams.booking.outcome import SOURCE as HUB

__all__ = ["Traffic", "generate"]

TRUSTS = ("RHQ", "RCU", "RFR")
AGENCIES = ("northern-care-staffing", "pennine-locums", "swift-medical-agency")
FRAMEWORKS = ("CCS-RM6161", "HTE-WORKFORCE", "CPP-NURSING", "OFF-FRAMEWORK-LTD")
#: (staff group, grade, basic pay / h, bank rate / h)
ROLES = (
    ("NURSING_MIDWIFERY_REGISTERED", "BAND_5", Decimal("15.33"), Decimal("21.40")),
    ("NURSING_MIDWIFERY_REGISTERED", "BAND_6", Decimal("19.10"), Decimal("26.10")),
    ("ADDITIONAL_CLINICAL_SERVICES", "BAND_3", Decimal("12.75"), Decimal("15.90")),
    ("MEDICAL_DENTAL", "ST3_5", Decimal("30.28"), Decimal("48.00")),
)
#: (shift type, local start, hours, unpaid break minutes)
PATTERNS = (
    ("EARLY", "07:00", 8.0, 30),
    ("LATE", "14:00", 8.5, 30),
    ("LONG_DAY", "07:30", 12.5, 60),
    ("NIGHT", "20:00", 12.0, 45),
    ("TWILIGHT", "17:00", 6.0, 0),
)
REASONS = ("SHIFT_ALREADY_FILLED", "GRADE_MISMATCH", "PASSPORT_NOT_CLEARED", "WTR_DAILY_REST", "NO_OVERLAP")


@dataclass
class Traffic:
    events: list[tuple[str, str, Envelope]] = field(default_factory=list)  # (domain, key, event), each once
    order: list[int] = field(default_factory=list)  # delivery order: indexes into events, repeats allowed

    def add(self, domain: str, key: str, env: Envelope) -> int:
        self.events.append((domain, key, env))
        return len(self.events) - 1

    def delivered(self) -> list[tuple[str, str, Envelope]]:
        return [self.events[i] for i in self.order]


def _local(d: date, hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(d.year, d.month, d.day, h, m, tzinfo=LONDON)


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def _org(ods: str) -> dict[str, Any]:
    return {"ods_code": ods, "name": None}


def _worker(person: str | None) -> dict[str, Any]:
    return {"person_id": person, "identifiers": [], "display_name": "A Name Never Shown"}


class _Month:
    def __init__(self, seed: int, shifts_per_trust_day: int, people_per_trust: int) -> None:
        self.rng = random.Random(seed)
        self.t = Traffic()
        self.per_day = shifts_per_trust_day
        self.people = {t: [f"p-{t.lower()}-{i:03d}" for i in range(people_per_trust)] for t in TRUSTS}
        self.serial = 0

    def ev(self, domain: str, key: str, type_: str, source: str, data: dict[str, Any], at: datetime) -> int:
        self.serial += 1
        env = Envelope(type_, source, data, id=f"e{self.serial:06d}", subject=key, time=_utc(at))
        return self.t.add(domain, key, env)

    # -------------------------------------------------------------- one shift's life

    def shift(self, sid: str, trust: str, day: date, role: tuple, pattern: tuple) -> list[int]:
        rng = self.rng
        group, grade, basic, bank_rate = role
        kind, hhmm, hours, brk = pattern
        start = _local(day, hhmm)
        end = _utc(start) + timedelta(hours=hours)
        posted_at = _utc(start) - timedelta(hours=rng.uniform(20, 500))
        ward = f"{trust} Ward {rng.randint(1, 3)}"
        base = {
            "shift_id": sid,
            "vendor": "healthroster",
            "vendor_shift_id": sid.rsplit(":", 1)[-1],
            "trust": _org(trust),
            "site": _org(trust + "01"),
            "ward": ward,
            "staff_group": group,
            "grade": grade,
            "shift_type": kind,
            "start": _utc(start),
            "end": end,
            "break_minutes": brk,
            "tier": "OWN_BANK",
            "hourly_rate": bank_rate,
        }
        vendor = f"/vendors/healthroster/{trust}"
        seq = [
            self.ev(
                "shift",
                sid,
                "rosterhub.shift.v1.ShiftPosted",
                vendor,
                {**base, "version": 1, "posted_at": posted_at},
                posted_at,
            )
        ]
        version = 1
        if rng.random() < 0.12:  # re-timed: later in the evening, often across midnight
            version += 1
            new_start = _utc(start) + timedelta(hours=rng.choice((2.5, 4.5, 5.0, -1.0)))
            base = {**base, "start": new_start, "end": new_start + timedelta(hours=hours)}
            changed = posted_at + timedelta(hours=rng.uniform(1, 10))
            data = {**base, "version": version, "changed_fields": ["start", "end"], "updated_at": changed}
            seq.append(self.ev("shift", sid, "rosterhub.shift.v1.ShiftUpdated", vendor, data, changed))
        tier, hub_version, now = "OWN_BANK", 100, posted_at
        for to in ("COLLABORATIVE_BANK", "AGENCY_TIER_1", "AGENCY_TIER_2"):
            if rng.random() > (0.6 if to == "COLLABORATIVE_BANK" else 0.4):
                break
            now += timedelta(hours=rng.uniform(4, 48))
            hub_version += 1
            data = {
                "shift_id": sid,
                "version": hub_version,
                "trust": _org(trust),
                "from_tier": tier,
                "to_tier": to,
                "released_at": now,
            }
            seq.append(self.ev("shift", sid, "rosterhub.shift.v1.ShiftReleased", "/rosterhub/availability", data, now))
            tier = to
        for n in range(rng.choice((0, 0, 1, 2))):
            seq.append(self.rejection(sid, trust, f"{sid}:r{n}", now + timedelta(minutes=5 + n)))
        withdrawn = rng.random() < 0.08
        fill_count = 0
        if rng.random() < 0.8:
            fill_count = 2 if rng.random() < 0.05 else 1
        filled_by: str | None = None
        for k in range(fill_count):
            now += timedelta(hours=rng.uniform(0.2, 30))
            booking = f"healthroster:{trust}:bk-{sid.rsplit(':', 1)[-1]}-{k}"
            seq += self.fill(sid, trust, booking, base, tier, basic, bank_rate, posted_at, now, hours, brk)
            filled_by = booking
            if k + 1 < fill_count or rng.random() < 0.07:  # cancelled after the fill (and maybe refilled)
                now += timedelta(hours=rng.uniform(1, 40))
                seq += self.cancel(sid, trust, booking, base, now, reopened=True)
                filled_by = None
        if filled_by and rng.random() < 0.03:
            seq.append(self.no_show(sid, trust, filled_by, base))
        if withdrawn:
            now += timedelta(hours=rng.uniform(1, 20))
            if filled_by:
                seq += self.cancel(sid, trust, filled_by, base, now, reopened=False, by="TRUST")
            data = {
                "shift_id": sid,
                "version": version + 1,
                "trust": _org(trust),
                "reason": "DEMAND_CHANGED",
                "cancelled_by": "TRUST",
                "start": base["start"],
                "cancelled_at": now,
                "notice_hours": _notice(now, base["start"]),
            }
            seq.append(self.ev("shift", sid, "rosterhub.shift.v1.ShiftCancelled", vendor, data, now))
        return seq

    def rejection(self, sid: str, trust: str, booking: str, at: datetime) -> int:
        rng = self.rng
        codes = sorted(rng.sample(REASONS, rng.choice((1, 1, 2))))
        if rng.random() < 0.04:
            codes = ["MOONLIGHTING_ROUTE_TO_BANK"]
        person = rng.choice(self.people[rng.choice(TRUSTS)])
        results = [
            {
                "rule": "passport_clearance",
                "passed": "PASSPORT_NOT_CLEARED" not in codes,
                "reason_code": "PASSPORT_NOT_CLEARED" if "PASSPORT_NOT_CLEARED" in codes else None,
                "detail": None,
            },
        ]
        data = {
            "booking_id": booking,
            "shift_id": sid,
            "worker": _worker(person),
            "host_trust": _org(trust),
            "reason_codes": codes,
            "rule_results": results,
            "decided_at": at,
        }
        return self.ev("booking", sid, "rosterhub.booking.v1.BookingRejected", HUB, data, at)

    def fill(
        self,
        sid: str,
        trust: str,
        booking: str,
        base: dict,
        tier: str,
        basic: Decimal,
        bank_rate: Decimal,
        posted_at: datetime,
        at: datetime,
        hours: float,
        brk: int,
    ) -> list[int]:
        rng = self.rng
        agency = tier.startswith("AGENCY") and rng.random() < 0.7
        home = trust if rng.random() < 0.7 else rng.choice(TRUSTS)
        person = rng.choice(self.people[home])
        seq = []
        request = {
            "booking_id": booking,
            "shift_id": sid,
            "worker": _worker(None),
            "vendor": "patchwork",
            "requested_at": at - timedelta(minutes=2),
        }
        seq.append(
            self.ev(
                "booking",
                sid,
                "rosterhub.booking.v1.BookingRequested",
                "/vendors/patchwork/" + trust,
                request,
                at - timedelta(minutes=2),
            )
        )
        fill = {
            "shift_id": sid,
            "booking_id": booking,
            "worker": _worker(person),
            "host_trust": _org(trust),
            "home_trust": None if agency else _org(home),
            "staff_group": base["staff_group"],
            "shift_type": base["shift_type"],
            "tier": tier,
            "membership_type": "AGENCY" if agency else "BANK",
            "start": base["start"],
            "end": base["end"],
            "posted_at": posted_at if rng.random() < 0.9 else None,
            "filled_at": at,
            "vendor": "patchwork",
            "passport_cleared": rng.random() < 0.9,
        }
        if agency:
            cap = (basic * Decimal("1.55")).quantize(Decimal("0.01"))
            rate = (cap * Decimal(str(rng.choice((0.8, 0.95, 1.0, 1.1, 1.3))))).quantize(Decimal("0.01"))
            framework = rng.choice(FRAMEWORKS)
            approved = framework != "OFF-FRAMEWORK-LTD"
            broke = rate > cap or not approved
            fill.update(
                hourly_rate=rate,
                price_cap_rate=cap,
                agency=rng.choice(AGENCIES),
                framework=framework,
                framework_approved=approved,
                break_glass=broke,
                break_glass_authoriser=f"{trust}-user-{rng.randint(1, 9):04d}" if broke else None,
                substantive_employer=rng.choice((None, None, None, "RHQ", "RCU", "RFR", "RXX")),
            )
        else:
            fill.update(hourly_rate=bank_rate if rng.random() < 0.97 else None, substantive_employer=None)
        seq.append(self.ev("booking", sid, "rosterhub.booking.v1.ShiftFilled", HUB, fill, at))
        confirmed = {
            "booking_id": booking,
            "shift_id": sid,
            "worker": _worker(person),
            "host_trust": _org(trust),
            "start": base["start"],
            "end": base["end"],
            "rule_results": [],
            "decided_at": at,
            "tier": tier,
        }
        seq.append(self.ev("booking", sid, "rosterhub.booking.v1.BookingConfirmed", HUB, confirmed, at))
        return seq

    def cancel(
        self, sid: str, trust: str, booking: str, base: dict, at: datetime, *, reopened: bool, by: str | None = None
    ) -> list[int]:
        rng = self.rng
        at = min(at, base["start"] + timedelta(hours=rng.choice((-1, 1, 3, 10, 30))))
        party = by or rng.choice(("WORKER", "WORKER", "TRUST"))
        common = {
            "booking_id": booking,
            "shift_id": sid,
            "worker": _worker(None),
            "host_trust": _org(trust),
            "cancelled_by": party,
            "reason": "WORKER_UNAVAILABLE",
            "start": base["start"],
            "cancelled_at": at,
            "notice_hours": _notice(at, base["start"]),
        }
        vendor = self.ev(
            "booking", sid, "rosterhub.booking.v1.BookingCancelled", f"/vendors/patchwork/{trust}", common, at
        )
        hub = self.ev(
            "booking",
            sid,
            "rosterhub.booking.v1.BookingCancelled",
            HUB,
            {**common, "shift_reopened": reopened},
            at + timedelta(seconds=1),
        )
        return [vendor, hub]

    def no_show(self, sid: str, trust: str, booking: str, base: dict) -> int:
        at = base["start"] + timedelta(hours=1)
        data = {
            "booking_id": booking,
            "shift_id": sid,
            "worker": _worker(None),
            "host_trust": _org(trust),
            "start": base["start"],
            "recorded_at": at,
        }
        return self.ev("booking", sid, "rosterhub.booking.v1.NoShow", HUB, data, at)

    def passports(self) -> list[int]:
        seq = []
        for trust, people in self.people.items():
            for person in people:
                first = datetime(2026, 9, 1, tzinfo=UTC) + timedelta(hours=self.rng.uniform(0, 24 * 45))
                for version in (1, 2):
                    at = first + timedelta(days=version - 1)
                    data = {
                        "person_id": person,
                        "version": version,
                        "credential_id": f"{trust}:DBS:{person}",
                        "change": "ISSUED",
                        "credential_type": "DBS",
                        "issuer": _org(trust),
                        "status": "ACTIVE",
                        "credential_count": version,
                        "updated_at": at,
                    }
                    seq.append(
                        self.ev(
                            "passport", person, "rosterhub.passport.v1.PassportUpdated", "/rosterhub/passport", data, at
                        )
                    )
        return seq


def _notice(at: datetime, start: datetime) -> Decimal:
    return (Decimal((start - at).total_seconds()) / 3600).quantize(Decimal("0.01"))


def generate(seed: int = 13, shifts_per_trust_day: int = 18, people_per_trust: int = 40) -> Traffic:
    """The month's events and their (disturbed) delivery order."""
    m = _Month(seed, shifts_per_trust_day, people_per_trust)
    rng = m.rng
    lives: list[list[int]] = [m.passports()]
    n = 0
    specials = [  # (day, pattern): bank holidays and both clock-change nights
        (date(2026, 12, 25), PATTERNS[2]),
        (date(2026, 12, 28), PATTERNS[0]),
        (date(2026, 10, 24), PATTERNS[3]),
        (date(2027, 3, 27), PATTERNS[3]),
    ]
    days = [date(2026, 10, 1) + timedelta(days=i) for i in range(31)]
    for day in days:
        for trust in TRUSTS:
            for _ in range(m.per_day):
                n += 1
                lives.append(
                    m.shift(f"healthroster:{trust}:sh{n:05d}", trust, day, rng.choice(ROLES), rng.choice(PATTERNS))
                )
    for day, pattern in specials:
        for trust in TRUSTS:
            for _ in range(3):
                n += 1
                lives.append(m.shift(f"healthroster:{trust}:sh{n:05d}", trust, day, rng.choice(ROLES), pattern))
    # Shifts re-timed onto the clock-change nights: a day shift moved to a night across the change.
    for trust in TRUSTS:
        for night in (date(2026, 10, 24), date(2027, 3, 27)):
            n += 1
            sid = f"healthroster:{trust}:sh{n:05d}"
            life = m.shift(sid, trust, night - timedelta(days=2), ROLES[0], PATTERNS[0])
            first = m.t.events[life[0]][2]
            start = _utc(_local(night, "20:00"))
            data = {
                **first.data,
                "version": 5,
                "shift_type": "NIGHT",
                "start": start,
                "end": start + timedelta(hours=12),
                "changed_fields": ["start", "end", "shift_type"],
                "updated_at": first.data["posted_at"] + timedelta(hours=1),
            }
            data.pop("posted_at")
            life.append(m.ev("shift", sid, "rosterhub.shift.v1.ShiftUpdated", first.source, data, data["updated_at"]))
            lives.append(life)
    m.t.order = _deliver(rng, lives, m.t)
    return m.t


def _deliver(rng: random.Random, lives: list[list[int]], t: Traffic) -> list[int]:
    """Interleave the lives, then disturb the order: duplicates, replays, late older versions, early fills."""
    queue = [list(life) for life in lives]
    order: list[int] = []
    while queue:
        life = queue[rng.randrange(len(queue))]
        take = rng.randint(1, 3)
        order += life[:take]
        del life[:take]
        queue = [q for q in queue if q]
    out: list[int] = []
    late: list[int] = []
    for i in order:
        domain, key, env = t.events[i]
        if domain == "shift" and env.type.endswith(("ShiftPosted", "ShiftUpdated")) and rng.random() < 0.06:
            late.append(i)  # this version arrives much later (after newer versions and the fill)
            continue
        out.append(i)
        if rng.random() < 0.03:
            out.append(i)  # an exact redelivery: same ce_id
        if rng.random() < 0.01:
            copy = Envelope(env.type, env.source, env.data, id=env.id + "-replay", subject=env.subject, time=env.time)
            out.append(t.add(domain, key, copy))  # the same fact replayed under a new id
        if late and rng.random() < 0.05:
            out.append(late.pop(0))
    return out + late
