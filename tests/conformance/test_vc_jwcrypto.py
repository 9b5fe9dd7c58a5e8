"""The VC-JWTs the hub's demo issuers and its tests sign, checked with jwcrypto: a JOSE library the project
never signs with (the hub signs and verifies with joserfc; some tests sign with PyJWT).

Every genuine token verifies with jwcrypto under its issuer's public JWK, and says what the hub's own
verifier says; every tampered copy (claims changed under the old signature, a flipped signature bit,
``alg: none``, HMAC keyed with the public key, another key under the same ``kid``) is refused by
jwcrypto AND by the hub.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey, OKPKey
from jwcrypto import jwk as jc_jwk
from jwcrypto import jws as jc_jws
from jwcrypto.common import JWException

from rosterhub.demo_market import CredentialWallet, DemoWorker, Workforce, demo_policies, nurse_credentials
from rosterhub.streams.passport.policy import load_policies
from rosterhub.streams.passport.vc import VcRejected, keyring, verify_vc_jwt
from tests.unit.streams.passport_builders import POLICIES, sign_vc
from tests.unit.streams.test_passport_vc import ISSUER, claims, sign_joserfc, sign_pyjwt

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
ALGS = ["ES256", "EdDSA", "Ed25519"]  # what the hub accepts (docs/passport.md)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class Signed:
    """A token, the public JWK that should verify it, and the hub keyring naming its issuer."""

    def __init__(self, name: str, token: str, public: dict[str, Any], ring: dict[str, Any]) -> None:
        self.name, self.token, self.public, self.ring = name, token, public, ring


def _demo_tokens(tmp: Path) -> list[Signed]:
    wallet = CredentialWallet(Workforce(), "http://unused", POLICIES)
    env = demo_policies(POLICIES, tmp / "demo", wallet.keys)
    ring = keyring(load_policies([Path(env["ROSTERHUB_PASSPORT_POLICY_DIR"])]))
    out = []
    for trust in sorted(wallet.keys):
        people = [DemoWorker(trust, f"{trust[:2]}1234{i}A", "Demo Nurse", 5) for i in range(2)] + [
            DemoWorker(trust, f"70{len(trust)}1234", "Demo Doctor", 0, register="gmc")
        ]
        public = wallet.keys[trust].as_dict(private=False)
        for person in people:
            for cred in nurse_credentials(person, random.Random(person.number), NOW):
                kind = cred["subject"]["credentialType"] + ":" + str(cred["subject"].get("cstfSubject", ""))
                out.append(Signed(f"demo {trust} {person.number} {kind}", wallet.token(person, cred), public, ring))
    return out


def _test_tokens() -> list[Signed]:
    ec, ed = ECKey.generate_key("P-256", auto_kid=True), OKPKey.generate_key("Ed25519", auto_kid=True)
    ring = {ISSUER: ("RHQ", [ec.as_dict(private=False), ed.as_dict(private=False)])}
    ec_pub, ed_pub = ec.as_dict(private=False), ed.as_dict(private=False)
    return [
        Signed("tests: joserfc ES256", sign_joserfc(claims(), ec, "ES256"), ec_pub, ring),
        Signed("tests: joserfc EdDSA", sign_joserfc(claims(), ed, "EdDSA"), ed_pub, ring),
        Signed("tests: joserfc Ed25519", sign_joserfc(claims(), ed, "Ed25519"), ed_pub, ring),
        Signed("tests: PyJWT ES256", sign_pyjwt(claims(), ec, "ES256"), ec_pub, ring),
        Signed("tests: PyJWT EdDSA", sign_pyjwt(claims(), ed, "EdDSA"), ed_pub, ring),
        Signed("tests: integration issuer ES256", sign_vc(claims(), ec, ec.kid), ec_pub, ring),
    ]


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> list[Signed]:
    return _demo_tokens(tmp_path_factory.mktemp("vc")) + _test_tokens()


def jwcrypto_verify(token: str, public: dict[str, Any]) -> dict[str, Any]:
    """Verify with jwcrypto only (raises on any failure) and return the claims it vouches for."""
    obj = jc_jws.JWS()
    obj.allowed_algs = ALGS
    obj.deserialize(token)
    obj.verify(jc_jwk.JWK(**public))
    claims_: dict[str, Any] = json.loads(obj.payload)
    return claims_


def test_every_token_verifies_with_jwcrypto_and_the_hub_agrees(signed: list[Signed]) -> None:
    assert len([s for s in signed if s.name.startswith("demo")]) >= 54  # 3 trusts x 3 people x 10-11 checks
    for s in signed:
        payload = jwcrypto_verify(s.token, s.public)
        header = json.loads(_unb64(s.token.split(".")[0]))
        assert header["typ"] == "vc+jwt" and header["alg"] in ALGS, s.name
        hub = verify_vc_jwt(s.token, s.ring, now=NOW)
        assert (hub.issuer, hub.subject, hub.id) == (
            payload["issuer"],
            payload["credentialSubject"]["id"],
            payload.get("id"),
        ), s.name


def _claims_changed(token: str, _public: dict[str, Any]) -> str:
    header, payload, sig = token.split(".")
    body = json.loads(_unb64(payload))
    body["validUntil"] = "2099-01-01T00:00:00+00:00"
    return ".".join([header, _b64(json.dumps(body).encode()), sig])


def _bit_flipped(token: str, _public: dict[str, Any]) -> str:
    header, payload, sig = token.split(".")
    raw = bytearray(_unb64(sig))
    raw[len(raw) // 2] ^= 0x01
    return ".".join([header, payload, _b64(bytes(raw))])


def _alg_none(token: str, _public: dict[str, Any]) -> str:
    header, payload, _sig = token.split(".")
    h = {**json.loads(_unb64(header)), "alg": "none"}
    return ".".join([_b64(json.dumps(h).encode()), payload, ""])


def _hmac_with_public_key(token: str, public: dict[str, Any]) -> str:
    """The classic confusion: HS256 keyed with the issuer's public key, which an attacker has."""
    header, payload, _sig = token.split(".")
    h = {**json.loads(_unb64(header)), "alg": "HS256"}
    key = jc_jwk.JWK(kty="oct", k=_b64(json.dumps(public, sort_keys=True).encode()))
    forged = jc_jws.JWS(_unb64(payload))
    forged.add_signature(key, None, json.dumps(h))
    return forged.serialize(compact=True)


