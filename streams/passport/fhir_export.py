"""A passport as FHIR R4: a Bundle of one Practitioner (qualifications) plus VerificationResult resources.

Built as plain dicts (validated in tests with ``fhir.resources.R4B``) so the worker's
HTTP answer costs no model construction. What a trust sees follows the privacy rule of
the passport: every credential appears as a qualification summary (code, period, issuer),
but an evidence reference is included only for credentials the *viewing* trust issued,
and a verification's evidence only where the viewing trust was the verifier.

An evidence reference is an identifier: under ``urn:ietf:rfc:3986`` when it is an absolute URI
(``https://...``, ``urn:uuid:...``), which that system requires, else (a platform's relative
reference such as the FHIR connector's ``VerificationResult/<id>``) under
``https://rosterhub.org/Id/evidence``, the issuer's own reference kept as given. Every resource
carries a generated narrative (HAPI's ``dom-6``), which never includes evidence.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from rosterhub.events.codes import FHIR_VERIFICATION_STATUS, IDENTIFIER_SYSTEMS
from rosterhub.fhir_narrative import narrative
from rosterhub.instants import ms_iso_z
from rosterhub.streams.passport.state import Credential, Passport, from_ms

__all__ = ["CREDENTIAL_SYSTEM", "EVIDENCE_SYSTEM", "evidence_identifier", "passport_bundle"]

CREDENTIAL_SYSTEM = "https://rosterhub.org/CodeSystem/credential-type"
CSTF_SYSTEM = "https://rosterhub.org/CodeSystem/cstf-subject"
METHOD_SYSTEM = "https://rosterhub.org/CodeSystem/verification-method"
ODS = IDENTIFIER_SYSTEMS["ods_organisation"]
URI_SYSTEM = "urn:ietf:rfc:3986"
#: An issuer's reference to its evidence that is not an absolute URI (kept as the issuer gave it).
EVIDENCE_SYSTEM = "https://rosterhub.org/Id/evidence"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")  # RFC 3986: scheme ":" hier-part


def evidence_identifier(ref: str) -> dict[str, str]:
    """An evidence reference as an Identifier whose system says what kind of value it is."""
    return {"system": URI_SYSTEM if _SCHEME.match(ref) else EVIDENCE_SYSTEM, "value": ref}


def _org(ods: str) -> dict[str, Any]:
    return {"identifier": {"system": ODS, "value": ods}, "display": ods}


def _label(c: Credential) -> str:
    return c.type + (f" {c.subject}" if c.subject else "") + (f" level {c.level}" if c.level else "")


def _qualification(c: Credential, viewer: str) -> dict[str, Any]:
    codings = [{"system": CREDENTIAL_SYSTEM, "code": c.type}]
    if c.subject:
        codings.append({"system": CSTF_SYSTEM, "code": c.subject})
    q: dict[str, Any] = {"code": {"coding": codings, "text": _label(c)}}
    ends = [t for t in (c.lapse(), c.revoked.at if c.revoked else None) if t is not None]
    period = {k: v for k, v in (("start", ms_iso_z(c.issued)), ("end", ms_iso_z(min(ends)) if ends else None)) if v}
    if period:
        q["period"] = period
    if c.issuer:
        q["issuer"] = _org(c.issuer)
    identifiers = [{"system": "https://rosterhub.org/Id/credential", "value": c.id}]
    if c.evidence and c.issuer == viewer:
        identifiers.append(evidence_identifier(c.evidence))
    q["identifier"] = identifiers
    return q


def passport_bundle(passport: Passport, *, viewer: str) -> dict[str, Any]:
    """A ``collection`` Bundle: the Practitioner first, then one VerificationResult per verification."""
    practitioner_id = passport.person
    creds = sorted(passport.credentials.values(), key=lambda c: c.id)
    practitioner: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": _fhir_id(practitioner_id),
        "text": narrative(
            [
                f"Credential passport of hub person {passport.person}"
                + (f" ({passport.name})" if passport.name else ""),
                *(
                    f"{_label(c)}: issued by {c.issuer or 'unknown'}" + (" (revoked)" if c.revoked else "")
                    for c in creds
                ),
            ]
        ),
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
                "text": narrative(
                    [
                        f"{_label(c)} checked by {v.verifier}: {FHIR_VERIFICATION_STATUS.get(v.status, 'in-process')}"
                        f" ({v.method}) at {ms_iso_z(v.at)}",
                        f"Next check due {from_ms(v.next_due).date().isoformat()}" if v.next_due is not None else "",
                    ]
                ),
                "target": [{"reference": f"Practitioner/{practitioner['id']}"}],
                "targetLocation": [f"Practitioner.qualification[{index}]"],
                "status": FHIR_VERIFICATION_STATUS.get(v.status, "in-process"),
                "statusDate": ms_iso_z(v.at),
                "validationProcess": [{"coding": [{"system": METHOD_SYSTEM, "code": v.method}]}],
                "validator": [{"organization": _org(v.verifier)}],
            }
            if v.next_due is not None:
                vr["nextScheduled"] = from_ms(v.next_due).date().isoformat()
            if v.evidence and v.verifier == viewer:
                vr["primarySource"] = [{"who": {"identifier": evidence_identifier(v.evidence)}}]
            entries.append({"fullUrl": f"urn:uuid:{vr['id']}", "resource": vr})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _fhir_id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9.-]{1,64}) derived deterministically from a hub id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "rosterhub:" + text))
