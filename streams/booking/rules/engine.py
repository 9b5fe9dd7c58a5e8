"""Run every enabled booking rule, in one fixed order, and keep every result.

The order (each rule's ``order``, :mod:`.registry`) follows the questions a bank office asks: is
the shift there and offered to this worker; are they cleared to work at this trust; are they
free; would it break working-time law or the junior doctors' contract; are they the right grade;
and, for agency workers, the agency rules and moonlighting. Nothing stops at the first failure: a
refusal lists every reason, so the worker and the rota manager fix everything at once. A
disabled rule (``rules:`` in the policy) is left out, not reported as passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rosterhub.streams.booking.policy import BookingPolicy
from rosterhub.streams.booking.rules import checks, registry
from rosterhub.streams.booking.rules.context import RuleContext
from rosterhub.streams.booking.rules.registry import BookingRule
from rosterhub.streams.booking.rules.result import RuleResult

__all__ = ["evaluate", "failed_codes", "reason_codes", "run"]


def reason_codes() -> dict[str, str]:
    """Every reason code a decision can carry, with its meaning: the rules' own, then the saga's checks
    (docs/booking.md lists the same)."""
    return {**registry.reason_codes(), **checks.CODES}


def run(ctx: RuleContext, rules: Iterable[BookingRule], policy: BookingPolicy | None = None) -> list[RuleResult]:
    """The results of ``rules`` the policy (default: the context's) leaves enabled, in the order given."""
    policy = policy or ctx.policy
    return [r(ctx) for r in rules if policy.enabled(r.id)]


def evaluate(ctx: RuleContext) -> list[RuleResult]:
    """One result per enabled rule, in evaluation order; a booking is confirmed when all passed."""
    return run(ctx, registry.rules())


def failed_codes(results: Sequence[RuleResult]) -> list[str]:
    """Reason codes of the failed rules, in rule order (``BookingRejected.reason_codes``)."""
    return [r.reason_code for r in results if not r.passed and r.reason_code]
