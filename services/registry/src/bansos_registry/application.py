"""The registry's event-sourced application, its settings and its keyed NIK hash.

Every stored registry event is encrypted at rest (AES, the eventsourcing library's
cipher) because household events carry KK and NIK numbers, names and addresses. The key
comes from ``BANSOS_CIPHER_KEY``; without it (development only) a key is created once in
``.local/dev-keys/registry-cipher.key`` and a warning is logged.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from eventsourcing.cryptography import AESCipher
from pydantic import SecretStr

from bansos_libs.eventstore import ServiceApplication
from bansos_libs.logs import get_logger
from bansos_libs.secretfile import create_once
from bansos_libs.settings import ServiceSettings, repo_root

log = get_logger("bansos.registry")


class RegistryApplication(ServiceApplication):
    """The register of households: ``Household`` and ``SnapshotImport`` aggregates."""

    service = "registry"


def dev_cipher_key(folder: Path | None = None) -> str:
    """The development cipher key, created on first use (never for production)."""
    path = (folder or repo_root() / ".local" / "dev-keys") / "registry-cipher.key"
    create_once(path, AESCipher.create_key(32).encode())
    return path.read_text().strip()


def registry_settings(settings: ServiceSettings | None = None) -> ServiceSettings:
    """Settings of the registry, with a cipher key always present."""
    settings = settings or ServiceSettings(service="registry")
    if settings.cipher_key is None:
        log.warning("registry.dev_cipher_key", hint="set BANSOS_CIPHER_KEY in production")
        settings = settings.model_copy(update={"cipher_key": SecretStr(dev_cipher_key())})
    return settings


class NikHasher:
    """A keyed hash of a NIK: finds a household by NIK without storing the NIK in clear."""

    def __init__(self, cipher_key: SecretStr) -> None:
        self._key = hmac.new(
            cipher_key.get_secret_value().encode(), b"bansos nik hash v1", hashlib.sha256
        ).digest()

    def __call__(self, nik: str) -> str:
        return hmac.new(self._key, nik.encode(), hashlib.sha256).hexdigest()[:32]
