"""Verifying tokens of an OIDC provider, served by a tiny local HTTP server (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from bansos_libs.auth import RegionCode, Role, TokenVerifier, Unauthenticated
from bansos_libs.auth.oidc import OidcKeySource

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass
class FakeIdp:
    """The state of the fake identity provider; the server reads it on every request."""

    base_url: str = ""
    issuer: str | None = None  # what the discovery document claims; default: base_url
    keys: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def publish(self, private_key: PrivateKey, kid: str, alg: str) -> None:
        public = private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
        self.keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})

    def count(self, path: str) -> int:
        return sum(1 for seen in self.requests if seen == path)


def _handler_for(idp: FakeIdp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            idp.requests.append(self.path)
            if self.path == "/realms/bansos/.well-known/openid-configuration":
                body: Any = {
                    "issuer": idp.issuer or idp.base_url,
                    "jwks_uri": idp.base_url + "/protocol/openid-connect/certs",
                }
            elif self.path == "/realms/bansos/protocol/openid-connect/certs":
                body = {"keys": list(idp.keys)}
            else:
                self.send_error(404)
                return
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            del format, args

    return Handler


@pytest.fixture
def idp() -> Iterator[FakeIdp]:
    state = FakeIdp()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    host, port = server.server_address[:2]
    state.base_url = f"http://{host!s}:{port}/realms/bansos"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(idp: FakeIdp, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": idp.base_url,
        "aud": ["bansos", "account"],
        "sub": "f3c1d7a0-keycloak-user",
        "bansos_role": "VILLAGE_OPERATOR",
        "bansos_region": "35.17.01.2001",
        "name": "Siti Aminah",
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _token(idp: FakeIdp, key: PrivateKey, kid: str | None, alg: str, **overrides: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(_claims(idp, **overrides), key, algorithm=alg, headers=headers)


def _verifier(idp: FakeIdp, **options: Any) -> TokenVerifier:
    return TokenVerifier.for_oidc(idp.base_url, timeout_seconds=5, **options)


def _reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    return caught.value.reason


DISCOVERY = "/realms/bansos/.well-known/openid-configuration"
JWKS = "/realms/bansos/protocol/openid-connect/certs"


def test_verifies_with_discovered_keys_and_caches_them(
    idp: FakeIdp, rsa_key: rsa.RSAPrivateKey
) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    verifier = _verifier(idp)
    assert idp.requests == []  # nothing fetched before the first token
    for _ in range(3):
        principal = verifier.verify(_token(idp, rsa_key, "rsa-1", "RS256"))
        assert principal.role is Role.VILLAGE_OPERATOR
        assert principal.region == RegionCode("35.17.01.2001")
        assert principal.subject == "f3c1d7a0-keycloak-user"
        assert principal.name == "Siti Aminah"
    assert idp.count(DISCOVERY) == 1
    assert idp.count(JWKS) == 1


def test_falls_back_to_role_and_region_claims(idp: FakeIdp, rsa_key: rsa.RSAPrivateKey) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    token = _token(
        idp, rsa_key, "rsa-1", "RS256", bansos_role=None, bansos_region=None,
        role="regency_officer", region="35.17",
    )  # fmt: skip
    principal = _verifier(idp).verify(token)
    assert (principal.role, str(principal.region)) == (Role.REGENCY_OFFICER, "35.17")


def test_configurable_claim_names(idp: FakeIdp, rsa_key: rsa.RSAPrivateKey) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    overrides = {"https://bansos.go.id/role": "AUDITOR", "https://bansos.go.id/region": "35"}
    token = _token(idp, rsa_key, "rsa-1", "RS256", **overrides)
    verifier = _verifier(
        idp, role_claim="https://bansos.go.id/role", region_claim="https://bansos.go.id/region"
    )
    principal = verifier.verify(token)
    assert (principal.role, str(principal.region)) == (Role.AUDITOR, "35")


def test_key_rotation_refetches_the_key_set(idp: FakeIdp, rsa_key: rsa.RSAPrivateKey) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    verifier = _verifier(idp, jwks_refresh_cooldown_seconds=0)
    verifier.verify(_token(idp, rsa_key, "rsa-1", "RS256"))
    assert idp.count(JWKS) == 1

    rotated = ec.generate_private_key(ec.SECP256R1())
    idp.publish(rotated, "ec-2", "ES256")
    principal = verifier.verify(_token(idp, rotated, "ec-2", "ES256"))
    assert principal.role is Role.VILLAGE_OPERATOR
    assert idp.count(JWKS) == 2  # kid not in cache: the key set was fetched again

    verifier.verify(_token(idp, rotated, "ec-2", "ES256"))
    verifier.verify(_token(idp, rsa_key, "rsa-1", "RS256"))
    assert idp.count(JWKS) == 2  # both keys now cached


def test_retired_or_unknown_key(idp: FakeIdp, rsa_key: rsa.RSAPrivateKey) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    verifier = _verifier(idp, jwks_refresh_cooldown_seconds=0)
    stranger = ed25519.Ed25519PrivateKey.generate()
    reason = _reason(verifier, _token(idp, stranger, "who-knows", "EdDSA"))
    assert reason == (
        "no signing key with kid 'who-knows' at the identity provider (unknown or retired key)"
    )


def test_unknown_kids_do_not_hammer_the_provider(idp: FakeIdp, rsa_key: rsa.RSAPrivateKey) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    verifier = _verifier(idp)  # default cooldown of 30 seconds
    verifier.verify(_token(idp, rsa_key, "rsa-1", "RS256"))
    for number in range(5):
        _reason(verifier, _token(idp, rsa_key, f"random-{number}", "RS256"))
    assert idp.count(JWKS) == 1


def test_token_without_kid(idp: FakeIdp, rsa_key: rsa.RSAPrivateKey) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    assert "no key id (kid)" in _reason(_verifier(idp), _token(idp, rsa_key, None, "RS256"))


def test_key_used_with_another_algorithm_than_declared_is_refused(
    idp: FakeIdp, rsa_key: rsa.RSAPrivateKey
) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    reason = _reason(_verifier(idp), _token(idp, rsa_key, "rsa-1", "PS256"))
    assert reason.startswith("algorithm not accepted: Token algorithm 'PS256' does not match")


def test_hmac_with_the_providers_public_key_is_refused(
    idp: FakeIdp, rsa_key: rsa.RSAPrivateKey
) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    secret = json.dumps(idp.keys[0]).encode()  # the public JWK, as an attacker would use it
    header = _b64(json.dumps({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims(idp)).encode())
    mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    reason = _reason(_verifier(idp), f"{header}.{body}.{_b64(mac)}")
    assert reason.startswith("algorithm 'HS256' is not accepted")
    unsigned = jwt.encode(_claims(idp), None, algorithm="none")  # type: ignore[arg-type]
    assert "none" in _reason(_verifier(idp), unsigned)


def test_shared_secret_in_the_key_set_is_never_used(idp: FakeIdp) -> None:
    idp.keys.append({"kty": "oct", "k": _b64(b"s3cret" * 8), "kid": "hmac", "alg": "HS256"})
    verifier = TokenVerifier(OidcKeySource(idp.base_url, timeout_seconds=5), algorithms=["RS256"])
    header = _b64(json.dumps({"alg": "RS256", "kid": "hmac"}).encode())
    body = _b64(json.dumps(_claims(idp)).encode())
    reason = _reason(verifier, f"{header}.{body}.c2ln")
    assert reason == "the signing key is a shared secret; only public keys are trusted"


def test_wrong_issuer_audience_and_expiry(idp: FakeIdp, rsa_key: rsa.RSAPrivateKey) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    verifier = _verifier(idp)
    evil = _token(idp, rsa_key, "rsa-1", "RS256", iss="https://evil.example/realms/bansos")
    assert _reason(verifier, evil) == f"token issuer is not trusted (expected {idp.base_url!r})"
    other_app = _token(idp, rsa_key, "rsa-1", "RS256", aud="account")
    assert _reason(verifier, other_app) == "token is for another audience (expected 'bansos')"
    old = int(time.time()) - 7200
    expired = _token(idp, rsa_key, "rsa-1", "RS256", iat=old, exp=old + 300)
    assert _reason(verifier, expired) == "token expired"


def test_role_region_problems(idp: FakeIdp, rsa_key: rsa.RSAPrivateKey) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    verifier = _verifier(idp)
    unknown = _token(idp, rsa_key, "rsa-1", "RS256", bansos_role="CAMAT")
    assert _reason(verifier, unknown).startswith("unknown role 'CAMAT'")
    mismatch = _token(idp, rsa_key, "rsa-1", "RS256", bansos_region="35.17")
    assert "not valid for role VILLAGE_OPERATOR" in _reason(verifier, mismatch)
    nik = _token(idp, rsa_key, "rsa-1", "RS256", sub="3517014101900002")
    assert "NIK" in _reason(verifier, nik)


def test_discovery_naming_another_issuer_is_refused(
    idp: FakeIdp, rsa_key: rsa.RSAPrivateKey
) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    idp.issuer = "https://impostor.example/realms/bansos"
    reason = _reason(_verifier(idp), _token(idp, rsa_key, "rsa-1", "RS256"))
    assert "discovery document names issuer 'https://impostor.example/realms/bansos'" in reason


def test_unreachable_provider_then_recovery(rsa_key: rsa.RSAPrivateKey) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    issuer_url = f"http://127.0.0.1:{port}/realms/bansos"
    verifier = TokenVerifier.for_oidc(issuer_url, timeout_seconds=2)
    token = jwt.encode({"sub": "x"}, rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
    reason = _reason(verifier, token)
    assert reason.startswith("cannot read the identity provider's discovery document at ")


def test_failed_discovery_is_retried(idp: FakeIdp, rsa_key: rsa.RSAPrivateKey) -> None:
    idp.publish(rsa_key, "rsa-1", "RS256")
    idp.issuer = "https://impostor.example"
    verifier = _verifier(idp)
    _reason(verifier, _token(idp, rsa_key, "rsa-1", "RS256"))
    idp.issuer = None  # the provider is fixed
    assert verifier.verify(_token(idp, rsa_key, "rsa-1", "RS256")).role is Role.VILLAGE_OPERATOR
    assert idp.count(DISCOVERY) == 2


def test_issuer_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        TokenVerifier.for_oidc("file:///etc/passwd")
