"""Load ``policies/payroll/*.yaml``: collaborative files, trust files that extend them, merged and validated.

Every file is validated on its own (an error names the file and the key) and the merged result
again, when the worker starts: a typo in a rate card must stop the worker, not pay a wrong rate.
A managed service that pays the collaborative's workers may have a trust file of its own (its
rate card) without being a member.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from rosterhub.errors import ConfigError
from rosterhub.ods import ODS
from rosterhub.streams.payroll.policy import (
    ApprovalPolicy,
    Employment,
    PayPolicy,
    PayrollPolicy,
    RechargePolicy,
    TimesheetRules,
    _Model,
)

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
    members: list[str] = Field(default_factory=list)

    @field_validator("members")
    @classmethod
    def _ods(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if not ODS.match(m)]
        if bad:
            raise ValueError(f"members must be ODS codes, got {bad}")
        return v


class _TrustFile(_Model):
    """A trust file is validated for its keys only: its sections are checked once merged."""

    model_config = _Model.model_config | {"extra": "allow"}
    kind: Literal["trust"] = "trust"
    trust: str
    extends: str | None = None

    @field_validator("trust")
    @classmethod
    def _ods(cls, v: str) -> str:
        if not ODS.match(v):
            raise ValueError(f"trust must be an ODS code (3-5 upper-case characters), got {v!r}")
        return v


@dataclass(frozen=True)
class PayrollPolicies:
    """Every trust's effective payroll policy, by ODS code."""

    trusts: Mapping[str, PayrollPolicy]

    def get(self, trust: str | None) -> PayrollPolicy | None:
        return self.trusts.get(trust or "")


_FILE_ONLY = {"kind", "id", "extends", "members"}


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read payroll policy file: {exc}", file=str(path)) from exc
    if not isinstance(raw, dict):
        raise ConfigError("a payroll policy file is a mapping with kind: trust or kind: collaborative", file=str(path))
    return raw


def _validate(model: type[_Model], raw: Mapping[str, Any], where: str) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"] if p != "[key]") or None
        raise ConfigError(f"invalid payroll policy: {first['msg']}", file=where, key=key) from exc


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        old = out.get(key)
        out[key] = _merge(old, value) if isinstance(old, Mapping) and isinstance(value, Mapping) and value else value
    return out


def load_payroll_policies(paths: Iterable[Path]) -> PayrollPolicies:
    """Load ``*.yaml`` files (or folders of them) into validated, merged per-trust payroll policies."""
    files: list[Path] = []
    for p in paths:
        files += sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    raws = [(f, _read(f)) for f in files]
    collaboratives: dict[str, tuple[Path, dict[str, Any], _CollaborativeFile]] = {}
    for f, raw in raws:
        if raw.get("kind") == "collaborative":
            parsed = _validate(_CollaborativeFile, raw, str(f))
            if parsed.id in collaboratives:
                raise ConfigError(f"two payroll files for collaborative {parsed.id}", file=str(f), key="id")
            collaboratives[parsed.id] = (f, raw, parsed)
    trusts: dict[str, PayrollPolicy] = {}
    for f, raw in raws:
        if raw.get("kind") == "collaborative":
            continue
        own: _TrustFile = _validate(_TrustFile, raw, str(f))
        if own.trust in trusts:
            raise ConfigError(f"two payroll policy files for trust {own.trust}", file=str(f), key="trust")
        base: dict[str, Any] = {}
        members: tuple[str, ...] = ()
        where = str(f)
        if own.extends is not None:
            if own.extends not in collaboratives:
                raise ConfigError(f"extends unknown collaborative {own.extends!r}", file=str(f), key="extends")
            cfile, craw, collab = collaboratives[own.extends]
            provider = collab.employment.provider if collab.employment.model == "managed_service" else None
            if own.trust not in collab.members and own.trust != provider:
                raise ConfigError(f"{own.trust} is not a member of {collab.id} ({cfile})", file=str(f), key="trust")
            base, members = {k: v for k, v in craw.items() if k not in _FILE_ONLY}, tuple(collab.members)
            where = f"{f} (merged over {cfile})"
            if "employment" in raw or "recharge" in raw:
                raise ConfigError("employment and recharge are the collaborative's, not a trust's", file=str(f))
        merged = _merge(base, {k: v for k, v in raw.items() if k not in _FILE_ONLY})
        digest = hashlib.sha256(yaml.safe_dump(merged, sort_keys=True).encode()).hexdigest()[:12]
        merged |= {"trust": own.trust, "collaborative": own.extends, "members": members, "fingerprint": digest}
        trusts[own.trust] = _validate(PayrollPolicy, merged, where)
    return PayrollPolicies(trusts)
