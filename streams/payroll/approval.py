"""Who has signed a timesheet off, and whether that is enough to pay it (the host trust's policy). Pure.

Approvals are recorded per step (``approval_step``: 1, 2). Under ``steps`` every step of the
policy must be there, each by its named role: a platform's approvals are taken as the platform
recorded them (it enforces its own approvers), an approval through the hub's API must carry
the role the policy names for its step. Under ``auto`` the hub approves a timesheet within
tolerance itself; one it queried is paid once a person approves it (one step). The hours paid
are those of the last step.
"""

from __future__ import annotations

from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.streams.payroll.policy import PayrollPolicy

__all__ = ["accepts", "entry", "final", "required_steps"]


def entry(env: Envelope) -> dict[str, Any]:
    """A TimesheetApproved as stage 2 keeps it."""
    d = env.data
    return {
        "timesheet_id": str(d["timesheet_id"]),
        "step": int(d.get("approval_step") or 1),
        "approver": d.get("approver"),
        "role": d.get("approver_role"),
        "trust": d.get("approver_trust"),
        "at": d["approved_at"].isoformat(),
        "hours": str(d["approved_hours"]),
        "final": bool(d.get("final_approval", True)),
        "event": env.id,
        "source": env.source,
    }


def required_steps(policy: PayrollPolicy | None) -> list[str]:
    """The named roles whose approvals pay a timesheet a person must approve."""
    if policy is None:
        return ["ward_manager"]
    return list(policy.approval.steps) if policy.approval.mode == "steps" else list(policy.approval.steps[:1])


def accepts(policy: PayrollPolicy | None, approval: dict[str, Any], *, via_api: bool, host: str | None) -> bool:
    """Whether an approval can count at its step: within the policy's steps and, through the API, by the step's
    role at the host trust (the caller's token says both; the API checked them, this checks them again)."""
    roles = required_steps(policy)
    step = approval["step"]
    if not 1 <= step <= len(roles):
        return False
    return not via_api or (approval.get("role") == roles[step - 1] and approval.get("trust") == host)


def final(policy: PayrollPolicy | None, approvals: dict[str, dict[str, Any]], *, by_hub: bool) -> dict[str, Any] | None:
    """The approval that pays (its hours and time), or None while one is missing.

    ``by_hub``: the timesheet matched its booking; under ``auto`` the hub's own approval then pays it.
    """
    steps = len(required_steps(policy))
    if approvals and all(str(n) in approvals for n in range(1, steps + 1)):
        last = approvals[str(steps)]
        return {"hours": last["hours"], "at": last["at"], "by_hub": False}
    if by_hub and (policy is None or policy.approval.mode == "auto"):
        return {"hours": None, "at": None, "by_hub": True}
    return None
