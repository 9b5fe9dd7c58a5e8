"""The ShiftKpi record of one shift (views.kpi): its facts turned into the measures the KPIs sum.

Money is Decimal throughout: cost = paid hours x the rate on the booking, spend above the price cap
and savings against the collaborative's agency reference rate are each rounded half up to the penny
per fill, so any sum of them is exact (docs/kpi.md).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rosterhub.streams.kpi.calendar import day_kind, kpi_shift_type, london_day
from rosterhub.streams.kpi.facts import ShiftFacts, known
from rosterhub.streams.kpi.policy import KpiPolicies, KpiPolicy

__all__ = ["current_fill", "paid_minutes", "person_kpi", "shift_kpi"]

PENNY = Decimal("0.01")
_ZERO = Decimal("0.00")


def _at(ms: int | None) -> int | None:
    """Instants stay epoch milliseconds: the codec writes them as timestamp-millis (no datetime per field)."""
    return ms


def _money(minutes: int, rate: Decimal) -> Decimal:
    return (Decimal(minutes) * rate / 60).quantize(PENNY, rounding=ROUND_HALF_UP)


def paid_minutes(f: ShiftFacts) -> int:
    """Elapsed minutes (UTC instants: clock changes count) less the unpaid break, never below zero."""
    minutes: int = (f["end_ms"] - f["start_ms"]) // 60000 - f["break_minutes"]
    return max(0, minutes)


def current_fill(f: ShiftFacts) -> tuple[str, dict[str, Any]] | None:
    """The booking filling the shift now: the latest ShiftFilled whose booking is not cancelled."""
    live = [(b, x) for b, x in f["fills"].items() if b not in f["cancelled"]]
    if not live or f["withdrawn"]:
        return None
    return max(live, key=lambda bx: (bx[1]["filled_at"] or 0, bx[0]))


def _fill(f: ShiftFacts, policy: KpiPolicy, partners: tuple[str, ...], minutes: int) -> dict[str, Any] | None:
    found = current_fill(f)
    if found is None:
        return None
    booking, x = found
    posted = x["posted_at"] if x["posted_at"] is not None else f["posted_at_ms"]
    rate = Decimal(x["hourly_rate"]) if x["hourly_rate"] is not None else None
    cap = Decimal(x["price_cap_rate"]) if x["price_cap_rate"] is not None else None
    agency = x["membership"] == "AGENCY"
    above = _ZERO
    if agency and rate is not None and cap is not None and rate > cap:
        above = _money(minutes, rate - cap)
    savings = None
    reference = policy.reference_rate(f["grade"]) if x["membership"] == "BANK" else None
    if reference is not None and rate is not None:
        savings = _money(minutes, reference - rate)
    employer = x["substantive_employer"]
    return {
        "booking_id": booking,
        "tier": x["tier"],
        "membership": x["membership"],
        "home_trust": x["home_trust"],
        "person_id": x["person_id"],
        "filled_at": _at(x["filled_at"]),
        "time_to_fill_s": None if posted is None else max(0, (x["filled_at"] - posted) // 1000),
        "hourly_rate": rate,
        "cost": None if rate is None else _money(minutes, rate),
        "price_cap_rate": cap,
        "above_cap": above,
        "agency": x["agency"],
        "framework": x["framework"],
        "framework_approved": x["framework_approved"],
        "break_glass": x["break_glass"],
        "break_glass_authoriser": x["authoriser"],
        "no_show": booking in f["no_shows"],
        "moonlighting": agency and employer is not None and employer in partners and employer != f["trust"],
        "savings": savings,
    }


def shift_kpi(f: ShiftFacts, policies: KpiPolicies) -> dict[str, Any] | None:
    """The views.kpi record of the shift, or None while nothing places it (no trust or start yet)."""
    if not known(f):
        return None
    policy = policies.for_trust(f["trust"])
    day = london_day(f["start_ms"])
    kind = day_kind(day, policy.bank_holidays)
    minutes = paid_minutes(f)
    late = policy.late_notice_hours
    return {
        "shift_id": f["shift_id"],
        "revision": f["revision"],
        "collaborative": policies.collaborative_of.get(f["trust"]),
        "host_trust": f["trust"],
        "site": f["site"],
        "ward": f["ward"],
        "staff_group": f["staff_group"],
        "grade": f["grade"],
        "shift_type": f["shift_type"],
        "day_kind": kind,
        "kpi_shift_type": kpi_shift_type(f["shift_type"], kind),
        "day": day,
        "start": _at(f["start_ms"]),
        "end": _at(f["end_ms"]),
        "paid_minutes": minutes,
        "posted": f["posted"] or bool(f["fills"]),
        "posted_at": _at(f["posted_at_ms"]),
        "withdrawn": f["withdrawn"],
        "tier": f["tier"],
        "fill": _fill(f, policy, policies.partners(f["trust"]), minutes),
        "cancellations": [
            {
                "booking_id": b,
                "cancelled_at": _at(c["cancelled_at"]),
                "notice_hours": Decimal(c["notice_hours"]),
                "late": Decimal(c["notice_hours"]) < late,
                "cancelled_by": c["cancelled_by"],
                "reason": c["reason"],
            }
            for b, c in sorted(f["cancelled"].items())
        ],
        "no_shows": list(f["no_shows"]),
        "rejections": [
            {"booking_id": b, "reason_codes": r["codes"], "decided_at": _at(r["decided_at"])}
            for b, r in sorted(f["rejections"].items())
        ],
        "cleared": [{"person_id": p, "decided_at": _at(ms)} for p, ms in sorted(f["cleared"].items())],
        "updated_at": _at(f["updated_ms"]),
    }


def person_kpi(data: dict[str, Any]) -> dict[str, Any] | None:
    """A PersonKpi from a PassportUpdated: only the passport's first version starts the clearance clock."""
    if int(data.get("version") or 0) != 1:
        return None
    return {"person_id": data["person_id"], "first_credential_at": data["updated_at"]}
