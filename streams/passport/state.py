"""What the passport remembers per person, and how one credential event changes it.

The passport table is keyed by hub person id (the key of ``_rosterhub.passport-in``), so
one writer owns each person's credentials and sees their events in order. Values are
small JSON documents with short keys (:meth:`Passport.to_table`): 1.5 million passports of
10-15 credentials must fit a worker's RocksDB store (docs/benchmarks.md).

:func:`apply` is pure and idempotent: applying an event twice, or an older event after
a newer one, leaves the passport as it was, so at-least-once delivery cannot double a
change and the agent only emits when the passport really changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.events.base import symbol
from rosterhub.events.models import CredentialExpired, CredentialIssued, CredentialRevoked, CredentialVerified
from rosterhub.instants import from_ms, optional_ms, to_ms  # to_ms, from_ms re-exported for the passport modules
from rosterhub.ods import ods_of

__all__ = [
    "CREDENTIAL_EVENTS",
    "Credential",
    "Passport",
    "Revocation",
    "Verification",
    "apply",
    "from_ms",
    "to_ms",
]

ISSUED, VERIFIED, REVOKED, EXPIRED = (
    m.AVRO_NAME for m in (CredentialIssued, CredentialVerified, CredentialRevoked, CredentialExpired)
)
CREDENTIAL_EVENTS = (ISSUED, VERIFIED, REVOKED, EXPIRED)
PASSING = ("VALIDATED", "ATTESTED")


@dataclass(frozen=True, slots=True)
class Verification:
    """The latest check of one verifier: FHIR VerificationResult status and how it was made."""

    verifier: str
    status: str
    method: str
    at: int
    next_due: int | None = None
    mou: str | None = None
    evidence: str | None = None

    @property
    def passing(self) -> bool:
        return self.status in PASSING


@dataclass(frozen=True, slots=True)
class Revocation:
    reason: str
    at: int
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Credential:
    """One credential with its provenance. ``issued`` is None while only a verification or a
    revocation has arrived (a stub that never clears anything until its issue event comes)."""

    id: str
    type: str
    issuer: str | None = None
    issued: int | None = None
    expires: int | None = None
    subject: str | None = None
    level: int | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    evidence: str | None = None
    verifications: tuple[Verification, ...] = ()
    revoked: Revocation | None = None
    expired_at: int | None = None  # an issuer's CredentialExpired, or our own timer's
    notified: tuple[int, ...] = ()  # CredentialExpiring thresholds (days) already sent for ``expires``
    expired_sent: bool = False  # CredentialExpired already sent for ``expires``
    source: str | None = None  # ce_source of the issue event
    local: str | None = None  # ce_localworker: the issuer's local worker id

    def lapse(self) -> int | None:
        """When the credential stops being valid by its own terms (expiry or declared expiry)."""
        ends = [t for t in (self.expires, self.expired_at) if t is not None]
        return min(ends) if ends else None

    def to_table(self) -> dict[str, Any]:
        d: dict[str, Any] = {"t": self.type}
        for k, v in (
            ("i", self.issuer),
            ("s", self.issued),
            ("e", self.expires),
            ("cs", self.subject),
            ("l", self.level),
            ("a", self.attrs),
            ("ev", self.evidence),
            ("x", self.expired_at),
            ("n", list(self.notified)),
            ("xs", self.expired_sent),
            ("src", self.source),
            ("lw", self.local),
        ):
            if v:
                d[k] = v
        if self.verifications:
            d["v"] = [[v.verifier, v.status, v.method, v.at, v.next_due, v.mou, v.evidence] for v in self.verifications]
        if self.revoked:
            d["r"] = [self.revoked.reason, self.revoked.at, self.revoked.detail]
        return d

    @classmethod
    def from_table(cls, cid: str, d: dict[str, Any]) -> Credential:
        return cls(
            id=cid,
            type=d["t"],
            issuer=d.get("i"),
            issued=d.get("s"),
            expires=d.get("e"),
            subject=d.get("cs"),
            level=d.get("l"),
            attrs=d.get("a", {}),
            evidence=d.get("ev"),
            verifications=tuple(Verification(*v) for v in d.get("v", ())),
            revoked=Revocation(*d["r"]) if "r" in d else None,
            expired_at=d.get("x"),
            notified=tuple(d.get("n", ())),
            expired_sent=d.get("xs", False),
            source=d.get("src"),
            local=d.get("lw"),
        )


@dataclass(frozen=True, slots=True)
class Passport:
    person: str
    version: int = 0
    identifiers: tuple[tuple[str, str], ...] = ()
    name: str | None = None
    credentials: dict[str, Credential] = field(default_factory=dict)
    updated: int = 0

    def to_table(self) -> dict[str, Any]:
        return {
            "p": self.person,
            "v": self.version,
            "u": self.updated,
            "id": [list(i) for i in self.identifiers],
            "nm": self.name,
            "c": {cid: c.to_table() for cid, c in self.credentials.items()},
        }

    @classmethod
    def from_table(cls, value: dict[str, Any] | None, *, types: frozenset[str] | None = None) -> Passport | None:
        """Decode a table value; ``types``: only credentials of these types (a read-only view for clearance)."""
        if value is None:
            return None
        creds = value.get("c", {})
        return cls(
            person=value["p"],
            version=value["v"],
            updated=value.get("u", 0),
            identifiers=tuple(tuple(i) for i in value.get("id", ())),
            name=value.get("nm"),
            credentials={
                cid: Credential.from_table(cid, c) for cid, c in creds.items() if types is None or c["t"] in types
            },
        )

    def with_credential(self, cred: Credential, now_ms: int) -> Passport:
        return replace(self, credentials={**self.credentials, cred.id: cred}, version=self.version + 1, updated=now_ms)


def apply(passport: Passport | None, env: Envelope, *, person: str, now: datetime) -> Passport | None:
    """The passport after one credential event (the same object when nothing changed)."""
    if env.type not in CREDENTIAL_EVENTS:
        return passport
    d = env.data
    base = passport or Passport(person=person)
    base = _learn_worker(base, d.get("worker") or {})
    cid = d["credential_id"]
    existing = base.credentials.get(cid)
    cred = existing or Credential(id=cid, type=symbol(d["credential_type"]))
    if env.type == ISSUED:
        new = _issued(cred, d, env)
    elif env.type == VERIFIED:
        new = _verified(cred, d)
    elif env.type == REVOKED:
        new = _revoked(cred, d)
    else:
        new = _expired(cred, d)
    if existing is not None and new == existing:
        return base  # identifiers may have been learnt; the credential did not change
    return base.with_credential(new, to_ms(now))


def _learn_worker(p: Passport, worker: dict[str, Any]) -> Passport:
    known = set(p.identifiers)
    pairs = ((i["system"], i["value"]) for i in worker.get("identifiers", ()))
    extra = tuple(pair for pair in pairs if pair not in known)
    name = p.name or worker.get("display_name")
    if not extra and name == p.name:
        return p
    return replace(p, identifiers=(*p.identifiers, *extra), name=name)


def _issued(c: Credential, d: dict[str, Any], env: Envelope) -> Credential:
    issued = optional_ms(d["issued_at"])
    assert issued is not None
    if c.issued is not None and issued < c.issued:
        return c  # an older issue arriving late never replaces a newer one
    expires = optional_ms(d.get("expires_at"))
    revoked = c.revoked if c.revoked and c.revoked.at >= issued else None  # a re-issue after revocation clears it
    expired_at = c.expired_at if c.expired_at is not None and c.expired_at >= issued else None
    same_expiry = expires == c.expires
    return replace(
        c,
        type=symbol(d["credential_type"]),
        issuer=ods_of(d.get("issuer")),
        issued=issued,
        expires=expires,
        subject=d.get("cstf_subject"),
        level=d.get("level"),
        attrs=dict(d.get("attributes") or {}),
        evidence=d.get("evidence_ref"),
        revoked=revoked,
        expired_at=expired_at,
        notified=c.notified if same_expiry else (),
        expired_sent=c.expired_sent if same_expiry else False,
        source=env.source,
        local=env.extensions.get("localworker", c.local),
    )


def _verified(c: Credential, d: dict[str, Any]) -> Credential:
    v = Verification(
        verifier=ods_of(d["verifier"]) or "",
        status=symbol(d["status"]),
        method=symbol(d["method"]),
        at=optional_ms(d["verified_at"]) or 0,
        next_due=optional_ms(d.get("next_check_due")),
        mou=d.get("mou"),
        evidence=d.get("evidence_ref"),
    )
    current = next((x for x in c.verifications if x.verifier == v.verifier), None)
    if current is not None and current.at > v.at:
        return c
    others = tuple(x for x in c.verifications if x.verifier != v.verifier)
    return replace(c, verifications=tuple(sorted((*others, v), key=lambda x: x.verifier)))


def _revoked(c: Credential, d: dict[str, Any]) -> Credential:
    at = optional_ms(d["revoked_at"]) or 0
    if c.issued is not None and at < c.issued:
        return c  # revokes an earlier issue of this credential, superseded since
    if c.revoked is not None and c.revoked.at <= at:
        return c  # the first revocation stands
    revocation = Revocation(symbol(d["reason"]), at, d.get("detail"))
    return replace(c, revoked=revocation, issuer=c.issuer or ods_of(d["issuer"]))


def _expired(c: Credential, d: dict[str, Any]) -> Credential:
    at = optional_ms(d["expired_at"]) or 0
    if (c.issued is not None and at < c.issued) or (c.expired_at is not None and c.expired_at <= at):
        return c
    sent = c.expired_sent or at == c.expires
    return replace(c, expired_at=at, issuer=c.issuer or ods_of(d["issuer"]), expired_sent=sent)
