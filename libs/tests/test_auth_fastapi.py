"""The FastAPI dependency: 401 and 403 answers with their reasons.

httpx (needed by ``fastapi.testclient``) is not installed, so the dependency functions are
called directly, and one test runs a real uvicorn server on 127.0.0.1 and talks to it with
``urllib``.
"""

# No ``from __future__ import annotations``: FastAPI reads the route annotations at runtime.
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI, HTTPException
from starlette.requests import Request

from bansos_libs.auth import Principal, Role, TokenIssuer, TokenVerifier, issuer_from_settings
from bansos_libs.auth.fastapi import (
    authenticate,
    default_verifier,
    install_auth_error_handlers,
    principal_dependency,
    principal_from_authorization,
    require,
    require_roles,
    use_verifier,
)


@pytest.fixture(autouse=True)
def _isolated_dev_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Never touch the developer's own key: the default verifier reads a key in tmp."""
    for name in list(os.environ):
        if name.startswith("BANSOS_AUTH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BANSOS_AUTH_DEV_KEY_FILE", str(tmp_path / "dev-keys" / "ed25519.pem"))
    default_verifier.cache_clear()
    yield
    default_verifier.cache_clear()


@pytest.fixture(scope="module")
def private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def issuer(private_key: Ed25519PrivateKey) -> TokenIssuer:
    return TokenIssuer(private_key)


@pytest.fixture(scope="module")
def verifier(private_key: Ed25519PrivateKey) -> TokenVerifier:
    return TokenVerifier.for_dev_key(private_key.public_key())


def _request(authorization: str | None, app: FastAPI | None = None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": headers,
        "app": app or FastAPI(),
    }
    return Request(scope)


def _detail(error: HTTPException) -> Any:
    detail: Any = error.detail  # starlette types it as str; ours is a JSON object
    return detail


def _http_error(call: Any) -> HTTPException:
    with pytest.raises(HTTPException) as caught:
        call()
    return caught.value


# --- the dependency, called directly -----------------------------------------------------


