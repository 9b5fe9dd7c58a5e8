"""The W3C VC-JOSE-COSE test-suite vectors in tests/conformance/data/w3c-vc, read exactly as published.

Findings (also in docs/passport.md, "Verifiable credentials"):

* ``credential-jose-minimal`` (ES256) and ``credential-issuer-match-signed`` (EdDSA) verify with the
  published ``vm-p256.json`` / ``vm-ed25519.json`` public keys; their ``iat`` is an ISO string, which
  the verifier does not interpret (PyJWT's numeric ``iat`` check has to be switched off to read them).
* ``credential-jose-bad-signature`` is refused: ``BAD_SIGNATURE``.
* ``credential-jose-vc-vp-claims`` carries a valid signature but ``vc`` and ``vp`` claims, which
  VC-JOSE-COSE forbids: refused with ``VC_VP_CLAIMS``.
* None of them is an NHS staff-passport credential (subject ``did:example:123``, an alumni credential),
  so after verification they are refused at the mapping step (``SUBJECT_NOT_A_WORKER``): a verified
  but foreign credential never enters a passport.
* ``vc-test-suite-1.1/example-016-jwt.jwt`` is VC 1.1 style (``vc`` claim, RS256) without a published
  key: refused at the first check (``UNSUPPORTED_ALG``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import jwt as pyjwt
import pytest

from rosterhub.streams.passport.vc import VcRejected, credential_events, verify_vc_jwt

SUITE = Path(__file__).resolve().parent / "data" / "w3c-vc"
JOSE = SUITE / "vc-jose-cose-test-suite"
ISSUER = "https://example.issuer/vc-jose-cose"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SHA256 = {  # from MANIFEST.md: the files are read as published
    "credential-issuer-match-signed.txt": "61d2a59ea51c378785674775f7017a4c20cdeaf4c96de59de1b0413adf836918",
    "credential-jose-bad-signature.txt": "61bebb3d60c7e33684281075848b28ea45eb3f878335d547704a79b8aee8d268",
    "credential-jose-minimal.txt": "5ba5ad68786bfbeeed5a49b6014d3bb1ba4023e37e48986605997fc7b70fe1d4",
    "credential-jose-vc-vp-claims.txt": "54144e380c5f57f5b51e1d40477161787609e2188029161cd82aee0964102228",
    "vm-ed25519.json": "f4f8a3ea7575a1e0d60afb2a46fc2b07a60a7b0cfffdeb554f001f36b34c0c67",
    "vm-p256.json": "7545ad74e80bd72c772c5ff6ef2ac9bc4ac33a0f345906f7cd769268ebee9ff1",
}


def _read(name: str) -> str:
    data = (JOSE / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SHA256[name], f"{name} differs from the published file"
    return data.decode()


@pytest.fixture(scope="module")
def ring() -> dict:
    keys = [json.loads(_read(n))["publicKeyJwk"] for n in ("vm-p256.json", "vm-ed25519.json")]
    return {ISSUER: ("XTEST", keys)}


@pytest.mark.parametrize(
    ("vector", "alg"), [("credential-jose-minimal.txt", "ES256"), ("credential-issuer-match-signed.txt", "EdDSA")]
)
def test_valid_vectors_verify(ring: dict, vector: str, alg: str) -> None:
    vc = verify_vc_jwt(_read(vector), ring, now=NOW)
    assert (vc.issuer, vc.alg, vc.subject) == (ISSUER, alg, "did:example:123")
    assert vc.id == "http://university.example/credentials/1872"
    assert vc.valid_from == datetime(2010, 1, 1, 19, 23, 24, tzinfo=UTC) and vc.valid_until is None
    with pytest.raises(VcRejected) as info:  # verified, but not a credential for an NHS worker
        credential_events(vc, now=NOW)
    assert info.value.reason == "SUBJECT_NOT_A_WORKER"


@pytest.mark.parametrize(
    ("vector", "reason"),
    [("credential-jose-bad-signature.txt", "BAD_SIGNATURE"), ("credential-jose-vc-vp-claims.txt", "VC_VP_CLAIMS")],
)
def test_negative_vectors_are_refused(ring: dict, vector: str, reason: str) -> None:
    with pytest.raises(VcRejected) as info:
        verify_vc_jwt(_read(vector), ring, now=NOW)
    assert info.value.reason == reason


def test_without_the_issuer_configured_nothing_verifies(ring: dict) -> None:
    with pytest.raises(VcRejected) as info:
        verify_vc_jwt(_read("credential-jose-minimal.txt"), {}, now=NOW)
    assert info.value.reason == "UNKNOWN_ISSUER"


@pytest.mark.parametrize(
    ("vector", "key", "alg", "valid"),
    [
        ("credential-jose-minimal.txt", "vm-p256.json", "ES256", True),
        ("credential-issuer-match-signed.txt", "vm-ed25519.json", "EdDSA", True),
        ("credential-jose-vc-vp-claims.txt", "vm-ed25519.json", "EdDSA", True),  # the signature itself is fine
        ("credential-jose-bad-signature.txt", "vm-ed25519.json", "EdDSA", False),
    ],
)
def test_second_library_agrees_on_the_signatures(vector: str, key: str, alg: str, valid: bool) -> None:
    public = pyjwt.PyJWK(json.loads(_read(key))["publicKeyJwk"], algorithm=alg)
    token = _read(vector).strip()
    options = {"verify_iat": False, "verify_aud": False}  # iat is an ISO string in these vectors
    if valid:
        assert pyjwt.decode(token, public, algorithms=[alg], options=options)["issuer"] == ISSUER
    else:
        with pytest.raises(pyjwt.InvalidSignatureError):
            pyjwt.decode(token, public, algorithms=[alg], options=options)


def test_vc_1_1_example_without_a_key_is_refused_before_any_signature_work() -> None:
    token = (SUITE / "vc-test-suite-1.1" / "example-016-jwt.jwt").read_text()
    with pytest.raises(VcRejected) as info:
        verify_vc_jwt(token, {}, now=NOW)
    assert info.value.reason == "UNSUPPORTED_ALG"
