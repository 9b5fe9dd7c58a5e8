"""W3C Verifiable Credentials secured as JWTs (VC-JOSE-COSE ``vc+jwt``): verify, then map to credential events.

A credential only enters the passport after :func:`verify_vc_jwt` has checked, in this order:

1. the token is a compact JWS whose header names ES256 or EdDSA/Ed25519 (nothing else is accepted: no
   ``none``, no HMAC with a public key as secret);
2. the issuer (``issuer`` or ``issuer.id``; ``iss`` must equal it when present) is one a trust policy
   declares (``vc_issuer`` in ``policies/<ODS>.yaml``) — an unknown issuer is refused before any
   signature work;
3. the signature verifies with one of that issuer's keys (by ``kid`` when the header names one), using
   ``joserfc``;
4. the claims are a VC 2.0 credential: ``type`` contains ``VerifiableCredential``; the legacy ``vc``/``vp``
   claims are absent (VC-JOSE-COSE forbids them); the validity period (``validFrom``/``validUntil``,
   or the JWT ``nbf``/``exp``) contains ``now``; the subject (``credentialSubject.id``, equal to ``sub``
   when present) is set.

``iat`` is not interpreted: the W3C test vectors carry it as an ISO string, not a NumericDate.
Each refusal is a :class:`VcRejected` with a stable ``reason`` (listed in docs/passport.md).

:func:`credential_events` then maps a verified NHS staff-passport credential to a
CredentialIssued + CredentialVerified(method VERIFIABLE_CREDENTIAL) pair for ``events.credential``,
where identity resolution links the subject (a register number) to a hub person.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import import_key

from rosterhub.envelope import Envelope, event_id
from rosterhub.errors import InputError
from rosterhub.events.codes import IDENTIFIER_SYSTEMS
from rosterhub.events.models import CredentialIssued, CredentialVerified
from rosterhub.streams.passport.policy import CREDENTIAL_TYPES, PolicySet

__all__ = ["REJECT_REASONS", "Keyring", "VcRejected", "VerifiedVc", "credential_events", "keyring", "verify_vc_jwt"]

REJECT_REASONS = {
    "MALFORMED": "not a compact JWS with a JSON header and payload",
    "UNSUPPORTED_ALG": "the header's alg is not ES256, EdDSA or Ed25519",
    "WRONG_TYP": "the header's typ is set and is not vc+jwt",
    "UNKNOWN_ISSUER": "no trust policy declares this issuer",
    "ISSUER_MISMATCH": "iss and issuer name different issuers",
    "UNKNOWN_KEY": "the header's kid is not one of the issuer's keys",
    "BAD_SIGNATURE": "the signature does not verify with the issuer's key",
    "NOT_A_CREDENTIAL": "type does not contain VerifiableCredential",
    "VC_VP_CLAIMS": "the JWT carries vc or vp claims, which VC-JOSE-COSE forbids",
    "NOT_YET_VALID": "validFrom/nbf is in the future",
    "EXPIRED": "validUntil/exp has passed",
    "NO_SUBJECT": "credentialSubject.id is missing (or sub disagrees with it)",
    "SUBJECT_NOT_A_WORKER": "credentialSubject.id is not urn:rosterhub:<register>:<number>",
    "UNSUPPORTED_CREDENTIAL": "credentialSubject lacks a known credentialType",
}
_ALGS = ("ES256", "EdDSA", "Ed25519")
_SUBJECT = re.compile(r"^urn:rosterhub:(gmc|nmc|hcpc|gphc):([A-Za-z0-9]{4,12})$")
SOURCE = "/rosterhub/passport/vc"


class VcRejected(InputError):
    """A verifiable credential that must not enter the passport; ``reason`` is a REJECT_REASONS key."""

    code = "vc_rejected"

    def __init__(self, reason: str, message: str | None = None, **context: Any) -> None:
        super().__init__(message or REJECT_REASONS[reason], reason=reason, **context)
        self.reason = reason


#: Issuer URI -> (ODS code of the issuing trust, public JWKs).
Keyring = Mapping[str, tuple[str, list[dict[str, Any]]]]


def keyring(policies: PolicySet) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    return {uri: (ods, list(issuer.keys)) for uri, (ods, issuer) in policies.vc_issuers().items()}


@dataclass(frozen=True, slots=True)
class VerifiedVc:
    issuer: str
    issuer_ods: str
    subject: str
    alg: str
    kid: str | None
    id: str | None
    types: tuple[str, ...]
    valid_from: datetime | None
    valid_until: datetime | None
    claims: dict[str, Any] = field(repr=False)
    digest: str = ""  # SHA-256 of the token, a stable id when the VC has none


def _b64json(part: str) -> dict[str, Any]:
    value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _instant(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise VcRejected("MALFORMED", f"{what} is not a date-time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def verify_vc_jwt(token: str, keys: Keyring, *, now: datetime, leeway: timedelta = timedelta(seconds=60)) -> VerifiedVc:
    """Verify a ``vc+jwt``; return what it says, or raise :class:`VcRejected` with the reason."""
    token = token.strip()
    parts = token.split(".")
    if len(parts) != 3:
        raise VcRejected("MALFORMED")
    try:
        header, claims = _b64json(parts[0]), _b64json(parts[1])
    except (ValueError, UnicodeDecodeError) as exc:
        raise VcRejected("MALFORMED") from exc
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in _ALGS:
        raise VcRejected("UNSUPPORTED_ALG", alg=alg)
    if header.get("typ") not in (None, "vc+jwt", "application/vc+jwt"):
        raise VcRejected("WRONG_TYP", typ=header.get("typ"))
    raw_issuer = claims.get("issuer")
    issuer = raw_issuer.get("id") if isinstance(raw_issuer, dict) else raw_issuer
    if not isinstance(issuer, str) or issuer not in keys:
        raise VcRejected("UNKNOWN_ISSUER", issuer=issuer)
    if "iss" in claims and claims["iss"] != issuer:
        raise VcRejected("ISSUER_MISMATCH", iss=claims["iss"], issuer=issuer)
    ods, jwks = keys[issuer]
    candidates = [k for k in jwks if kid is None or k.get("kid") == kid]
    if not candidates:
        raise VcRejected("UNKNOWN_KEY", kid=kid, issuer=issuer)
    if not any(_signature_ok(token, jwk, alg) for jwk in candidates):
        raise VcRejected("BAD_SIGNATURE", issuer=issuer, kid=kid)
    if "vc" in claims or "vp" in claims:
        raise VcRejected("VC_VP_CLAIMS")
    types = claims.get("type")
    types = tuple(types) if isinstance(types, list) else (types,) if isinstance(types, str) else ()
    if "VerifiableCredential" not in types:
        raise VcRejected("NOT_A_CREDENTIAL", type=types)
    valid_from = _instant(claims.get("validFrom"), "validFrom") or _instant(claims.get("nbf"), "nbf")
    valid_until = _instant(claims.get("validUntil"), "validUntil") or _instant(claims.get("exp"), "exp")
    if valid_from is not None and now + leeway < valid_from:
        raise VcRejected("NOT_YET_VALID", valid_from=valid_from.isoformat())
    if valid_until is not None and now - leeway >= valid_until:
        raise VcRejected("EXPIRED", valid_until=valid_until.isoformat())
    subject = claims.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and len(subject) == 1 else subject
    sid = subject.get("id") if isinstance(subject, dict) else None
    if not isinstance(sid, str) or ("sub" in claims and claims["sub"] != sid):
        raise VcRejected("NO_SUBJECT")
    vc_id = claims.get("id") or claims.get("jti")
    return VerifiedVc(
        issuer=issuer,
        issuer_ods=ods,
        subject=sid,
        alg=alg,
        kid=kid,
        id=vc_id if isinstance(vc_id, str) else None,
        types=types,
        valid_from=valid_from,
        valid_until=valid_until,
        claims=claims,
        digest=hashlib.sha256(token.encode()).hexdigest(),
    )


def _signature_ok(token: str, jwk: dict[str, Any], alg: str) -> bool:
    try:
        key = import_key(jwk)
        with warnings.catch_warnings():  # "EdDSA" is deprecated by RFC 9864 in favour of "Ed25519"; both are accepted
            warnings.simplefilter("ignore")
            jws.deserialize_compact(token, key, algorithms=[alg])
    except (JoseError, ValueError, TypeError):
        return False
    return True


def credential_events(vc: VerifiedVc, *, now: datetime) -> list[Envelope]:
    """CredentialIssued + CredentialVerified for a verified NHS staff-passport VC (events.credential).

    The subject must be ``urn:rosterhub:<gmc|nmc|hcpc|gphc>:<number>``: identity resolution links
    the register number to the hub person, as for any connector's credential event.
    """
    m = _SUBJECT.match(vc.subject)
    if not m:
        raise VcRejected("SUBJECT_NOT_A_WORKER", subject=vc.subject)
    register, number = m.group(1), m.group(2).upper()
    subject = vc.claims["credentialSubject"]
    subject = subject[0] if isinstance(subject, list) else subject
    ctype = subject.get("credentialType")
    if ctype not in CREDENTIAL_TYPES:
        raise VcRejected("UNSUPPORTED_CREDENTIAL", credential_type=ctype)
    local_id = vc.id or f"sha256:{vc.digest[:32]}"
    credential_id = f"{vc.issuer_ods}:{ctype}:vc:{hashlib.sha256(local_id.encode()).hexdigest()[:20]}"
    worker = {
        "person_id": None,
        "identifiers": [{"system": IDENTIFIER_SYSTEMS[register], "value": number}],
        "display_name": None,
    }
    issuer = {"ods_code": vc.issuer_ods, "name": None}
    common = {
        "credential_id": credential_id,
        "person_id": f"vc:{vc.issuer_ods}:{register}-{number}",
        "worker": worker,
        "credential_type": ctype,
    }
    attrs = {str(k): str(v) for k, v in (subject.get("attributes") or {}).items()}
    issued = {
        **common,
        "issuer": issuer,
        "issued_at": vc.valid_from or now,
        "expires_at": vc.valid_until,
        "cstf_subject": subject.get("cstfSubject"),
        "level": subject.get("level"),
        "attributes": attrs,
        "evidence_ref": vc.id or f"urn:sha256:{vc.digest}",
    }
    verified = {
        **common,
        "verifier": issuer,
        "method": "VERIFIABLE_CREDENTIAL",
        "status": "VALIDATED",
        "verified_at": now,
        "next_check_due": None,
        "mou": None,
        "evidence_ref": vc.id,
        "detail": f"issuer signature verified by the hub ({vc.alg}, kid {vc.kid})",
    }
    ext = {"localworker": common["person_id"]}
    events = ((CredentialIssued, "vc-issued", issued), (CredentialVerified, "vc-verified", verified))
    return [
        Envelope(
            type=model.AVRO_NAME,
            source=SOURCE,
            data=data,
            subject=credential_id,
            id=event_id(kind, vc.digest),  # the same credential presented again: the same events
            time=now,
            extensions=ext,
        )
        for model, kind, data in events
    ]
