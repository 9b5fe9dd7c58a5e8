"""Booking rules: pure functions of (shift state, request) returning a RuleResult.

Every rule returns a result whether it passes or not, so a decision can show all of
its reasons (``rosterhub explain``). Reason codes are stable and listed in docs/booking.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rosterhub.streams.booking.state import ShiftState

__all__ = ["RuleResult", "shift_open"]


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str
    passed: bool
    reason_code: str | None = None
    detail: str | None = None

    def to_avro(self) -> dict[str, Any]:
        return {"rule": self.rule, "passed": self.passed, "reason_code": self.reason_code, "detail": self.detail}


def shift_open(state: ShiftState | None, booking_id: str) -> RuleResult:
    """The shift is known to the hub and nobody holds it yet."""
    if state is None:
        return RuleResult("shift_open", False, "SHIFT_UNKNOWN", "the hub has no posted shift with this id")
    if state.status == "filled":
        return RuleResult("shift_open", False, "SHIFT_ALREADY_FILLED", f"filled by booking {state.filled_by}")
    if state.status != "open":
        return RuleResult("shift_open", False, "SHIFT_NOT_OPEN", f"shift is {state.status}")
    return RuleResult("shift_open", True)
