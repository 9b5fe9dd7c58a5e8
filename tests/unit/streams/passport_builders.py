"""Credential events as the passport receives them on ``_rosterhub.passport-in`` (unit and integration tests)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey

from rosterhub.envelope import Envelope, event_id
from rosterhub.events.codes import IDENTIFIER_SYSTEMS

REPO = Path(__file__).resolve().parents[3]
POLICIES = REPO / "policies"
NS = "rosterhub.credential.v1."
NMC = "71A2998E"


def worker(person: str, nmc: str = NMC) -> dict:
    return {
        "person_id": person,
        "identifiers": [{"system": IDENTIFIER_SYSTEMS["nmc"], "value": nmc}],
        "display_name": "Priya Natarajan",
    }


def _org(ods: str) -> dict:
    return {"ods_code": ods, "name": None}


def _about(person: str, cid: str, ctype: str) -> dict:
    """The fields every credential event starts with: which credential, whose, of what type."""
    return {"credential_id": cid, "person_id": person, "worker": worker(person), "credential_type": ctype}


def _event(kind: str, source_ods: str, data: dict, cid: str, *id_parts: str, **extra: Any) -> Envelope:
    """A ``rosterhub.credential.v1.<kind>`` event from ESR at ``source_ods``, its subject the credential."""
    return Envelope(
        type=NS + kind, source=f"/vendors/esr/{source_ods}", data=data, subject=cid, id=event_id(*id_parts), **extra
    )


def issued(
    person: str,
    cid: str,
    ctype: str,
    issuer: str,
    at: datetime,
    expires: datetime | None = None,
    *,
    subject: str | None = None,
    level: int | None = None,
    attrs: dict | None = None,
    evidence: str | None = None,
) -> Envelope:
    data = {
        **_about(person, cid, ctype),
        "issuer": _org(issuer),
        "issued_at": at,
        "expires_at": expires,
        "cstf_subject": subject,
        "level": level,
        "attributes": attrs or {},
        "evidence_ref": evidence or f"https://evidence.{issuer.lower()}.nhs.uk/{cid}",
    }
    extensions = {"localworker": f"esr:{issuer}:1004"}
    return _event("CredentialIssued", issuer, data, cid, "t-issued", cid, at.isoformat(), extensions=extensions)


def verified(
    person: str,
    cid: str,
    ctype: str,
    verifier: str,
    at: datetime,
    status: str = "VALIDATED",
    *,
    method: str = "DOCUMENT_SEEN",
    next_due: datetime | None = None,
    evidence: str | None = None,
) -> Envelope:
    data = {
        **_about(person, cid, ctype),
        "verifier": _org(verifier),
        "method": method,
        "status": status,
        "verified_at": at,
        "next_check_due": next_due,
        "mou": None,
        "evidence_ref": evidence or f"https://checks.{verifier.lower()}.nhs.uk/{cid}",
        "detail": None,
    }
    return _event("CredentialVerified", verifier, data, cid, "t-verified", cid, verifier, at.isoformat(), status)


def revoked(person: str, cid: str, ctype: str, issuer: str, at: datetime, reason: str = "NoLongerValid") -> Envelope:
    data = {
        **_about(person, cid, ctype),
        "issuer": _org(issuer),
        "reason": reason,
        "revoked_at": at,
        "detail": None,
    }
    return _event("CredentialRevoked", issuer, data, cid, "t-revoked", cid, at.isoformat())


#: (type, cstf subject, level, attributes, needs a verification) of a registered nurse's passport.
NURSE_CREDENTIALS = [
    ("IDENTITY", None, None, {}, True),
    ("RIGHT_TO_WORK", None, None, {"right_to_work_basis": "UNLIMITED"}, True),
    ("PROFESSIONAL_REGISTRATION", None, None, {"register": "NMC"}, True),
    ("DBS", None, None, {"dbs_level": "ENHANCED_BARRED", "dbs_workforce": "ADULT_AND_CHILD"}, True),
    ("OCCUPATIONAL_HEALTH", None, None, {"oh_item": "FIT_TO_WORK"}, True),
    ("CSTF_TRAINING", "FIRE_SAFETY", 1, {}, False),
    ("CSTF_TRAINING", "INFORMATION_GOVERNANCE", 1, {}, False),
    ("CSTF_TRAINING", "INFECTION_PREVENTION_CONTROL", 2, {}, False),
    ("CSTF_TRAINING", "RESUSCITATION", 2, {}, False),
    ("CSTF_TRAINING", "SAFEGUARDING_CHILDREN", 2, {}, False),
]


def cred_id(issuer: str, ctype: str, subject: str | None) -> str:
    return f"{issuer}:{ctype}:{subject or 'X'}-1"


def nurse_passport(
    person: str,
    issuer: str,
    now: datetime,
    *,
    age: timedelta = timedelta(days=60),
    expires_in: timedelta = timedelta(days=300),
) -> list[Envelope]:
    """Every credential a registered nurse needs, issued and (where needed) verified by ``issuer``."""
    events: list[Envelope] = []
    for ctype, subject, level, attrs, verify in NURSE_CREDENTIALS:
        cid = cred_id(issuer, ctype, subject)
        events.append(
            issued(person, cid, ctype, issuer, now - age, now + expires_in, subject=subject, level=level, attrs=attrs)
        )
        if verify:
            events.append(verified(person, cid, ctype, issuer, now - age + timedelta(hours=2)))
    return events


def passport_with_fire_safety_expiring(person: str, issuer: str, now: datetime, expires: datetime) -> list[Envelope]:
    """``nurse_passport`` but for the fire-safety course: taken 300 days ago, it expires at ``expires``."""
    fire = cred_id(issuer, "CSTF_TRAINING", "FIRE_SAFETY")
    events = [e for e in nurse_passport(person, issuer, now) if e.data["credential_id"] != fire]
    course = issued(
        person, fire, "CSTF_TRAINING", issuer, now - timedelta(days=300), expires, subject="FIRE_SAFETY", level=1
    )
    return [*events, course]


def sign_vc(claims: dict, key: ECKey, kid: str) -> str:
    """A ``vc+jwt`` (ES256) as the integration tests' issuer signs it."""
    return jws.serialize_compact({"alg": "ES256", "typ": "vc+jwt", "kid": kid}, json.dumps(claims), key)
