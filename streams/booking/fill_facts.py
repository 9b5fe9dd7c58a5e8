"""What a ShiftFilled says about money and the agency rules, taken from the booking as decided.

Programme managers' KPIs (docs/kpi.md) need the rate the trust pays for each fill, the price cap
that applied, whether the framework was approved, whether break glass was used and by whom, and
the worker's substantive employer (moonlighting). The booking saga holds all of it when it
confirms: the request's own fields, the shift's bank rate, the host trust's rate card and every
rule's result. Carrying them on the event means no consumer has to infer them later.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rosterhub.streams.booking.policy import BookingPolicy
from rosterhub.streams.booking.state import ParkedRequest, ShiftState

__all__ = ["fill_facts"]

_BREAK_GLASS = "AGENCY_BREAK_GLASS"


def _result(results: list[dict[str, Any]], rule: str) -> dict[str, Any] | None:
    return next((r for r in results if r["rule"] == rule), None)


def fill_facts(
    state: ShiftState, req: ParkedRequest, results: list[dict[str, Any]], policy: BookingPolicy | None
) -> dict[str, Any]:
    """The ShiftFilled fields beyond the shift and the worker: rate, cap, framework, break glass, employer."""
    x = req.extra
    agency = x.get("membership") == "AGENCY"
    charge = x.get("charge_rate")
    rate = (Decimal(charge) if charge is not None else None) if agency else _decimal(state.rate)
    cap = policy.agency.cap(state.grade) if agency and policy is not None and state.grade else None
    framework = _result(results, "agency_framework")
    broke = [r for r in results if r["passed"] and r.get("reason_code") == _BREAK_GLASS]
    clearance = _result(results, "passport_clearance")
    return {
        "hourly_rate": rate,
        "price_cap_rate": cap,
        "agency": x.get("agency") if agency else None,
        "framework": x.get("framework") if agency else None,
        "framework_approved": (framework.get("reason_code") != _BREAK_GLASS) if agency and framework else None,
        "break_glass": bool(broke),
        "break_glass_authoriser": x.get("break_glass_authoriser") if broke else None,
        "substantive_employer": x.get("substantive_employer"),
        "passport_cleared": bool(clearance["passed"]) if clearance else None,
    }


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None
