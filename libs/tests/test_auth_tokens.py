"""Development tokens: minting, verifying, and the attacks a verifier must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bansos_libs.auth import (
    Principal,
    RegionCode,
    Role,
    RoleRegionMismatchError,
    TokenIssuer,
    TokenVerifier,
    Unauthenticated,
    UnknownRoleError,
)
from bansos_libs.auth.regions import InvalidRegionCodeError


@pytest.fixture(scope="module")
def private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def issuer(private_key: Ed25519PrivateKey) -> TokenIssuer:
    return TokenIssuer(private_key)


@pytest.fixture
def verifier(private_key: Ed25519PrivateKey) -> TokenVerifier:
    return TokenVerifier.for_dev_key(private_key.public_key())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "bansos-dev",
        "aud": "bansos",
        "sub": "user-1",
        "role": "REGENCY_OFFICER",
        "region": "35.17",
        "iat": now,
        "exp": now + 600,
        "jti": "j-1",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _sign(issuer: TokenIssuer, private_key: Ed25519PrivateKey, **overrides: Any) -> str:
    return jwt.encode(
        _claims(**overrides), private_key, algorithm="EdDSA", headers={"kid": issuer.key_id}
    )


def _reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    return caught.value.reason


# --- the happy path ----------------------------------------------------------------------


def test_mint_verify_round_trip(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint(role="regency_officer", region="35.17", subject="dinsos-7", name="Budi")
    principal = verifier.verify(token)
    assert principal == Principal("dinsos-7", Role.REGENCY_OFFICER, RegionCode("35.17"), "Budi")
    claims = verifier.verify_claims(token)
    assert set(claims) == {"iss", "aud", "sub", "role", "region", "name", "iat", "exp", "jti"}
    assert claims["exp"] - claims["iat"] == 8 * 3600
    assert claims["aud"] == "bansos"
    assert claims["iss"] == "bansos-dev"
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["kid"] == issuer.key_id


def test_default_subject_and_unique_jti(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    first = issuer.mint(role=Role.MINISTRY_OFFICER, region="ID")
    second = issuer.mint(role=Role.MINISTRY_OFFICER, region="")
    assert verifier.verify(first).subject == "dev:ministry_officer:ID"
    assert verifier.verify(first).region.is_national
    assert verifier.verify_claims(first)["jti"] != verifier.verify_claims(second)["jti"]


def test_custom_ttl(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    claims = verifier.verify_claims(
        issuer.mint(role="CITIZEN", region="35.17.01.2001", ttl_seconds=60)
    )
    assert claims["exp"] - claims["iat"] == 60
    with pytest.raises(ValueError, match="must be positive"):
        issuer.mint(role="CITIZEN", region="35.17.01.2001", ttl_seconds=0)


def test_minting_refuses_bad_role_region_and_personal_data(issuer: TokenIssuer) -> None:
    with pytest.raises(UnknownRoleError):
        issuer.mint(role="BUPATI", region="35.17")
    with pytest.raises(InvalidRegionCodeError):
        issuer.mint(role="REGENCY_OFFICER", region="35.1")
    with pytest.raises(RoleRegionMismatchError):
        issuer.mint(role="VILLAGE_OPERATOR", region="35.17")
    with pytest.raises(ValueError, match="NIK"):
        issuer.mint(role="CITIZEN", region="35.17.01.2001", subject="3517014101900002")
    with pytest.raises(ValueError, match="NIK"):
        issuer.mint(role="CITIZEN", region="35.17.01.2001", name="KK 3517010101010001")


# --- refusals ----------------------------------------------------------------------------


def test_expired(private_key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    old = TokenIssuer(private_key, clock=lambda: time.time() - 3600, ttl_seconds=60)
    assert _reason(verifier, old.mint(role="TKSK", region="35.17.01")) == "token expired"


def test_within_leeway_is_accepted(private_key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    just_expired = TokenIssuer(private_key, clock=lambda: time.time() - 70, ttl_seconds=60)
    assert verifier.verify(just_expired.mint(role="TKSK", region="35.17.01")).role is Role.TKSK


def test_issued_in_the_future(private_key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    future = TokenIssuer(private_key, clock=lambda: time.time() + 3600)
    reason = _reason(verifier, future.mint(role="TKSK", region="35.17.01"))
    assert reason == "token not yet valid (issued in the future)"


def test_wrong_audience(private_key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    other = TokenIssuer(private_key, audience="siks-ng")
    reason = _reason(verifier, other.mint(role="TKSK", region="35.17.01"))
    assert reason == "token is for another audience (expected 'bansos')"


def test_wrong_issuer(private_key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    other = TokenIssuer(private_key, issuer="somebody-else")
    reason = _reason(verifier, other.mint(role="TKSK", region="35.17.01"))
    assert reason == "token issuer is not trusted (expected 'bansos-dev')"


def test_tampered_signature(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint(role="TKSK", region="35.17.01")
    head, body, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    tampered = f"{head}.{body}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"
    assert _reason(verifier, tampered) == "bad signature"


def test_tampered_payload(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    head, body, signature = issuer.mint(role="TKSK", region="35.17.01").split(".")
    claims = json.loads(_unb64(body))
    claims.update(role="MINISTRY_OFFICER", region="ID")
    forged = f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"
    assert _reason(verifier, forged) == "bad signature"


def test_signed_by_another_key(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    intruder = Ed25519PrivateKey.generate()
    # Claiming the trusted key id does not help...
    assert _reason(verifier, _sign(issuer, intruder)) == "bad signature"
    # ...and a token of another development key says so plainly.
    other = TokenIssuer(intruder).mint(role="TKSK", region="35.17.01")
    assert "signed by another development key" in _reason(verifier, other)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(verifier: TokenVerifier, alg: str) -> None:
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims(role="MINISTRY_OFFICER", region="ID")).encode())
    for token in (f"{header}.{body}.", f"{header}.{body}.c2ln"):
        assert "algorithm 'none' is never accepted" in _reason(verifier, token)


def test_alg_none_made_by_pyjwt_is_refused(verifier: TokenVerifier) -> None:
    token = jwt.encode(_claims(), None, algorithm="none")  # type: ignore[arg-type]
    assert "'none'" in _reason(verifier, token)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_with_the_public_key_is_refused(
    private_key: Ed25519PrivateKey, verifier: TokenVerifier, alg: str
) -> None:
    """The classic key-confusion attack: HMAC-sign with the (public) verification key."""
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims(role="MINISTRY_OFFICER", region="ID")).encode())
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    for secret in (public_pem, public_pem.strip()):
        mac = hmac.new(secret, f"{header}.{body}".encode(), digest).digest()
        reason = _reason(verifier, f"{header}.{body}.{_b64(mac)}")
        assert reason == f"algorithm '{alg}' is not accepted (allowed: EdDSA)"


def test_verifier_refuses_unsafe_algorithm_lists(private_key: Ed25519PrivateKey) -> None:
    for algorithms in (["none"], ["HS256"], ["EdDSA", "HS512"], []):
        with pytest.raises(ValueError, match="algorithm"):
            TokenVerifier.for_oidc("http://127.0.0.1:9/", algorithms=algorithms)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"role": "BUPATI"}, "unknown role 'BUPATI'"),
        ({"role": None}, "the token has no role (looked for claims bansos_role, role)"),
        ({"role": ["REGENCY_OFFICER"]}, "the token's role claim 'role' must be text"),
        ({"region": "35.1"}, "invalid region code '35.1'"),
        ({"region": None}, "the token has no region"),
        (
            {"role": "VILLAGE_OPERATOR", "region": "35.17"},
            "region regency 35.17 is not valid for role VILLAGE_OPERATOR",
        ),
        ({"role": "MINISTRY_OFFICER", "region": "35"}, "not valid for role MINISTRY_OFFICER"),
        ({"exp": None}, "token lacks the 'exp' claim"),
        ({"iat": None}, "token lacks the 'iat' claim"),
        ({"jti": None}, "token lacks the 'jti' claim"),
        ({"aud": None}, "token lacks the 'aud' claim"),
        ({"sub": None}, "token lacks the 'sub' claim"),
        ({"sub": ""}, "the token's subject (sub) is empty"),
        ({"sub": "3517014101900002"}, "the token's subject looks like a NIK/KK number"),
    ],
)
def test_claim_problems(
    issuer: TokenIssuer,
    private_key: Ed25519PrivateKey,
    verifier: TokenVerifier,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    assert reason in _reason(verifier, _sign(issuer, private_key, **overrides))


def test_lowercase_role_claim_is_accepted(
    issuer: TokenIssuer, private_key: Ed25519PrivateKey, verifier: TokenVerifier
) -> None:
    principal = verifier.verify(_sign(issuer, private_key, role="regency_officer"))
    assert principal.role is Role.REGENCY_OFFICER


def test_bansos_claims_take_precedence(
    issuer: TokenIssuer, private_key: Ed25519PrivateKey, verifier: TokenVerifier
) -> None:
    token = _sign(
        issuer, private_key, bansos_role="VILLAGE_OPERATOR", bansos_region="35.17.01.2001"
    )
    principal = verifier.verify(token)
    assert (principal.role, str(principal.region)) == (Role.VILLAGE_OPERATOR, "35.17.01.2001")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "empty bearer token"),
        ("   ", "empty bearer token"),
        ("not-a-jwt", "malformed token"),
        ("a.b.c", "malformed token"),
        ("x" * 20000, "token too long"),
    ],
)
def test_garbage(verifier: TokenVerifier, token: str, reason: str) -> None:
    assert _reason(verifier, token).startswith(reason)
