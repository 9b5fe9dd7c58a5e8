"""Passport clearance as a booking rule: adapts the passport processor's answer.

The passport processor decides whether a person's credentials clear them for a role at
a trust; the booking rules only need its verdict and the reasons. :class:`Clearance` is
that small input, so this module does not import the passport code: whoever builds the
:class:`~.context.RuleContext` converts the processor's clearance into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rosterhub.streams.booking.rules.registry import PERSON, rule
from rosterhub.streams.booking.rules.result import Outcomes, RuleResult

if TYPE_CHECKING:
    from rosterhub.streams.booking.rules.context import RuleContext

__all__ = ["Clearance", "passport_clearance"]


@dataclass(frozen=True, slots=True)
class Clearance:
    """The passport's verdict for (person, host trust, staff group, grade, shift times).

    ``unmet`` lists (credential requirement, passport reason code) pairs, e.g.
    ``("DBS", "EXPIRED")``; it is empty when ``cleared``.
    """

    cleared: bool
    unmet: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@rule(
    "passport_clearance",
    stage=PERSON,
    order=300,
    codes={
        "PASSPORT_NOT_CLEARED": "the passport does not clear the person for this role at the host trust",
        "PASSPORT_UNKNOWN": "no clearance from the passport processor yet for this person, trust and role",
    },
)
def passport_clearance(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """Every credential the host trust requires is present, accepted and valid to the shift's end."""
    c = ctx.clearance
    trust = ctx.shift.trust
    if c is None:
        return out.fail("PASSPORT_UNKNOWN", f"no clearance yet from the passport for {trust}")
    if c.cleared:
        return out.ok(f"cleared by the passport for {trust}")
    reasons = "; ".join(f"{credential}: {reason}" for credential, reason in c.unmet) or "no reason given"
    return out.fail("PASSPORT_NOT_CLEARED", f"not cleared for {trust}: {reasons}")
