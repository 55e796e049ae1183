"""Bearer tokens (JWT): minting development tokens and verifying any token.

Claims: ``sub``, ``role``, ``region``, ``name`` (optional), ``iss``, ``aud`` (``bansos``),
``iat``, ``exp``, ``jti``. Tokens never carry a NIK or KK number.

* :class:`TokenIssuer` signs with the Ed25519 development key (EdDSA). Development only:
  in production an OIDC identity provider issues the tokens.
* :class:`TokenVerifier` checks the signature (with the development public key, or with
  the OIDC provider's published keys), the algorithm against an allow-list (never
  ``none``, never HMAC), ``exp``, ``iat``, ``aud``, ``iss``, and the role and region;
  it returns a :class:`~bansos_libs.auth.principal.Principal` or raises
  :class:`~bansos_libs.auth.principal.Unauthenticated` with the reason.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bansos_libs.auth.keys import key_id
from bansos_libs.auth.principal import Principal, Unauthenticated, looks_like_nik_or_kk
from bansos_libs.auth.regions import InvalidRegionCodeError, RegionCode
from bansos_libs.auth.roles import Role, RoleRegionMismatchError, UnknownRoleError

__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_DEV_ISSUER",
    "DEFAULT_LEEWAY_SECONDS",
    "DEFAULT_OIDC_ALGORITHMS",
    "DEFAULT_TTL_SECONDS",
    "DEV_ALGORITHMS",
    "MAX_TOKEN_LENGTH",
    "DevKeySource",
    "KeySource",
    "TokenIssuer",
    "TokenVerifier",
    "check_algorithms",
]

DEFAULT_AUDIENCE: Final = "bansos"
DEFAULT_DEV_ISSUER: Final = "bansos-dev"
DEFAULT_TTL_SECONDS: Final = 8 * 60 * 60
DEFAULT_LEEWAY_SECONDS: Final = 30.0
DEV_ALGORITHMS: Final[tuple[str, ...]] = ("EdDSA",)
DEFAULT_OIDC_ALGORITHMS: Final[tuple[str, ...]] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
MAX_TOKEN_LENGTH: Final = 16 * 1024
_ASYMMETRIC: Final = frozenset(DEFAULT_OIDC_ALGORITHMS)
_REQUIRED_CLAIMS: Final = ("sub", "iss", "aud", "iat", "exp")


def check_algorithms(algorithms: Sequence[str]) -> tuple[str, ...]:
    """Return ``algorithms`` as a tuple, refusing ``none``, HMAC and unknown names."""
    chosen = tuple(algorithms)
    if not chosen:
        raise ValueError("at least one signing algorithm must be allowed")
    for name in chosen:
        if name not in _ASYMMETRIC:
            raise ValueError(
                f"algorithm {name!r} may not be allowed: only public-key algorithms "
                f"({', '.join(DEFAULT_OIDC_ALGORITHMS)}), never 'none' or HMAC"
            )
    return chosen


class KeySource(Protocol):
    """Where a verifier gets the expected issuer and the key for a token."""

    def expected_issuer(self) -> str:
        """The ``iss`` a token must carry (raise ``Unauthenticated`` if unknown)."""
        ...

    def key_for(self, token: str, header: Mapping[str, Any]) -> Any:
        """The public key that must have signed ``token`` (raise ``Unauthenticated``)."""
        ...


class DevKeySource:
    """The local development public key and issuer."""

    def __init__(self, public_key: Ed25519PublicKey, issuer: str = DEFAULT_DEV_ISSUER) -> None:
        self._public_key = public_key
        self._issuer = issuer
        self._kid = key_id(public_key)

    def expected_issuer(self) -> str:
        """The configured development issuer."""
        return self._issuer

    def key_for(self, token: str, header: Mapping[str, Any]) -> Any:
        """The development public key; a token naming another key's ``kid`` is refused."""
        kid = header.get("kid")
        if kid is not None and kid != self._kid:
            raise Unauthenticated(
                f"bad signature: the token was signed by another development key (kid {kid!r},"
                f" this service trusts {self._kid!r}); mint a new one with `bansosctl token`"
            )
        return self._public_key


