"""Who may read payroll, and who may approve a timesheet: the rules, pure (docs/payroll.md, "HTTP").

The caller is the verified token's (:class:`rosterhub.auth.caller.Caller`, from the route's
``Security(Authenticate(...), scopes=[...])``); the rules say which of its trust's data it may see:

* a batch and its lines: only the **employing trust's** ``payroll`` role;
* a recharge statement: the ``payroll`` role of **one of the two trusts** of its pair, and only that pair;
* an approval through the API: a caller of the **host trust** holding the role the host's policy
  names for that step (``ward_manager``, ``bank_office``: roles of rosterhub/auth/roles.py).
"""

from __future__ import annotations

from rosterhub.auth.caller import Caller
from rosterhub.auth.roles import Role

__all__ = ["APPROVER_ROLES", "can_approve", "can_read_batch", "can_read_statement"]

#: Roles a payroll policy may name for an approval step (the API lets any of them in, then checks the step's).
APPROVER_ROLES = (Role.WARD_MANAGER, Role.BANK_OFFICE)


def can_read_batch(caller: Caller, employing_trust: str) -> bool:
    return Role.PAYROLL in caller.roles and caller.trust == employing_trust


def can_read_statement(caller: Caller, raised_by: str, charged_to: str) -> bool:
    return Role.PAYROLL in caller.roles and caller.trust in (raised_by, charged_to)


def can_approve(caller: Caller, host: str, role: str) -> bool:
    return caller.trust == host and role in caller.roles
