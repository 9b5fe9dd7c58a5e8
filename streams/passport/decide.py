"""One step of the passport processor: (passport, incoming event or timer tick, now) -> (passport, events out).

Pure: no Kafka, no clock. The agent reads the table, calls :func:`step` or :func:`tick`,
sends what comes back and writes the table. Output event ids are derived from what
caused them (the input's ce_id, a credential's expiry and threshold), so a step redone
after a crash emits the same ids, which consumers drop as duplicates.

Where the outputs go (docs/passport.md): PassportUpdated, CredentialExpiring and
ClearanceChanged on ``events.passport``; the timer's CredentialExpired also on
``events.passport`` (not ``events.credential``, which identity resolution reads as
connector input: a hub-made expiry must not loop back through it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rosterhub.envelope import Envelope, event_id
from rosterhub.events.models import (
    ClearanceChanged,
    CredentialExpired,
    CredentialExpiring,
    PassportUpdated,
    PersonsMerged,
    PersonSplit,
)
from rosterhub.streams.passport.clearance import counts_at
from rosterhub.streams.passport.expiry import due
from rosterhub.streams.passport.policy import PolicySet, TrustPolicy
from rosterhub.streams.passport.state import REVOKED, Credential, Passport, apply, from_ms, to_ms

__all__ = ["SOURCE", "Step", "step", "tick"]

SOURCE = "/rosterhub/passport"
PASSPORT_UPDATED, CREDENTIAL_EXPIRING, CLEARANCE_CHANGED = (
    PassportUpdated.AVRO_NAME,
    CredentialExpiring.AVRO_NAME,
    ClearanceChanged.AVRO_NAME,
)
CREDENTIAL_EXPIRED = CredentialExpired.AVRO_NAME
PERSONS_MERGED, PERSON_SPLIT = PersonsMerged.AVRO_NAME, PersonSplit.AVRO_NAME
_CHANGE = {
    "CredentialIssued": "ISSUED",
    "CredentialVerified": "VERIFIED",
    "CredentialRevoked": "REVOKED",
    "CredentialExpired": "EXPIRED",
}


@dataclass(frozen=True, slots=True)
class Step:
    passport: Passport | None  # None with ``delete``: drop the key
    outputs: list[Envelope] = field(default_factory=list)
    delete: bool = False


def step(
    before: Passport | None,
    env: Envelope,
    *,
    person: str,
    policies: PolicySet,
    thresholds: tuple[int, ...],
    now: datetime,
) -> Step:
    """Apply one event from ``_rosterhub.passport-in`` keyed by ``person``."""
    if env.type == PERSONS_MERGED:
        merged_away = env.data.get("merged_person_id") == person
        return Step(None, delete=True) if merged_away and before is not None else Step(before)
    if env.type == PERSON_SPLIT:
        return Step(_split(before, env, person, now))
    if env.source == SOURCE:
        return Step(before)  # our own output looping back: already applied
    after = apply(before, env, person=person, now=now)
    if after is None or after == before:
        return Step(before)
    outputs: list[Envelope] = []
    cid = env.data.get("credential_id", "")
    if before is None or after.version != before.version:
        outputs.append(_updated(after, after.credentials[cid], _CHANGE[env.type.rsplit(".", 1)[-1]], env.id, now))
        old = before.credentials.get(cid) if before else None
        if old is not None:
            outputs += _withdrawn(after, old, after.credentials[cid], policies, env, now)
    after, notices = _notices(after, policies, thresholds, now)
    return Step(after, outputs + notices)


def tick(before: Passport | None, *, policies: PolicySet, thresholds: tuple[int, ...], now: datetime) -> Step:
    """The timer says something may be due for this person: send what is due, once."""
    if before is None:
        return Step(None)
    after, notices = _notices(before, policies, thresholds, now)
    return Step(after, notices)


def _split(before: Passport | None, env: Envelope, person: str, now: datetime) -> Passport | None:
    if before is None or env.data.get("person_id") != person:
        return before
    leaving = set(env.data.get("credential_ids") or ())
    if not leaving & set(before.credentials):
        return before
    kept = {cid: c for cid, c in before.credentials.items() if cid not in leaving}
    return replace(before, credentials=kept, version=before.version + 1, updated=to_ms(now))


def _worker(p: Passport) -> dict[str, Any]:
    return {
        "person_id": p.person,
        "identifiers": [{"system": s, "value": v} for s, v in p.identifiers],
        "display_name": p.name,
    }


def _org(ods: str | None) -> dict[str, Any]:
    return {"ods_code": ods or "", "name": None}


def _status(c: Credential, now_ms: int) -> str:
    if c.issued is None:
        return "PENDING"
    if c.revoked is not None:
        return "REVOKED"
    lapse = c.lapse()
    return "EXPIRED" if lapse is not None and lapse <= now_ms else "ACTIVE"


def _updated(p: Passport, c: Credential, change: str, cause: str | None, now: datetime) -> Envelope:
    data = {
        "person_id": p.person,
        "version": p.version,
        "credential_id": c.id,
        "change": change,
        "credential_type": c.type,
        "issuer": _org(c.issuer) if c.issuer else None,
        "status": _status(c, to_ms(now)),
        "expires_at": from_ms(c.expires) if c.expires is not None else None,
        "credential_count": len(p.credentials),
        "cause_id": cause,
        "updated_at": now,
    }
    return _about(c, PASSPORT_UPDATED, data, now, event_id("passport-updated", p.person, p.version, cause or c.id))


def _withdrawn(
    p: Passport, old: Credential, new: Credential, policies: PolicySet, env: Envelope, now: datetime
) -> list[Envelope]:
    """ClearanceChanged for every trust at which a revocation (or declared expiry) ends the credential's use."""
    if new.revoked is not None and old.revoked is None:
        at, reason, detail = new.revoked.at, "CREDENTIAL_REVOKED", new.revoked.reason
    elif new.expired_at is not None and old.expired_at != new.expired_at and env.type != REVOKED:
        at, reason, detail = new.expired_at, "CREDENTIAL_EXPIRED", None
    else:
        return []
    probe = min(at, to_ms(now)) - 1
    return [
        _changed(p, new, policy, reason, detail, at, env.id)
        for _, policy in sorted(policies.trusts.items())
        if counts_at(old, policy, probe) and not counts_at(new, policy, max(at, to_ms(now)))
    ]


