"""Who may read payroll, and who may approve a timesheet: the rules, pure, and the one dependency that says who calls.

The rules (docs/payroll.md, "HTTP"):

* a batch and its lines: only the **employing trust's payroll role** (``payroll`` with that trust);
* a recharge statement: the payroll role of **one of the two trusts** of its pair, and only that pair;
* an approval through the API: a caller of the **host trust** holding the role the host's policy
  names for that step.

:func:`current_caller` is the single place the caller comes from. Until the hub's bearer-token
access control is on this branch's base (``rosterhub.auth``, issue #12) it refuses every request
(503, ``access_control_unavailable``) rather than trust anything a request says about itself; the
routes, their rules and their tests are written against :class:`Caller` and switch to the verified
token's caller by replacing this one function.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import HTTPException

__all__ = ["PAYROLL_ROLE", "Caller", "can_approve", "can_read_batch", "can_read_statement", "current_caller"]

#: The role that reads an employing trust's pay lines and batches.
PAYROLL_ROLE = "payroll"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as a verified token says: subject, the trust acted for, roles."""

    subject: str
    trust: str | None
    roles: frozenset[str] = field(default_factory=frozenset)


def current_caller() -> Caller:
    """The verified caller of this request. See the module text: no request is trusted until it can be verified."""
    raise HTTPException(
        503,
        {
            "code": "access_control_unavailable",
            "message": "payroll routes need the hub's bearer-token access control (rosterhub.auth), not configured",
        },
    )


def can_read_batch(caller: Caller, employing_trust: str) -> bool:
    return PAYROLL_ROLE in caller.roles and caller.trust == employing_trust


def can_read_statement(caller: Caller, raised_by: str, charged_to: str) -> bool:
    return PAYROLL_ROLE in caller.roles and caller.trust in (raised_by, charged_to)


def can_approve(caller: Caller, host: str, role: str) -> bool:
    return caller.trust == host and role in caller.roles
