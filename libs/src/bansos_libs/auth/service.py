"""Tokens a service presents when it calls another service's HTTP API.

In production the token comes from the identity provider (client credentials) and is
handed to the service as a setting; in development (``BANSOS_AUTH_MODE=dev``) a SYSTEM
token is minted with the local development key, and minted again before it expires.
"""

from __future__ import annotations

import threading
import time

from bansos_libs.auth.principal import Principal
from bansos_libs.auth.settings import AuthSettings, issuer_from_settings

__all__ = ["ServiceTokens"]


class ServiceTokens:
    """A source of bearer tokens for ``service``: a fixed one, or minted in development."""

    def __init__(
        self, service: str, token: str | None = None, auth: AuthSettings | None = None
    ) -> None:
        self.service = service
        self._fixed = token
        self._auth = auth
        self._minted: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        """A token valid now."""
        if self._fixed is not None:
            return self._fixed
        with self._lock:
            now = time.monotonic()
            if self._minted is None or self._minted[1] <= now:
                auth = self._auth or AuthSettings()
                issuer = issuer_from_settings(auth)
                token = issuer.mint_for(Principal.system(self.service))
                # Mint again after half the lifetime: never present an almost-expired token.
                self._minted = (token, now + auth.token_ttl_seconds / 2)
            return self._minted[0]
