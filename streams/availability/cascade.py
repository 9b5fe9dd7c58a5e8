"""The release cascade and visibility as pure functions of a shift's tier and times.

All arithmetic is on aware UTC instants, so "after 24 h" is 24 real hours whatever the
clocks in Europe/London do in between (docs/availability.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rosterhub.events.models.common import ReleaseTier
from rosterhub.streams.availability.policy import TIERS, CascadeStep

__all__ = ["AGENCY_TIERS", "Release", "next_release", "visibility"]

AGENCY_TIERS = frozenset({ReleaseTier.AGENCY_TIER_1, ReleaseTier.AGENCY_TIER_2, ReleaseTier.AGENCY_TIER_3})


@dataclass(frozen=True, slots=True)
class Release:
    """The next move of the cascade: to ``to`` at instant ``at``."""

    to: ReleaseTier
    at: datetime


def next_release(
    steps: Sequence[CascadeStep], tier: ReleaseTier, *, tier_since: datetime, start: datetime
) -> Release | None:
    """The first configured step wider than ``tier``, and when it is due.

    Due at ``tier_since + after`` or ``start - within``, whichever is earlier; ``None`` when
    no wider step is configured. The caller decides whether the shift is still open and
    not yet started.
    """
    rank = TIERS.index(ReleaseTier(tier))
    step = next((s for s in steps if TIERS.index(s.to) > rank), None)
    if step is None:
        return None
    candidates = []
    if step.after is not None:
        candidates.append(tier_since + step.after)
    if step.within is not None:
        candidates.append(start - step.within)
    return Release(step.to, min(candidates))


def visibility(tier: ReleaseTier, *, host: str, members: Sequence[str], open_: bool) -> tuple[list[str], bool]:
    """(trusts whose bank workers may book the shift now, whether agencies may): nobody when it is not open.

    The host's own bank at OWN_BANK; the host's collaborative members (always including the
    host) from COLLABORATIVE_BANK on, since each tier widens the audience; agencies at the
    agency tiers (which agency, by its own tier, is for the booking rules to say).
    """
    if not open_:
        return [], False
    tier = ReleaseTier(tier)
    trusts = [host] if tier == ReleaseTier.OWN_BANK else sorted({host, *members})
    return trusts, tier in AGENCY_TIERS
