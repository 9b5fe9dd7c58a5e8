"""The release cascade as configuration: when an unfilled shift moves to the next tier.

One YAML file per collaborative in ``policies/availability/`` (``<collaborative id>.yaml``).
Its ``cascade`` is a list of steps, each moving an open shift to a wider tier ``to``
after it has spent ``after`` at its current tier, or once it starts within ``within``,
whichever comes first. ``trusts: {<ODS>: {cascade: [...]}}`` replaces the list for one
trust (lists replace, as in the booking policies). The collaborative's members come from
the booking policies (``policies/booking/``), the one place membership is declared.

Durations are real elapsed time (UTC instants), written ``48h``, ``90m``, ``30s``,
``2d`` or combined (``1h30m``): "24 h at own bank" posted at 12:00 on the Saturday
before the October clock change releases at 11:00 local on the Sunday.

Files are validated when the worker starts; an error names the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rosterhub.errors import ConfigError
from rosterhub.events.models.common import ReleaseTier
from rosterhub.ods import ODS
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.policy_files import read_mapping, validated, yaml_files

__all__ = ["TIERS", "AvailabilityPolicy", "CascadeStep", "load_availability_policy", "parse_duration"]

#: Release tiers, narrowest audience first: the cascade only ever moves down this list.
TIERS: tuple[ReleaseTier, ...] = tuple(ReleaseTier)

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(text: str) -> timedelta:
    """``2d``, ``48h``, ``90m``, ``30s``, ``1h30m``, ``0.5s`` -> timedelta (real time)."""
    m = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not m or not any(m.groups()):
        raise ValueError(f"{text!r} is not a duration: write e.g. 48h, 90m, 30s, 2d or 1h30m")
    d, h, mi, s = m.groups()
    return timedelta(days=int(d or 0), hours=int(h or 0), minutes=int(mi or 0), seconds=float(s or 0))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CascadeStep(_Model):
    """Release to ``to`` after ``after`` at the current tier, or when the start is within ``within``."""

    to: ReleaseTier
    after: timedelta | None = None
    within: timedelta | None = None

    @field_validator("after", "within", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        if v is None or isinstance(v, timedelta):
            return v
        if isinstance(v, int | float):
            raise ValueError(f"write a unit: {v}h, {v}m or {v}s")
        return parse_duration(str(v))

    @model_validator(mode="after")
    def _some_trigger(self) -> CascadeStep:
        if self.after is None and self.within is None:
            raise ValueError(f"step to {self.to} needs after, within or both")
        if self.to == ReleaseTier.OWN_BANK:
            raise ValueError("OWN_BANK is where a shift starts; a step releases to a wider tier")
        return self


def _ordered(steps: list[CascadeStep]) -> list[CascadeStep]:
    ranks = [TIERS.index(s.to) for s in steps]
    if ranks != sorted(set(ranks)):
        raise ValueError("steps must move to strictly wider tiers, in order (COLLABORATIVE_BANK, AGENCY_TIER_1..3)")
    return steps


class _TrustOverride(_Model):
    cascade: list[CascadeStep]

    @field_validator("cascade")
    @classmethod
    def _order(cls, v: list[CascadeStep]) -> list[CascadeStep]:
        return _ordered(v)


class _File(_Model):
    collaborative: str
    cascade: list[CascadeStep] = Field(default_factory=list)
    trusts: dict[str, _TrustOverride] = Field(default_factory=dict)

    @field_validator("cascade")
    @classmethod
    def _order(cls, v: list[CascadeStep]) -> list[CascadeStep]:
        return _ordered(v)

    @field_validator("trusts")
    @classmethod
    def _ods(cls, v: dict[str, _TrustOverride]) -> dict[str, _TrustOverride]:
        bad = [t for t in v if not ODS.match(t)]
        if bad:
            raise ValueError(f"trusts are keyed by ODS code, got {bad}")
        return v


@dataclass(frozen=True)
class AvailabilityPolicy:
    """Everything the availability processor reads from configuration, by host trust (pure lookups)."""

    cascades: Mapping[str, tuple[CascadeStep, ...]] = field(default_factory=dict)
    booking: BookingPolicies = field(default_factory=lambda: BookingPolicies({}))

    def cascade(self, trust: str) -> tuple[CascadeStep, ...]:
        """The trust's cascade; empty (the shift stays at its tier) for a trust nobody configured."""
        return self.cascades.get(trust, ())

    def members(self, trust: str) -> tuple[str, ...]:
        """ODS codes of the host's collaborative members (the host alone when it has none)."""
        policy = self.booking.get(trust)
        return tuple(sorted({trust, *(policy.members if policy else ())}))

    def price_cap(self, trust: str, grade: str) -> Decimal | None:
        policy = self.booking.get(trust)
        return policy.agency.cap(grade) if policy else None


_WHAT = "availability policy"


def load_availability_policy(paths: Iterable[Path], booking: BookingPolicies | None = None) -> AvailabilityPolicy:
    """Load ``*.yaml`` files (or folders of them); each collaborative's cascade applies to its booking members."""
    booking = booking or BookingPolicies({})
    cascades: dict[str, tuple[CascadeStep, ...]] = {}
    where: dict[str, Path] = {}
    seen: dict[str, Path] = {}
    for f in yaml_files(paths):
        parsed = validated(_File, read_mapping(f, _WHAT, "collaborative: and cascade:"), f, _WHAT)
        if parsed.collaborative in seen:
            other = seen[parsed.collaborative]
            raise ConfigError(
                f"collaborative {parsed.collaborative} is also configured in {other}", file=str(f), key="collaborative"
            )
        seen[parsed.collaborative] = f
        members = {t for t, p in booking.trusts.items() if p.collaborative == parsed.collaborative}
        for trust in sorted(members | set(parsed.trusts)):
            if trust in where:
                raise ConfigError(
                    f"trust {trust} already has a cascade from {where[trust]}", file=str(f), key=f"trusts.{trust}"
                )
            override = parsed.trusts.get(trust)
            cascades[trust] = tuple(override.cascade if override else parsed.cascade)
            where[trust] = f
    return AvailabilityPolicy(cascades, booking)
