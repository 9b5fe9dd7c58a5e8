"""Bearer token verification (rosterhub.auth.tokens) against the local issuer, checked with a second JOSE library."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt as pyjwt
import pytest
from joserfc.jwk import ECKey
from typer.testing import CliRunner

from rosterhub.auth.issuer import LocalIssuer
from rosterhub.auth.roles import Role
from rosterhub.auth.tokens import InvalidToken, TokenVerifier
from rosterhub.cli.main import app as cli


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer(tmp_path / "issuer")


def verify(issuer: LocalIssuer, token: str, **kw: float) -> object:
    return asyncio.run(TokenVerifier([issuer.accepted()], leeway_s=30).verify(token, **kw))


def test_a_local_token_names_the_caller(issuer: LocalIssuer) -> None:
    token = issuer.mint("bank-office-1", [Role.TRUST_USER], trust="RHQ")
    caller = verify(issuer, token)
    assert caller.subject == "bank-office-1" and caller.trust == "RHQ"  # type: ignore[attr-defined]
    assert caller.roles == {Role.TRUST_USER} and caller.token_id and caller.issuer == issuer.issuer  # type: ignore[attr-defined]


def test_a_second_jose_library_reads_our_tokens_and_we_read_its(issuer: LocalIssuer) -> None:
    """PyJWT verifies a token the local issuer minted with the published JWKS, and a token PyJWT signs with the
    issuer's key is accepted: the format is the standard one, not a private dialect."""
    jwks = json.loads(issuer.jwks_file.read_text())
    public = pyjwt.PyJWK(jwks["keys"][0]).key
    token = issuer.mint("svc", [Role.OPERATOR])
    claims = pyjwt.decode(token, public, algorithms=["ES256"], audience="rosterhub", issuer=issuer.issuer)
    assert claims["roles"] == ["operator"] and pyjwt.get_unverified_header(token)["typ"] == "at+jwt"
    now = int(time.time())
    theirs = pyjwt.encode(
        {"iss": issuer.issuer, "aud": "rosterhub", "sub": "x", "exp": now + 60, "roles": ["identity_admin"]},
        issuer.key.as_pem(private=True),
        algorithm="ES256",
        headers={"kid": issuer.key.kid},
    )
    assert verify(issuer, theirs).roles == {Role.IDENTITY_ADMIN}  # type: ignore[attr-defined]


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "not yet valid",
        "other audience",
        "unknown issuer",
        "alg none",
        "hmac with the public key",
        "vc+jwt",
        "tampered",
        "other key",
        "trust role without a trust",
        "no hub role",
        "not an ods code",
        "no subject",
    ],
)
def test_refused_tokens(issuer: LocalIssuer, case: str) -> None:
    now = datetime.now(UTC)
    header = {"alg": "ES256", "typ": "at+jwt", "kid": issuer.key.kid}
    claims = {"iss": issuer.issuer, "aud": "rosterhub", "sub": "u", "exp": int(time.time()) + 60, "roles": ["auditor"]}
    sign = issuer.key.as_pem(private=True)
    if case == "expired":
        token = issuer.mint("u", [Role.AUDITOR], ttl=timedelta(seconds=1), now=now - timedelta(minutes=5))
    elif case == "not yet valid":
        token = issuer.mint("u", [Role.AUDITOR], now=now + timedelta(minutes=5))
    elif case == "other audience":
        token = issuer.mint("u", [Role.AUDITOR], audience="someone-else")
    elif case == "unknown issuer":
        token = pyjwt.encode({**claims, "iss": "https://idp.example"}, sign, algorithm="ES256", headers=header)
    elif case == "alg none":
        token = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(claims)}."
    elif case == "hmac with the public key":
        token = pyjwt.encode(claims, "secret-from-jwks", algorithm="HS256", headers={"kid": issuer.key.kid})
    elif case == "vc+jwt":
        token = pyjwt.encode(claims, sign, algorithm="ES256", headers={**header, "typ": "vc+jwt"})
    elif case == "tampered":
        good = issuer.mint("u", [Role.AUDITOR])
        h, _p, s = good.split(".")
        token = f"{h}.{_b64({**claims, 'roles': ['identity_admin']})}.{s}"
    elif case == "other key":
        other = ECKey.generate_key("P-256", auto_kid=True)
        token = pyjwt.encode(
            claims, other.as_pem(private=True), algorithm="ES256", headers={**header, "kid": other.kid}
        )
    elif case == "trust role without a trust":
        token = issuer.mint("u", [Role.TRUST_USER])
    elif case == "no hub role":
        token = pyjwt.encode({**claims, "roles": ["admin"]}, sign, algorithm="ES256", headers=header)
    elif case == "not an ods code":
        token = issuer.mint("u", [Role.TRUST_USER], trust="rhq; drop")
    else:
        token = pyjwt.encode({k: v for k, v in claims.items() if k != "sub"}, sign, algorithm="ES256", headers=header)
    with pytest.raises(InvalidToken):
        verify(issuer, token)


def test_clock_skew_within_the_leeway_is_accepted(issuer: LocalIssuer) -> None:
    token = issuer.mint("u", [Role.AUDITOR], now=datetime.now(UTC) + timedelta(seconds=10))
    assert verify(issuer, token).subject == "u"  # type: ignore[attr-defined]


def test_roles_granted_as_oauth2_scopes_count(issuer: LocalIssuer) -> None:
    claims = {
        "iss": issuer.issuer,
        "aud": "rosterhub",
        "sub": "client-7",
        "exp": int(time.time()) + 60,
        "scope": "openid operator",
    }
    token = pyjwt.encode(claims, issuer.key.as_pem(private=True), algorithm="ES256", headers={"kid": issuer.key.kid})
    assert verify(issuer, token).roles == {Role.OPERATOR}  # type: ignore[attr-defined]


def test_rosterhub_token_mints_from_the_local_issuer(tmp_path: Path) -> None:
    env = {"ROSTERHUB_AUTH_LOCAL_ISSUER_DIR": str(tmp_path / "issuer")}
    out = CliRunner().invoke(cli, ["token", "--trust", "rhq", "--role", "trust_user", "--ttl", "5m"], env=env)
    assert out.exit_code == 0, out.output
    issuer = LocalIssuer(tmp_path / "issuer")
    caller = verify(issuer, out.output.strip())
    assert caller.trust == "RHQ" and caller.roles == {Role.TRUST_USER}  # type: ignore[attr-defined]
    refused = CliRunner().invoke(cli, ["token", "--role", "trust_user"], env=env)
    assert refused.exit_code != 0 and "--trust" in refused.output
    config = CliRunner().invoke(cli, ["token", "--issuer-config"], env=env)
    assert json.loads(config.output)["issuer"] == issuer.issuer
