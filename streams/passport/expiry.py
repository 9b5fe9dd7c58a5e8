"""Expiry timing: which CredentialExpiring / CredentialExpired notices are due, and when the next one is.

Pure functions of (passport, now, thresholds). A notice is *due* once its instant has
passed; the passport records what it has sent (``Credential.notified`` per threshold,
``Credential.expired_sent``) for the credential's current expiry, so each notice goes out
once per credential and threshold, and a renewal (a new ``expires``) starts afresh.

Only a credential's own expiry (the issuer's ``expires_at``) drives these notices; a
host trust's shorter limits (CSTF renewal period, maximum age) take effect in clearance
answers at the exact instant, because clearance is computed for the shift's times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from rosterhub.streams.passport.state import Credential, Passport, to_ms

__all__ = ["DAY_MS", "Due", "due", "next_due"]

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Due:
    """Notices due for one credential: ``expiring`` is the threshold (days) to announce, if any."""

    credential: Credential  # as it was before the notices
    expiring: int | None
    expired: bool


def _live(c: Credential) -> bool:
    return c.issued is not None and c.expires is not None and c.revoked is None and c.expired_at is None


def due(passport: Passport, now: datetime, thresholds: tuple[int, ...]) -> tuple[Passport, list[Due]]:
    """Mark every notice due at ``now`` as sent and return them (the passport is unchanged when none is)."""
    now_ms = to_ms(now)
    found: list[Due] = []
    changed: dict[str, Credential] = {}
    for c in passport.credentials.values():
        if not _live(c):
            continue
        assert c.expires is not None
        crossed = tuple(t for t in thresholds if now_ms >= c.expires - t * DAY_MS and t not in c.notified)
        expired = now_ms >= c.expires and not c.expired_sent
        if not crossed and not expired:
            continue
        # Past the expiry, no "expiring" notice is worth sending; before it, announce only the tightest
        # threshold crossed (a credential issued 5 days before expiry gets the 7-day notice, not the 30).
        expiring = min(crossed) if crossed and now_ms < c.expires else None
        found.append(Due(c, expiring, expired))
        notified = tuple(sorted({*c.notified, *crossed}))
        changed[c.id] = replace(c, notified=notified, expired_sent=c.expired_sent or expired)
    if not changed:
        return passport, []
    return replace(passport, credentials={**passport.credentials, **changed}, updated=now_ms), found


def next_due(passport: Passport, thresholds: tuple[int, ...]) -> int | None:
    """The earliest instant (ms) at which a notice for this passport becomes due; None: nothing pending."""
    instants: list[int] = []
    for c in passport.credentials.values():
        if not _live(c):
            continue
        assert c.expires is not None
        instants += [c.expires - t * DAY_MS for t in thresholds if t not in c.notified]
        if not c.expired_sent:
            instants.append(c.expires)
    return min(instants) if instants else None
