"""A passport as FHIR R4: a Bundle of one Practitioner (qualifications) plus VerificationResult resources.

Built as plain dicts (validated in tests with ``fhir.resources.R4B``) so the worker's
HTTP answer costs no model construction. What a trust sees follows the privacy rule of
the passport: every credential appears as a qualification summary (code, period, issuer),
but an evidence reference is included only for credentials the *viewing* trust issued,
and a verification's evidence only where the viewing trust was the verifier.
"""

from __future__ import annotations

import uuid
from typing import Any

from rosterhub.events.codes import IDENTIFIER_SYSTEMS
from rosterhub.streams.passport.state import Credential, Passport, from_ms

__all__ = ["CREDENTIAL_SYSTEM", "passport_bundle"]

CREDENTIAL_SYSTEM = "https://rosterhub.org/CodeSystem/credential-type"
CSTF_SYSTEM = "https://rosterhub.org/CodeSystem/cstf-subject"
METHOD_SYSTEM = "https://rosterhub.org/CodeSystem/verification-method"
ODS = IDENTIFIER_SYSTEMS["ods_organisation"]
_FHIR_STATUS = {
    "ATTESTED": "attested",
    "VALIDATED": "validated",
    "IN_PROCESS": "in-process",
    "REQ_REVALID": "req-revalid",
    "VAL_FAIL": "val-fail",
    "REVAL_FAIL": "reval-fail",
}


def _iso(ms: int | None) -> str | None:
    return from_ms(ms).isoformat().replace("+00:00", "Z") if ms is not None else None


def _org(ods: str) -> dict[str, Any]:
    return {"identifier": {"system": ODS, "value": ods}, "display": ods}


def _qualification(c: Credential, viewer: str) -> dict[str, Any]:
    codings = [{"system": CREDENTIAL_SYSTEM, "code": c.type}]
    if c.subject:
        codings.append({"system": CSTF_SYSTEM, "code": c.subject})
    text = c.type + (f" {c.subject}" if c.subject else "") + (f" level {c.level}" if c.level else "")
    q: dict[str, Any] = {"code": {"coding": codings, "text": text}}
    ends = [t for t in (c.lapse(), c.revoked.at if c.revoked else None) if t is not None]
    period = {k: v for k, v in (("start", _iso(c.issued)), ("end", _iso(min(ends)) if ends else None)) if v}
    if period:
        q["period"] = period
    if c.issuer:
        q["issuer"] = _org(c.issuer)
    identifiers = [{"system": "https://rosterhub.org/Id/credential", "value": c.id}]
    if c.evidence and c.issuer == viewer:
        identifiers.append({"system": "urn:ietf:rfc:3986", "value": c.evidence})
    q["identifier"] = identifiers
    return q


def passport_bundle(passport: Passport, *, viewer: str) -> dict[str, Any]:
    """A ``collection`` Bundle: the Practitioner first, then one VerificationResult per verification."""
    practitioner_id = passport.person
    creds = sorted(passport.credentials.values(), key=lambda c: c.id)
    practitioner: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": _fhir_id(practitioner_id),
        "identifier": [
            {"system": "https://rosterhub.org/Id/person", "value": passport.person},
            *({"system": s, "value": v} for s, v in passport.identifiers),
        ],
        "qualification": [_qualification(c, viewer) for c in creds],
    }
    if passport.name:
        practitioner["name"] = [{"text": passport.name}]
    entries = [{"fullUrl": f"urn:uuid:{practitioner['id']}", "resource": practitioner}]
    for index, c in enumerate(creds):
        for v in c.verifications:
            vr: dict[str, Any] = {
                "resourceType": "VerificationResult",
                "id": _fhir_id(f"{c.id}-{v.verifier}"),
                "target": [{"reference": f"Practitioner/{practitioner['id']}"}],
                "targetLocation": [f"Practitioner.qualification[{index}]"],
                "status": _FHIR_STATUS.get(v.status, "in-process"),
                "statusDate": _iso(v.at),
                "validationProcess": [{"coding": [{"system": METHOD_SYSTEM, "code": v.method}]}],
                "validator": [{"organization": _org(v.verifier)}],
            }
            if v.next_due is not None:
                vr["nextScheduled"] = from_ms(v.next_due).date().isoformat()
            if v.evidence and v.verifier == viewer:
                vr["primarySource"] = [{"who": {"identifier": {"system": "urn:ietf:rfc:3986", "value": v.evidence}}}]
            entries.append({"fullUrl": f"urn:uuid:{vr['id']}", "resource": vr})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _fhir_id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9.-]{1,64}) derived deterministically from a hub id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "rosterhub:" + text))
