"""Signing keys of an OpenID Connect provider, found through its discovery document.

``<issuer>/.well-known/openid-configuration`` names the provider's ``issuer`` (which
must equal the configured one) and its ``jwks_uri``; the key set is fetched with
:class:`jwt.PyJWKClient`, cached, and refetched when a token names a key id that is not
in the cache (the provider rotated its keys).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import jwt

from bansos_libs.auth.principal import Unauthenticated

__all__ = ["OidcKeySource", "discovery_url"]


def discovery_url(issuer_url: str) -> str:
    """The OIDC discovery document's address for ``issuer_url``."""
    return issuer_url.rstrip("/") + "/.well-known/openid-configuration"


def _check_http_url(url: str, what: str) -> str:
    scheme = urllib.parse.urlparse(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"{what} must be an http(s) address, not {url!r}")
    return url


class OidcKeySource:
    """The expected issuer and the public keys of one OIDC provider. Thread-safe.

    Nothing is fetched until the first token is verified, so a service starts even when
    the provider is briefly unreachable; a failed fetch is retried on the next token.
    """

    def __init__(
        self,
        issuer_url: str,
        *,
        jwks_cache_seconds: float = 300,
        refresh_cooldown_seconds: float = 30,
        timeout_seconds: float = 10,
    ) -> None:
        self.issuer_url = _check_http_url(issuer_url.strip(), "the OIDC issuer URL")
        self._jwks_cache_seconds = jwks_cache_seconds
        self._refresh_cooldown_seconds = refresh_cooldown_seconds
        self._timeout_seconds = timeout_seconds
        self._lock = threading.Lock()
        self._issuer: str | None = None
        self._client: jwt.PyJWKClient | None = None

    def expected_issuer(self) -> str:
        """The ``issuer`` of the discovery document (equal to the configured URL)."""
        self._discover()
        assert self._issuer is not None
        return self._issuer

    def key_for(self, token: str, header: Mapping[str, Any]) -> Any:
        """The provider's key (a :class:`jwt.PyJWK`) named by the token's ``kid`` header."""
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated(
                "the token has no key id (kid) to choose the identity provider's key"
            )
        client = self._discover()
        try:
            signing_key = client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise Unauthenticated(
                f"cannot fetch the identity provider's keys from {client.uri}: {exc}"
            ) from exc
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated(
                f"no signing key with kid {kid!r} at the identity provider (unknown or retired key)"
            ) from exc
        except (jwt.PyJWKSetError, jwt.PyJWKError, jwt.InvalidKeyError) as exc:
            raise Unauthenticated(f"the identity provider's key set is unusable: {exc}") from exc
        # The PyJWK itself, not its bare key: it binds the algorithm the provider declared
        # for the key (or the one its type implies), and PyJWT refuses any other.
        return signing_key

    def _discover(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._client is not None:
                return self._client
            document = self._fetch_discovery()
            issuer = document.get("issuer")
            if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer_url.rstrip("/"):
                raise Unauthenticated(
                    f"the identity provider's discovery document names issuer {issuer!r}, "
                    f"not the configured {self.issuer_url!r}"
                )
            jwks_uri = document.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise Unauthenticated("the identity provider's discovery document has no jwks_uri")
            try:
                _check_http_url(jwks_uri, "jwks_uri")
                client = jwt.PyJWKClient(
                    jwks_uri,
                    cache_keys=False,
                    cache_jwk_set=True,
                    lifespan=self._jwks_cache_seconds,
                    timeout=self._timeout_seconds,
                    cooldown_duration=self._refresh_cooldown_seconds,
                )
            except (ValueError, jwt.PyJWKClientError) as exc:
                raise Unauthenticated(f"unusable jwks_uri {jwks_uri!r}: {exc}") from exc
            self._issuer = issuer
            self._client = client
            return client

    def _fetch_discovery(self) -> dict[str, Any]:
        url = discovery_url(self.issuer_url)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_seconds) as response:  # noqa: S310
                document = json.load(response)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise Unauthenticated(
                f"cannot read the identity provider's discovery document at {url}: {exc}"
            ) from exc
        if not isinstance(document, dict):
            raise Unauthenticated(f"the discovery document at {url} is not a JSON object")
        return document
