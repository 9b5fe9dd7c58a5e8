"""The KPIs' configuration: one YAML file per collaborative in ``policies/kpi/`` (docs/kpi.md).

Keys and defaults:

* ``collaborative``: the collaborative id (as in ``policies/booking/``, where its members are listed);
* ``late_notice_hours`` (default 24): a cancellation of a filled booking with less notice is late;
* ``agency_reference_rates`` (default none): GBP per hour an agency would charge, by grade (``default``
  for any other grade), against which bank fills' savings are counted;
* ``bank_holidays`` (default ``ENG``): the GB subdivision whose bank holidays make BANK_HOLIDAY shifts.

A collaborative with no file gets the defaults. Which trust belongs to which collaborative is read
from the booking policies, the one place membership is declared. Files are validated when the
worker starts; an error names the file and the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rosterhub.bank_holidays import subdivisions
from rosterhub.errors import ConfigError
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.policy_files import read_mapping, validated, yaml_files

__all__ = ["KpiPolicies", "KpiPolicy", "load_kpi_policies"]


class KpiPolicy(BaseModel):
    """One collaborative's KPI settings (defaults for a collaborative nobody configured)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    collaborative: str | None = None
    late_notice_hours: Decimal = Field(default=Decimal(24), ge=0)
    agency_reference_rates: dict[str, Decimal] = Field(default_factory=dict)
    bank_holidays: str = "ENG"

    @field_validator("agency_reference_rates")
    @classmethod
    def _positive(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        bad = [g for g, r in v.items() if r <= 0]
        if bad:
            raise ValueError(f"reference rates must be positive GBP per hour: {bad}")
        return {g: r.quantize(Decimal("0.01")) for g, r in v.items()}

    @field_validator("bank_holidays")
    @classmethod
    def _subdivision(cls, v: str) -> str:
        known = subdivisions()
        if v not in known:
            raise ValueError(f"bank_holidays={v!r} is not a GB subdivision of the holidays package: {known}")
        return v

    def reference_rate(self, grade: str) -> Decimal | None:
        return self.agency_reference_rates.get(grade, self.agency_reference_rates.get("default"))


@dataclass(frozen=True)
class KpiPolicies:
    """KPI settings by collaborative, and the collaborative of each trust (from the booking policies)."""

    by_collaborative: Mapping[str, KpiPolicy] = field(default_factory=dict)
    collaborative_of: Mapping[str, str] = field(default_factory=dict)
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def for_trust(self, trust: str) -> KpiPolicy:
        collab = self.collaborative_of.get(trust)
        if collab is None:
            return _DEFAULT
        return self.by_collaborative.get(collab) or KpiPolicy(collaborative=collab)

    def partners(self, trust: str) -> tuple[str, ...]:
        """Member trusts of ``trust``'s collaborative (empty when it is in none)."""
        collab = self.collaborative_of.get(trust)
        return self.members.get(collab, ()) if collab else ()


_DEFAULT = KpiPolicy()


_WHAT = "KPI policy"


def _validate(raw: Mapping[str, Any], path: Path) -> KpiPolicy:
    parsed = validated(KpiPolicy, raw, path, _WHAT)
    if not parsed.collaborative:
        raise ConfigError("a KPI policy file names its collaborative", file=str(path), key="collaborative")
    return parsed


def load_kpi_policies(paths: Iterable[Path], booking: BookingPolicies | None = None) -> KpiPolicies:
    """Load ``*.yaml`` files (or folders of them); membership comes from ``booking``."""
    booking = booking or BookingPolicies({})
    by_collab: dict[str, KpiPolicy] = {}
    for f in yaml_files(paths, missing_ok=True):
        parsed = _validate(read_mapping(f, _WHAT, "collaborative: ..."), f)
        assert parsed.collaborative is not None
        if parsed.collaborative in by_collab:
            other = f"collaborative {parsed.collaborative} is configured twice"
            raise ConfigError(other, file=str(f), key="collaborative")
        by_collab[parsed.collaborative] = parsed
    collaborative_of = {t: p.collaborative for t, p in booking.trusts.items() if p.collaborative}
    members: dict[str, tuple[str, ...]] = {}
    for trust, collab in collaborative_of.items():
        members[collab] = tuple(sorted({*members.get(collab, ()), trust, *booking.trusts[trust].members}))
    return KpiPolicies(by_collab, collaborative_of, members)
