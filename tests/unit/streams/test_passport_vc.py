"""JWT-VC verification (joserfc), cross-checked with a second JOSE library (PyJWT): tokens signed by one verify
with the other, and every way a credential can be wrong is refused with its reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey

from rosterhub.streams.passport.state import apply
from rosterhub.streams.passport.vc import REJECT_REASONS, VcRejected, credential_events, verify_vc_jwt

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
ISSUER = "https://vc.sth.nhs.uk/issuer"
HMAC_SECRET = "a-shared-secret-of-at-least-32-bytes!"


def claims(**over: Any) -> dict[str, Any]:
    base = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "NHSStaffPassportCredential"],
        "id": "urn:uuid:0d2f5e1a-8c4b-4e7a-9f3d-2b6c1a0e9d87",
        "issuer": ISSUER,
        "validFrom": "2026-01-10T09:00:00Z",
        "validUntil": "2029-01-10T09:00:00Z",
        "credentialSubject": {
            "id": "urn:rosterhub:nmc:71A2998E",
            "credentialType": "DBS",
            "attributes": {"dbs_level": "ENHANCED_BARRED"},
        },
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    ec_key = ECKey.generate_key("P-256", auto_kid=True)
    ed_key = OKPKey.generate_key("Ed25519", auto_kid=True)
    return {
        "ec": ec_key,
        "ed": ed_key,
        "ring": {ISSUER: ("RHQ", [ec_key.as_dict(private=False), ed_key.as_dict(private=False)])},
    }


def sign_joserfc(payload: dict, key: Any, alg: str, **header: Any) -> str:
    return jws.serialize_compact(
        {"alg": alg, "typ": "vc+jwt", "kid": key.kid, **header}, json.dumps(payload), key, algorithms=[alg]
    )


def sign_pyjwt(payload: dict, key: Any, alg: str) -> str:
    pem = key.as_pem(private=True)
    return pyjwt.encode(payload, pem, algorithm=alg, headers={"typ": "vc+jwt", "kid": key.kid})


@pytest.mark.parametrize(("kind", "alg"), [("ec", "ES256"), ("ed", "EdDSA")])
def test_signed_by_pyjwt_verified_by_us(keys: dict, kind: str, alg: str) -> None:
    token = sign_pyjwt(claims(), keys[kind], alg)
    vc = verify_vc_jwt(token, keys["ring"], now=NOW)
    assert (vc.issuer_ods, vc.subject, vc.alg) == ("RHQ", "urn:rosterhub:nmc:71A2998E", alg)
    assert vc.valid_until == datetime(2029, 1, 10, 9, tzinfo=UTC)


@pytest.mark.parametrize(("kind", "alg"), [("ec", "ES256"), ("ed", "EdDSA"), ("ed", "Ed25519")])
def test_signed_by_joserfc_verified_by_pyjwt_and_us(keys: dict, kind: str, alg: str) -> None:
    token = sign_joserfc(claims(), keys[kind], alg)
    assert verify_vc_jwt(token, keys["ring"], now=NOW).alg == alg
    if alg != "Ed25519":  # PyJWT knows the RFC 8037 name only
        public = keys[kind].as_pem(private=False)
        decoded = pyjwt.decode(token, public, algorithms=[alg], options={"verify_iat": False})
        assert decoded["credentialSubject"]["credentialType"] == "DBS"


def _tamper(token: str) -> str:
    header, _payload, sig = token.split(".")
    swapped = pyjwt.utils.base64url_encode(json.dumps(claims(validUntil="2099-01-01T00:00:00Z")).encode()).decode()
    return ".".join([header, swapped, sig])


def _foreign_key_token(_keys: dict) -> str:
    other = ec.generate_private_key(ec.SECP256R1())
    return pyjwt.encode(claims(), other, algorithm="ES256", headers={"typ": "vc+jwt", "kid": _keys["ec"].kid})


CASES = [
    ("tampered payload", lambda k: _tamper(sign_joserfc(claims(), k["ec"], "ES256")), "BAD_SIGNATURE"),
    ("signed by someone else's key", _foreign_key_token, "BAD_SIGNATURE"),
    (
        "unknown issuer",
        lambda k: sign_joserfc(claims(issuer="https://evil.example/issuer"), k["ec"], "ES256"),
        "UNKNOWN_ISSUER",
    ),
    (
        "iss names another issuer",
        lambda k: sign_joserfc(claims(iss="https://other.example"), k["ec"], "ES256"),
        "ISSUER_MISMATCH",
    ),
    ("unknown kid", lambda k: sign_joserfc(claims(), k["ec"], "ES256", kid="nope"), "UNKNOWN_KEY"),
    (
        "HS256 with the public key as secret",
        lambda k: pyjwt.encode(claims(), HMAC_SECRET, algorithm="HS256"),
        "UNSUPPORTED_ALG",
    ),
    (
        "alg none",
        lambda k: ".".join(
            [
                pyjwt.utils.base64url_encode(b'{"alg":"none"}').decode(),
                pyjwt.utils.base64url_encode(json.dumps(claims()).encode()).decode(),
                "",
            ]
        ),
        "UNSUPPORTED_ALG",
    ),
    ("expired", lambda k: sign_joserfc(claims(validUntil="2026-05-01T00:00:00Z"), k["ec"], "ES256"), "EXPIRED"),
    (
        "expired by exp",
        lambda k: sign_joserfc(
            claims(validUntil=None, exp=int((NOW - timedelta(days=1)).timestamp())), k["ec"], "ES256"
        ),
        "EXPIRED",
    ),
    (
        "not yet valid",
        lambda k: sign_joserfc(claims(validFrom="2026-07-01T00:00:00Z"), k["ec"], "ES256"),
        "NOT_YET_VALID",
    ),
    (
        "no subject id",
        lambda k: sign_joserfc(claims(credentialSubject={"credentialType": "DBS"}), k["ec"], "ES256"),
        "NO_SUBJECT",
    ),
    ("sub disagrees", lambda k: sign_joserfc(claims(sub="urn:rosterhub:nmc:00A0000A"), k["ec"], "ES256"), "NO_SUBJECT"),
    (
        "legacy vc claim",
        lambda k: sign_joserfc(claims(vc={"type": ["VerifiableCredential"]}), k["ec"], "ES256"),
        "VC_VP_CLAIMS",
    ),
    (
        "not a credential",
        lambda k: sign_joserfc(claims(type=["VerifiablePresentation"]), k["ec"], "ES256"),
        "NOT_A_CREDENTIAL",
    ),
    ("wrong typ", lambda k: sign_joserfc(claims(), k["ec"], "ES256", typ="JWT"), "WRONG_TYP"),
    ("garbage", lambda k: "not.a.jwt", "MALFORMED"),
]


@pytest.mark.parametrize(("name", "make", "reason"), CASES, ids=[c[0] for c in CASES])
def test_refusals_carry_their_reason(keys: dict, name: str, make, reason: str) -> None:
    with pytest.raises(VcRejected) as info:
        verify_vc_jwt(make(keys), keys["ring"], now=NOW)
    assert info.value.reason == reason and reason in REJECT_REASONS
    assert info.value.as_dict()["code"] == "vc_rejected"


def test_a_verified_vc_becomes_credential_events_that_fill_the_passport(keys: dict) -> None:
    vc = verify_vc_jwt(sign_joserfc(claims(), keys["ed"], "EdDSA"), keys["ring"], now=NOW)
    issued_env, verified_env = credential_events(vc, now=NOW)
    assert issued_env.data["worker"]["identifiers"] == [
        {"system": "https://fhir.hl7.org.uk/Id/nmc-number", "value": "71A2998E"}
    ]
    assert issued_env.data["person_id"] == "vc:RHQ:nmc-71A2998E" == issued_env.extensions["localworker"]
    assert verified_env.data["method"] == "VERIFIABLE_CREDENTIAL" and verified_env.data["verifier"]["ods_code"] == "RHQ"
    again = credential_events(vc, now=NOW + timedelta(hours=1))
    assert [e.id for e in again] == [issued_env.id, verified_env.id]  # presenting it twice: same event ids
    passport = None
    for env in (issued_env, verified_env):
        passport = apply(passport, env, person="p-1", now=NOW)
    assert passport is not None
    [cred] = passport.credentials.values()
    got = (cred.issuer, cred.attrs["dbs_level"], cred.verifications[0].method)
    assert got == ("RHQ", "ENHANCED_BARRED", "VERIFIABLE_CREDENTIAL")


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ({"id": "did:example:123", "credentialType": "DBS"}, "SUBJECT_NOT_A_WORKER"),
        ({"id": "urn:rosterhub:nmc:71A2998E", "credentialType": "Degree"}, "UNSUPPORTED_CREDENTIAL"),
    ],
)
def test_credentials_that_verify_but_cannot_enter_a_passport(keys: dict, subject: dict, reason: str) -> None:
    vc = verify_vc_jwt(sign_joserfc(claims(credentialSubject=subject), keys["ec"], "ES256"), keys["ring"], now=NOW)
    with pytest.raises(VcRejected) as info:
        credential_events(vc, now=NOW)
    assert info.value.reason == reason


def test_policy_keys_must_be_public_and_of_the_supported_curves(tmp_path) -> None:
    from rosterhub.errors import ConfigError
    from rosterhub.streams.passport.policy import parse_policy_file

    private = OKPKey.generate_key("Ed25519").as_dict(private=True)
    rsa_like = {"kty": "EC", "crv": "P-384", "x": "a", "y": "b"}
    for jwk, words in ((private, "public keys only"), (rsa_like, "P-256")):
        f = tmp_path / "X.yaml"
        f.write_text(json.dumps({"kind": "trust", "trust": "RXX", "vc_issuer": {"id": "https://x", "keys": [jwk]}}))
        with pytest.raises(ConfigError, match=words):
            parse_policy_file(f)