def test_dependency_returns_the_principal(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint(role="REGENCY_OFFICER", region="35.17", subject="dinsos-1")
    dependency = principal_dependency(verifier)
    principal = dependency(_request(f"Bearer {token}"), None)
    assert principal.subject == "dinsos-1"
    assert principal.role is Role.REGENCY_OFFICER
    lower_case_scheme = dependency(_request(f"bearer   {token}"), None)
    assert lower_case_scheme == principal


def test_missing_token_is_401_with_a_bearer_challenge(verifier: TokenVerifier) -> None:
    error = _http_error(lambda: principal_dependency(verifier)(_request(None), None))
    assert error.status_code == 401
    assert error.headers == {"WWW-Authenticate": 'Bearer realm="bansos"'}
    assert _detail(error) == {
        "error": "unauthenticated",
        "reason": "missing bearer token: send 'Authorization: Bearer <token>'",
    }


def test_other_scheme_is_401(verifier: TokenVerifier) -> None:
    error = _http_error(lambda: principal_from_authorization("Basic dXNlcjpwdw==", verifier))
    assert error.status_code == 401
    assert _detail(error)["reason"] == (
        "the Authorization header must use the Bearer scheme, not 'Basic'"
    )


def test_expired_token_is_401_naming_the_problem(
    private_key: Ed25519PrivateKey, verifier: TokenVerifier
) -> None:
    old = TokenIssuer(private_key, clock=lambda: time.time() - 3600, ttl_seconds=60)
    token = old.mint(role="TKSK", region="35.17.01")
    error = _http_error(lambda: principal_from_authorization(f"Bearer {token}", verifier))
    assert error.status_code == 401
    assert _detail(error) == {"error": "unauthenticated", "reason": "token expired"}
    assert error.headers is not None
    assert error.headers["WWW-Authenticate"] == (
        'Bearer realm="bansos", error="invalid_token", error_description="token expired"'
    )


def test_challenge_header_stays_printable_ascii(verifier: TokenVerifier) -> None:
    error = _http_error(lambda: principal_from_authorization('Bearer "ünïcode"', verifier))
    assert error.headers is not None
    challenge = error.headers["WWW-Authenticate"]
    assert challenge.isascii()
    assert challenge.startswith("Bearer ")
    assert challenge.count('"') == 6


def test_require_gives_403_with_the_reason(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    operator = verifier.verify(issuer.mint(role="VILLAGE_OPERATOR", region="35.17.01.2001"))
    assert require(operator, roles={Role.VILLAGE_OPERATOR}, region="35.17.01.2001") is operator
    error = _http_error(lambda: require(operator, region="35.17.02.2003"))
    assert error.status_code == 403
    assert _detail(error) == {
        "error": "forbidden",
        "reason": "role VILLAGE_OPERATOR for 35.17.01.2001 may not act on 35.17.02.2003: "
        "outside your region",
    }
    error = _http_error(lambda: require(operator, roles=[Role.REGENCY_OFFICER]))
    assert error.status_code == 403
    assert "allowed roles are REGENCY_OFFICER" in _detail(error)["reason"]


def test_require_roles_dependency(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    auditor = verifier.verify(issuer.mint(role="AUDITOR", region="ID"))
    only_staff = require_roles(Role.REGENCY_OFFICER, "ministry_officer")
    assert _http_error(lambda: only_staff(auditor)).status_code == 403
    ministry = verifier.verify(issuer.mint(role="MINISTRY_OFFICER", region="ID"))
    assert only_staff(ministry) is ministry


def test_authenticate_uses_the_apps_verifier(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    app = FastAPI()
    use_verifier(app, verifier)
    token = issuer.mint(role="CITIZEN", region="35.17.01.2001", subject="warga-1")
    assert authenticate(_request(f"Bearer {token}", app), None).subject == "warga-1"


def test_authenticate_defaults_to_the_environments_verifier(tmp_path: Path) -> None:
    token = issuer_from_settings().mint(role="DISTRICT_OFFICER", region="35.17.01")
    assert (tmp_path / "dev-keys" / "ed25519.pem").exists()
    principal = authenticate(_request(f"Bearer {token}"), None)
    assert principal.role is Role.DISTRICT_OFFICER


def test_verifier_may_be_resolved_lazily(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    calls: list[int] = []

    def lookup() -> TokenVerifier:
        calls.append(1)
        return verifier

    dependency = principal_dependency(lookup)
    assert calls == []
    token = issuer.mint(role="SYSTEM", region="ID")
    assert dependency(_request(f"Bearer {token}"), None).role is Role.SYSTEM
    assert calls == [1]


# --- a real server -----------------------------------------------------------------------


def _app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_auth_error_handlers(app)
    current = principal_dependency(verifier)

    @app.get("/villages/{village}/list")
    def village_list(
        village: str, principal: Annotated[Principal, Depends(current)]
    ) -> dict[str, Any]:
        require(principal, roles={Role.VILLAGE_OPERATOR, Role.REGENCY_OFFICER}, region=village)
        return {"actor": principal.actor()}

    @app.post("/lists/{village}/approve")
    def approve(
        village: str,
        principal: Annotated[
            Principal, Depends(require_roles(Role.REGENCY_OFFICER, dependency=current))
        ],
    ) -> dict[str, str]:
        principal.require(region=village, action="approve the list")  # domain-style check
        return {"approved": village}

    return app


@pytest.fixture(scope="module")
def server(verifier: TokenVerifier) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_app(verifier), log_level="warning", lifespan="off")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert instance.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _call(
    url: str, token: str | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, headers=headers, method=method)  # noqa: S310 (local)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (local)
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.load(error)


def test_over_http(server: str, issuer: TokenIssuer) -> None:
    status, headers, body = _call(f"{server}/villages/35.17.01.2001/list")
    assert status == 401
    assert headers["www-authenticate"] == 'Bearer realm="bansos"'
    assert body["detail"]["error"] == "unauthenticated"

    status, headers, body = _call(f"{server}/villages/35.17.01.2001/list", "garbage")
    assert status == 401
    assert headers["www-authenticate"].startswith('Bearer realm="bansos", error="invalid_token"')
    assert body["detail"]["reason"].startswith("malformed token")

    operator = issuer.mint(role="village_operator", region="35.17.01.2001", subject="op-9")
    status, _, body = _call(f"{server}/villages/35.17.01.2001/list", operator)
    assert status == 200
    assert body == {"actor": {"role": "VILLAGE_OPERATOR", "id": "op-9", "region": "35.17.01.2001"}}

    status, _, body = _call(f"{server}/villages/35.17.02.2003/list", operator)
    assert status == 403
    assert body["detail"]["reason"] == (
        "role VILLAGE_OPERATOR for 35.17.01.2001 may not act on 35.17.02.2003: outside your region"
    )

    status, _, body = _call(f"{server}/lists/35.17.01.2001/approve", operator, method="POST")
    assert status == 403
    assert "allowed roles are REGENCY_OFFICER" in body["detail"]["reason"]

    dinsos = issuer.mint(role="REGENCY_OFFICER", region="35.17")
    status, _, body = _call(f"{server}/lists/35.17.01.2001/approve", dinsos, method="POST")
    assert (status, body) == (200, {"approved": "35.17.01.2001"})
    status, _, body = _call(f"{server}/lists/35.18.01.2001/approve", dinsos, method="POST")
    assert status == 403
    assert body["detail"] == {
        "error": "forbidden",
        "reason": "role REGENCY_OFFICER for 35.17 may not approve the list on 35.18.01.2001: "
        "outside your region",
    }


def test_openapi_declares_the_bearer_scheme(verifier: TokenVerifier) -> None:
    schema = _app(verifier).openapi()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operation = schema["paths"]["/villages/{village}/list"]["get"]
    assert operation["security"] == [{"bearer": []}]
    assert [p["name"] for p in operation["parameters"]] == ["village"]