def _another_key_same_kid(token: str, public: dict[str, Any]) -> str:
    header, payload, _sig = token.split(".")
    h = json.loads(_unb64(header))
    if public["kty"] == "EC":
        other = jc_jwk.JWK.generate(kty="EC", crv="P-256")
    else:
        other = jc_jwk.JWK.generate(kty="OKP", crv="Ed25519")
    forged = jc_jws.JWS(_unb64(payload))
    forged.add_signature(other, None, json.dumps(h))
    return forged.serialize(compact=True)


#: name -> (how, the hub's refusal reason)
TAMPERS: dict[str, tuple[Callable[[str, dict[str, Any]], str], str]] = {
    "claims changed under the old signature": (_claims_changed, "BAD_SIGNATURE"),
    "signature bit flipped": (_bit_flipped, "BAD_SIGNATURE"),
    "alg none": (_alg_none, "UNSUPPORTED_ALG"),
    "HS256 keyed with the public key": (_hmac_with_public_key, "UNSUPPORTED_ALG"),
    "signed by another key under the same kid": (_another_key_same_kid, "BAD_SIGNATURE"),
}


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_tampered_copies_are_refused_by_jwcrypto_and_by_the_hub(signed: list[Signed], tamper: str) -> None:
    how, reason = TAMPERS[tamper]
    refused = 0
    for s in signed:
        bad = how(s.token, s.public)
        assert bad != s.token
        with pytest.raises(JWException):
            jwcrypto_verify(bad, s.public)
        with pytest.raises(VcRejected) as rejected:
            verify_vc_jwt(bad, s.ring, now=NOW)
        assert rejected.value.reason == reason, (s.name, rejected.value)
        refused += 1
    assert refused == len(signed)
