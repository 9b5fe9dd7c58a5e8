"""Load ``policies/payroll/*.yaml``: collaborative files, trust files that extend them, merged and validated.

Every file is validated on its own (an error names the file and the key) and the merged result
again, when the worker starts: a typo in a rate card must stop the worker, not pay a wrong rate.
A managed service that pays the collaborative's workers may have a trust file of its own (its
rate card) without being a member.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from rosterhub.streams.payroll.policy import (
    ApprovalPolicy,
    Employment,
    PayPolicy,
    PayrollPolicy,
    RechargePolicy,
    TimesheetRules,
    _Model,
)
from rosterhub.streams.policy_files import OdsCode, OdsCodes, load_extending

__all__ = ["PayrollPolicies", "load_payroll_policies"]


class _Sections(_Model):
    name: str | None = None
    timesheets: TimesheetRules = TimesheetRules()
    approval: ApprovalPolicy = ApprovalPolicy()
    pay: PayPolicy = PayPolicy()
    employment: Employment = Employment()
    recharge: RechargePolicy = RechargePolicy()


class _CollaborativeFile(_Sections):
    kind: Literal["collaborative"]
    id: str
    members: OdsCodes = Field(default_factory=list)


class _TrustFile(_Model):
    """A trust file is validated for its keys only: its sections are checked once merged."""

    model_config = _Model.model_config | {"extra": "allow"}
    kind: Literal["trust"] = "trust"
    trust: OdsCode
    extends: str | None = None


@dataclass(frozen=True)
class PayrollPolicies:
    """Every trust's effective payroll policy, by ODS code."""

    trusts: Mapping[str, PayrollPolicy]

    def get(self, trust: str | None) -> PayrollPolicy | None:
        return self.trusts.get(trust or "")


def _may_extend(collaborative: _CollaborativeFile) -> list[str]:
    """Its members, and a managed service that pays its workers (which has a trust file for its rate card)."""
    employment = collaborative.employment
    provider = [employment.provider] if employment.model == "managed_service" and employment.provider else []
    return [*collaborative.members, *provider]


def load_payroll_policies(paths: Iterable[Path]) -> PayrollPolicies:
    """Load ``*.yaml`` files (or folders of them) into validated, merged per-trust payroll policies."""
    trusts = load_extending(
        paths,
        "payroll policy",
        collaborative=_CollaborativeFile,
        trust=_TrustFile,
        policy=PayrollPolicy,
        may_extend=_may_extend,
        collaborative_only=frozenset({"employment", "recharge"}),
    )
    return PayrollPolicies(trusts)
