"""What every booking rule returns: one :class:`RuleResult`, passed or not, never an exception.

A result maps 1:1 onto ``rosterhub.common.v1.RuleResult`` (``schemas/avro/common``), so a
decision carries every rule's outcome and ``rosterhub explain`` can show it later from the
event alone. ``reason_code`` is set on every failure; a *passing* result carries a code
only when the pass must be counted or audited (an opt-out used, break glass, a grade
tolerance used). ``detail`` is a sentence with the numbers, for a rota manager to read.

A rule makes its results with the :class:`Outcomes` the registry binds to it (its id and declared
codes), so it never names itself and cannot give a code it did not declare. ``ok``, ``note`` and
``fail`` make a result for a given rule id: the saga's own checks use them (``shift_open`` from
the shift stage, ``person_check``, ``worker_known``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Outcomes", "RuleResult", "fail", "note", "ok"]


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


@dataclass(frozen=True, slots=True)
class Outcomes:
    """The results one booking rule can give, bound to its id and the reason codes it declares.

    The registry makes one per rule and hands it to the rule's function, so a rule returns
    ``out.ok(text)``, ``out.note(CODE, text)`` or ``out.fail(CODE, text)`` without naming itself; a code
    the rule did not declare is refused here, where the result is made.
    """

    rule: str
    codes: frozenset[str]

    def ok(self, detail: str | None = None) -> RuleResult:
        return RuleResult(self.rule, True, None, detail)

    def note(self, code: str, detail: str) -> RuleResult:
        """A pass that reports something (opt-out used, break glass): counted by reports, shown by explain."""
        return RuleResult(self.rule, True, self._declared(code), detail)

    def fail(self, code: str, detail: str) -> RuleResult:
        return RuleResult(self.rule, False, self._declared(code), detail)

    def _declared(self, code: str) -> str:
        if code not in self.codes:
            declared = ", ".join(sorted(self.codes)) or "none"
            raise ValueError(
                f"booking rule {self.rule!r} gave reason code {code!r}, which it does not declare "
                f"(declared: {declared})"
            )
        return code
