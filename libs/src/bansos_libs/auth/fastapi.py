"""FastAPI glue: the bearer-token dependency and HTTP 401/403 answers.

The only module of ``bansos_libs.auth`` that imports FastAPI. Typical use::

    from bansos_libs.auth import Role
    from bansos_libs.auth.fastapi import authenticate, require, use_verifier

    use_verifier(app, verifier_from_settings())          # at start-up (optional)

    @app.post("/lists/{list_id}/approve")
    def approve(list_id: str, principal: Principal = Depends(authenticate)) -> ...:
        require(principal, roles={Role.REGENCY_OFFICER}, region=village_of(list_id))

A missing or bad token answers 401 with ``WWW-Authenticate: Bearer ...`` and a JSON
detail ``{"error": "unauthenticated", "reason": ...}``; a refusal answers 403 with
``{"error": "forbidden", "reason": ...}``.
"""

# No ``from __future__ import annotations``: FastAPI reads these annotations at runtime,
# and the nested dependencies refer to local variables.
import functools
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Security, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bansos_libs.auth.principal import Forbidden, Principal, Unauthenticated
from bansos_libs.auth.regions import RegionCode
from bansos_libs.auth.roles import Role
from bansos_libs.auth.settings import verifier_from_settings
from bansos_libs.auth.tokens import TokenVerifier

__all__ = [
    "authenticate",
    "default_verifier",
    "forbidden",
    "install_auth_error_handlers",
    "principal_dependency",
    "principal_from_authorization",
    "require",
    "require_roles",
    "unauthenticated",
    "use_verifier",
]

REALM = "bansos"
_STATE_KEY = "bansos_token_verifier"
_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    scheme_name="bearer",
    description="A bansos access token (in development: `bansosctl token --role R --region C`).",
)


def _quoted(text: str) -> str:
    """``text`` made safe for a quoted-string in an HTTP header (printable ASCII)."""
    cleaned = "".join(c if " " <= c <= "~" and c not in '"\\' else "'" for c in text)
    return cleaned[:300]


def unauthenticated(reason: str, *, token_given: bool = True) -> HTTPException:
    """HTTP 401 with ``WWW-Authenticate: Bearer`` (RFC 6750) and the reason."""
    challenge = f'Bearer realm="{REALM}"'
    if token_given:
        challenge += f', error="invalid_token", error_description="{_quoted(reason)}"'
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail={"error": "unauthenticated", "reason": reason},
        headers={"WWW-Authenticate": challenge},
    )


def forbidden(reason: str) -> HTTPException:
    """HTTP 403 with the reason."""
    return HTTPException(
        status_code=status.HTTP_403_FORBIDDEN, detail={"error": "forbidden", "reason": reason}
    )


def principal_from_authorization(authorization: str | None, verifier: TokenVerifier) -> Principal:
    """The principal of an ``Authorization`` header value, or HTTP 401 saying why."""
    if authorization is None or not authorization.strip():
        raise unauthenticated(
            "missing bearer token: send 'Authorization: Bearer <token>'", token_given=False
        )
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise unauthenticated(
            f"the Authorization header must use the Bearer scheme, not {scheme[:20]!r}",
            token_given=False,
        )
    try:
        return verifier.verify(token.strip())
    except Unauthenticated as exc:
        raise unauthenticated(exc.reason) from exc


def principal_dependency(
    verifier: TokenVerifier | Callable[[], TokenVerifier],
) -> Callable[..., Principal]:
    """A FastAPI dependency that authenticates with ``verifier`` (or with the verifier a
    zero-argument callable returns, looked up per request)."""

    def resolve() -> TokenVerifier:
        return verifier if isinstance(verifier, TokenVerifier) else verifier()

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    ) -> Principal:
        del credentials  # declared for the OpenAPI security scheme; the header is read below
        return principal_from_authorization(request.headers.get("authorization"), resolve())

    return dependency


@functools.cache
def default_verifier() -> TokenVerifier:
    """The process-wide verifier built from ``AuthSettings()`` (the environment), once."""
    return verifier_from_settings()


def use_verifier(app: FastAPI, verifier: TokenVerifier) -> None:
    """Make :func:`authenticate` use ``verifier`` for this application."""
    setattr(app.state, _STATE_KEY, verifier)


def _app_verifier(request: Request) -> TokenVerifier:
    verifier = getattr(request.app.state, _STATE_KEY, None)
    return verifier if isinstance(verifier, TokenVerifier) else default_verifier()


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> Principal:
    """The FastAPI dependency: ``Authorization: Bearer`` → :class:`Principal`, else 401.

    Uses the verifier set with :func:`use_verifier`, else :func:`default_verifier`.
    """
    del credentials  # declared for the OpenAPI security scheme; the header is read below
    return principal_from_authorization(
        request.headers.get("authorization"), _app_verifier(request)
    )


def require(
    principal: Principal,
    roles: Iterable[Role | str] | Role | None = None,
    region: RegionCode | str | None = None,
    action: str | None = None,
) -> Principal:
    """:meth:`Principal.require` answering HTTP 403 with the reason when refused."""
    try:
        return principal.require(roles, region=region, action=action)
    except Forbidden as exc:
        raise forbidden(exc.reason) from exc


def require_roles(
    *roles: Role | str, dependency: Callable[..., Principal] = authenticate
) -> Callable[..., Principal]:
    """A dependency that authenticates and then requires one of ``roles`` (else 403)."""
    allowed = frozenset(Role.parse(role) for role in roles)

    def checked(principal: Annotated[Principal, Depends(dependency)]) -> Principal:
        return require(principal, roles=allowed)

    return checked


async def _on_forbidden(request: Request, exc: Exception) -> JSONResponse:
    reason = exc.reason if isinstance(exc, Forbidden) else str(exc)
    return JSONResponse(
        status_code=status.HTTP_403_FORBIDDEN,
        content={"detail": {"error": "forbidden", "reason": reason}},
    )


async def _on_unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    reason = exc.reason if isinstance(exc, Unauthenticated) else str(exc)
    error = unauthenticated(reason)
    headers: dict[str, Any] = dict(error.headers or {})
    return JSONResponse(
        status_code=error.status_code, content={"detail": error.detail}, headers=headers
    )


def install_auth_error_handlers(app: FastAPI) -> None:
    """Answer :class:`Forbidden` raised anywhere in a request with 403 and
    :class:`Unauthenticated` with 401, so domain code may call ``principal.require``."""
    app.add_exception_handler(Forbidden, _on_forbidden)
    app.add_exception_handler(Unauthenticated, _on_unauthenticated)
