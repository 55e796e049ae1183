"""Authentication settings from the environment (prefix ``BANSOS_AUTH_``) and factories.

In ``dev`` mode (the default) tokens are signed with a local Ed25519 key: from
``BANSOS_AUTH_DEV_PRIVATE_KEY`` (a PEM) if set, else from ``BANSOS_AUTH_DEV_KEY_FILE``,
created on first use (default ``<repo>/.local/dev-keys/ed25519.pem``). In ``oidc`` mode
tokens come from the identity provider at ``BANSOS_AUTH_OIDC_ISSUER_URL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bansos_libs.auth.keys import load_or_create_dev_key, load_private_key_pem
from bansos_libs.auth.tokens import (
    DEFAULT_AUDIENCE,
    DEFAULT_DEV_ISSUER,
    DEFAULT_LEEWAY_SECONDS,
    DEFAULT_OIDC_ALGORITHMS,
    DEFAULT_TTL_SECONDS,
    TokenIssuer,
    TokenVerifier,
    check_algorithms,
)

__all__ = [
    "AuthSettings",
    "default_dev_key_file",
    "dev_private_key",
    "find_repo_root",
    "issuer_from_settings",
    "load_or_create_dev_key",
    "verifier_from_settings",
]

DEV_KEY_NAME = "ed25519.pem"


def find_repo_root(start: Path | None = None) -> Path | None:
    """The nearest directory at or above ``start`` (default: the working directory) that
    holds ``uv.lock``, or ``None``."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "uv.lock").is_file():
            return directory
    return None


def default_dev_key_file() -> Path:
    """``<repo>/.local/dev-keys/ed25519.pem``, or ``~/.config/bansos/dev-keys/ed25519.pem``
    outside the repository."""
    root = find_repo_root()
    if root is not None:
        return root / ".local" / "dev-keys" / DEV_KEY_NAME
    return Path.home() / ".config" / "bansos" / "dev-keys" / DEV_KEY_NAME


class AuthSettings(BaseSettings):
    """How tokens are issued and verified; every field reads ``BANSOS_AUTH_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="BANSOS_AUTH_", extra="ignore")

    mode: Literal["dev", "oidc"] = "dev"
    """``dev``: local Ed25519 key; ``oidc``: an identity provider."""
    dev_key_file: Path = Field(default_factory=default_dev_key_file)
    """The development key file, created (0600) on first use."""
    dev_private_key: SecretStr | None = None
    """A development private key PEM; takes precedence over ``dev_key_file``."""
    issuer: str = DEFAULT_DEV_ISSUER
    """The ``iss`` of development tokens (in oidc mode the provider's issuer is used)."""
    audience: str = DEFAULT_AUDIENCE
    """The ``aud`` every token must carry."""
    oidc_issuer_url: str | None = None
    """The identity provider's issuer URL (required in oidc mode)."""
    role_claim: str = "bansos_role"
    """The claim holding the role (``role`` is the fallback)."""
    region_claim: str = "bansos_region"
    """The claim holding the region code (``region`` is the fallback)."""
    oidc_algorithms: list[str] = Field(default_factory=lambda: list(DEFAULT_OIDC_ALGORITHMS))
    """The signing algorithms accepted from the provider (public-key ones only)."""
    jwks_cache_seconds: float = Field(default=300, gt=0)
    """How long the provider's key set is cached."""
    jwks_refresh_cooldown_seconds: float = Field(default=30, ge=0)
    """The least time between refetches triggered by an unknown key id."""
    token_ttl_seconds: int = Field(default=DEFAULT_TTL_SECONDS, gt=0)
    """The lifetime of minted development tokens (8 hours)."""
    leeway_seconds: float = Field(default=DEFAULT_LEEWAY_SECONDS, ge=0)
    """Clock skew tolerated when checking ``exp`` and ``iat``."""

    @field_validator("oidc_algorithms")
    @classmethod
    def _only_public_key_algorithms(cls, value: list[str]) -> list[str]:
        return list(check_algorithms(value))

    @model_validator(mode="after")
    def _oidc_needs_issuer_url(self) -> Self:
        if self.mode == "oidc" and not self.oidc_issuer_url:
            raise ValueError("BANSOS_AUTH_OIDC_ISSUER_URL is required when BANSOS_AUTH_MODE=oidc")
        return self


def dev_private_key(settings: AuthSettings) -> Ed25519PrivateKey:
    """The development private key: ``dev_private_key`` if set, else the key file
    (created on first use)."""
    if settings.dev_private_key is not None:
        return load_private_key_pem(
            settings.dev_private_key.get_secret_value(), source="BANSOS_AUTH_DEV_PRIVATE_KEY"
        )
    return load_or_create_dev_key(settings.dev_key_file)


def issuer_from_settings(settings: AuthSettings | None = None) -> TokenIssuer:
    """A development :class:`TokenIssuer`; ``ValueError`` in oidc mode, where the identity
    provider issues tokens."""
    settings = settings if settings is not None else AuthSettings()
    if settings.mode != "dev":
        raise ValueError(
            "development tokens can only be minted in dev mode (BANSOS_AUTH_MODE=dev); "
            "in oidc mode ask the identity provider for a token"
        )
    return TokenIssuer(
        dev_private_key(settings),
        issuer=settings.issuer,
        audience=settings.audience,
        ttl_seconds=settings.token_ttl_seconds,
    )


def verifier_from_settings(settings: AuthSettings | None = None) -> TokenVerifier:
    """The :class:`TokenVerifier` the settings describe (default: from the environment)."""
    settings = settings if settings is not None else AuthSettings()
    if settings.mode == "oidc":
        assert settings.oidc_issuer_url is not None
        return TokenVerifier.for_oidc(
            settings.oidc_issuer_url,
            audience=settings.audience,
            role_claim=settings.role_claim,
            region_claim=settings.region_claim,
            algorithms=settings.oidc_algorithms,
            leeway_seconds=settings.leeway_seconds,
            jwks_cache_seconds=settings.jwks_cache_seconds,
            jwks_refresh_cooldown_seconds=settings.jwks_refresh_cooldown_seconds,
        )
    return TokenVerifier.for_dev_key(
        dev_private_key(settings).public_key(),
        issuer=settings.issuer,
        audience=settings.audience,
        leeway_seconds=settings.leeway_seconds,
    )
