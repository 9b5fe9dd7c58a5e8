"""What every booking rule returns: one :class:`RuleResult`, passed or not, never an exception.

A result maps 1:1 onto ``rosterhub.common.v1.RuleResult`` (``schemas/avro/common``), so a
decision carries every rule's outcome and ``rosterhub explain`` can show it later from the
event alone. ``reason_code`` is set on every failure; a *passing* result carries a code
only when the pass must be counted or audited (an opt-out used, break glass, a grade
tolerance used). ``detail`` is a sentence with the numbers, for a rota manager to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["RuleResult", "fail", "note", "ok"]


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str
    passed: bool
    reason_code: str | None = None
    detail: str | None = None

    def to_avro(self) -> dict[str, Any]:
        return {"rule": self.rule, "passed": self.passed, "reason_code": self.reason_code, "detail": self.detail}

    @classmethod
    def from_avro(cls, data: Mapping[str, Any]) -> RuleResult:
        """Read a result back from a decision event (JSON or decoded Avro)."""
        return cls(str(data["rule"]), bool(data["passed"]), data.get("reason_code"), data.get("detail"))


def ok(rule: str, detail: str | None = None) -> RuleResult:
    return RuleResult(rule, True, None, detail)


def note(rule: str, code: str, detail: str) -> RuleResult:
    """A pass that reports something (opt-out used, break glass): counted by reports, shown by explain."""
    return RuleResult(rule, True, code, detail)


def fail(rule: str, code: str, detail: str) -> RuleResult:
    return RuleResult(rule, False, code, detail)