class TokenIssuer:
    """Signs development tokens with an Ed25519 private key (EdDSA). Not for production."""

    def __init__(
        self,
        private_key: Ed25519PrivateKey,
        *,
        issuer: str = DEFAULT_DEV_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"token lifetime must be positive, not {ttl_seconds} seconds")
        self._private_key = private_key
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self.key_id = key_id(private_key.public_key())

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half of the signing key, for a :class:`TokenVerifier`."""
        return self._private_key.public_key()

    def mint(
        self,
        *,
        role: Role | str,
        region: RegionCode | str,
        subject: str | None = None,
        name: str | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        """A signed token for ``role`` scoped to ``region``.

        ``role`` is matched case-insensitively; ``subject`` defaults to
        ``dev:<role>:<region>``. Raises ``ValueError`` (``UnknownRoleError``,
        ``InvalidRegionCodeError``, ``RoleRegionMismatchError``, ...) with the reason.
        """
        parsed_role = Role.parse(role)
        code = parsed_role.check_region(region)
        subject = subject if subject is not None else f"dev:{parsed_role.value.lower()}:{code}"
        principal = Principal(subject=subject, role=parsed_role, region=code, name=name)
        return self.mint_for(principal, ttl_seconds=ttl_seconds)

    def mint_for(self, principal: Principal, *, ttl_seconds: int | None = None) -> str:
        """A signed token for an existing principal."""
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        if ttl <= 0:
            raise ValueError(f"token lifetime must be positive, not {ttl} seconds")
        if principal.name is not None and looks_like_nik_or_kk(principal.name):
            raise ValueError("the name looks like a NIK/KK number; tokens never carry them")
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal.subject,
            "role": principal.role.value,
            "region": str(principal.region),
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        if principal.name is not None:
            claims["name"] = principal.name
        return jwt.encode(
            claims,
            self._private_key,
            algorithm="EdDSA",
            headers={"kid": self.key_id, "typ": "JWT"},
        )


class TokenVerifier:
    """Verifies bearer tokens and turns them into principals.

    Build one with :meth:`for_dev_key` or :meth:`for_oidc` (or
    ``bansos_libs.auth.settings.verifier_from_settings``). Thread-safe.
    """

    def __init__(
        self,
        keys: KeySource,
        *,
        audience: str = DEFAULT_AUDIENCE,
        algorithms: Sequence[str] = DEV_ALGORITHMS,
        role_claim: str = "bansos_role",
        region_claim: str = "bansos_region",
        leeway_seconds: float = DEFAULT_LEEWAY_SECONDS,
        require_jti: bool = False,
    ) -> None:
        self._keys = keys
        self.audience = audience
        self.algorithms = check_algorithms(algorithms)
        self.role_claims = tuple(dict.fromkeys((role_claim, "role")))
        self.region_claims = tuple(dict.fromkeys((region_claim, "region")))
        self.leeway_seconds = leeway_seconds
        self._required = (*_REQUIRED_CLAIMS, "jti") if require_jti else _REQUIRED_CLAIMS

    @classmethod
    def for_dev_key(
        cls,
        public_key: Ed25519PublicKey,
        *,
        issuer: str = DEFAULT_DEV_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
        leeway_seconds: float = DEFAULT_LEEWAY_SECONDS,
    ) -> TokenVerifier:
        """A verifier for tokens minted by a :class:`TokenIssuer` with the matching key."""
        return cls(
            DevKeySource(public_key, issuer),
            audience=audience,
            algorithms=DEV_ALGORITHMS,
            leeway_seconds=leeway_seconds,
            require_jti=True,
        )

    @classmethod
    def for_oidc(
        cls,
        issuer_url: str,
        *,
        audience: str = DEFAULT_AUDIENCE,
        role_claim: str = "bansos_role",
        region_claim: str = "bansos_region",
        algorithms: Sequence[str] = DEFAULT_OIDC_ALGORITHMS,
        leeway_seconds: float = DEFAULT_LEEWAY_SECONDS,
        jwks_cache_seconds: float = 300,
        jwks_refresh_cooldown_seconds: float = 30,
        timeout_seconds: float = 10,
    ) -> TokenVerifier:
        """A verifier for tokens of an OIDC provider: its keys are found through
        ``<issuer_url>/.well-known/openid-configuration`` and its ``jwks_uri``, fetched on
        first use and cached; an unknown ``kid`` triggers a refetch (key rotation), at most
        once per ``jwks_refresh_cooldown_seconds``."""
        from bansos_libs.auth.oidc import OidcKeySource

        source = OidcKeySource(
            issuer_url,
            jwks_cache_seconds=jwks_cache_seconds,
            refresh_cooldown_seconds=jwks_refresh_cooldown_seconds,
            timeout_seconds=timeout_seconds,
        )
        return cls(
            source,
            audience=audience,
            algorithms=algorithms,
            role_claim=role_claim,
            region_claim=region_claim,
            leeway_seconds=leeway_seconds,
        )

    def verify(self, token: str) -> Principal:
        """The principal a token stands for; :class:`Unauthenticated` with the reason if the
        token is malformed, badly signed, expired, not yet valid, for another audience or
        issuer, signed with a refused algorithm, or has an unknown role or a region that is
        invalid or does not fit the role."""
        claims = self.verify_claims(token)
        return self._principal(claims)

    def verify_claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token`` (signature, algorithm, time, audience, issuer),
        without interpreting role and region."""
        if not isinstance(token, str) or not token.strip():
            raise Unauthenticated("empty bearer token")
        token = token.strip()
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated(f"token too long (over {MAX_TOKEN_LENGTH} characters)")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"malformed token: {exc}") from exc
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm.lower() == "none":
            raise Unauthenticated("unsigned token: algorithm 'none' is never accepted")
        if algorithm not in self.algorithms:
            raise Unauthenticated(
                f"algorithm {algorithm!r} is not accepted (allowed: {', '.join(self.algorithms)})"
            )
        key = self._keys.key_for(token, header)
        material = key.key if isinstance(key, jwt.PyJWK) else key
        if isinstance(material, bytes | str):
            raise Unauthenticated(
                "the signing key is a shared secret; only public keys are trusted"
            )
        issuer = self._keys.expected_issuer()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=issuer,
                leeway=self.leeway_seconds,
                options={"require": list(self._required), "strict_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(_reason(exc, audience=self.audience, issuer=issuer)) from exc
        return claims

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise Unauthenticated("the token's subject (sub) is empty")
        if looks_like_nik_or_kk(subject):
            raise Unauthenticated("the token's subject looks like a NIK/KK number; refused")
        role_text = _first_claim(claims, self.role_claims, "role")
        region_text = _first_claim(claims, self.region_claims, "region")
        name = claims.get("name")
        if name is not None and (not isinstance(name, str) or looks_like_nik_or_kk(name)):
            name = None  # a display name is optional; never trust a malformed one
        try:
            role = Role.parse(role_text)
        except UnknownRoleError as exc:
            raise Unauthenticated(str(exc)) from exc
        try:
            region = role.check_region(RegionCode(region_text))
        except (InvalidRegionCodeError, RoleRegionMismatchError) as exc:
            raise Unauthenticated(str(exc)) from exc
        return Principal(subject=subject, role=role, region=region, name=name)


def _first_claim(claims: Mapping[str, Any], names: Sequence[str], what: str) -> str:
    for claim in names:
        value = claims.get(claim)
        if value is None:
            continue
        if not isinstance(value, str):
            raise Unauthenticated(f"the token's {what} claim {claim!r} must be text")
        return value
    raise Unauthenticated(f"the token has no {what} (looked for claims {', '.join(names)})")


def _reason(exc: jwt.PyJWTError, *, audience: str, issuer: str) -> str:
    """A plain sentence for a PyJWT verification error."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "token expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "token not yet valid (issued in the future)"
    if isinstance(exc, jwt.InvalidAudienceError):
        return f"token is for another audience (expected {audience!r})"
    if isinstance(exc, jwt.InvalidIssuerError):
        return f"token issuer is not trusted (expected {issuer!r})"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "bad signature"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"token lacks the {exc.claim!r} claim"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return f"algorithm not accepted: {exc}"
    if isinstance(exc, jwt.InvalidKeyError):
        return f"the token's algorithm does not fit the signing key: {exc}"
    if isinstance(exc, jwt.DecodeError):
        return f"malformed token: {exc}"
    return f"invalid token: {exc}"