def _about(c: Credential, type_: str, data: dict[str, Any], at: datetime, id_: str) -> Envelope:
    """The passport's event about credential ``c`` (its subject); ``id_`` is derived from what caused it, so a
    redelivered input gives the same id."""
    return Envelope(type=type_, source=SOURCE, data=data, subject=c.id, time=at, id=id_)


def _changed(
    p: Passport, c: Credential, policy: TrustPolicy, reason: str, revocation: str | None, at: int, cause: str | None
) -> Envelope:
    trust = policy.trust
    accepted = policy.accepts(c.issuer, c.type)
    under = "own" if accepted is True else accepted.id if accepted else None
    data = {
        "person_id": p.person,
        "trust": _org(trust),
        "credential_id": c.id,
        "credential_type": c.type,
        "issuer": _org(c.issuer),
        "reason": reason,
        "revocation_reason": revocation,
        "accepted_under": under,
        "changed_at": from_ms(at),
        "cause_id": cause,
    }
    return _about(
        c, CLEARANCE_CHANGED, data, from_ms(at), event_id("clearance-changed", p.person, trust, c.id, reason, at)
    )


def _notices(
    p: Passport, policies: PolicySet, thresholds: tuple[int, ...], now: datetime
) -> tuple[Passport, list[Envelope]]:
    after, found = due(p, now, thresholds)
    outputs: list[Envelope] = []
    for d in found:
        c = d.credential
        assert c.expires is not None
        common = {
            "credential_id": c.id,
            "person_id": p.person,
            "worker": _worker(p),
            "credential_type": c.type,
            "issuer": _org(c.issuer),
            "cstf_subject": c.subject,
            "level": c.level,
        }
        if d.expiring is not None:
            data = {**common, "expires_at": from_ms(c.expires), "days_ahead": d.expiring, "notified_at": now}
            outputs.append(
                _about(c, CREDENTIAL_EXPIRING, data, now, event_id("passport-expiring", c.id, c.expires, d.expiring))
            )
        if d.expired:
            data = {**common, "expired_at": from_ms(c.expires), "detected_at": now}
            cause = event_id("passport-expired", c.id, c.expires)
            outputs.append(_about(c, CREDENTIAL_EXPIRED, data, now, cause))
            after = replace(after, version=after.version + 1)
            outputs.append(_updated(after, after.credentials[c.id], "EXPIRED", cause, now))
            outputs += [
                _changed(after, c, policy, "CREDENTIAL_EXPIRED", None, c.expires, cause)
                for _, policy in sorted(policies.trusts.items())
                if counts_at(c, policy, c.expires - 1)
            ]
    return after, outputs
