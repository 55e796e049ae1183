"""The development signing key: an Ed25519 key pair kept in a PEM file (mode 0600).

Only for development and the local stack: the first process that needs the key (a
service verifying, or ``bansosctl token`` minting) creates it, and every later one on the
same machine reads the same file, so they agree without configuration.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bansos_libs.secretfile import create_once

__all__ = [
    "generate_dev_key",
    "key_id",
    "load_or_create_dev_key",
    "load_private_key_pem",
    "private_key_pem",
    "public_jwk",
]


def generate_dev_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """``key`` as an unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def load_private_key_pem(pem: bytes | str, *, source: str = "the PEM") -> Ed25519PrivateKey:
    """Parse an unencrypted Ed25519 private key; ``ValueError`` naming ``source`` if it is
    not one."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{source} is not a readable unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{source} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as a JWK (``kty`` OKP, ``crv`` Ed25519), with ``kid``, ``alg``, ``use``."""
    raw = public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    return {**jwk, "kid": key_id(public_key), "alg": "EdDSA", "use": "sig"}


def key_id(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint of ``public_key``: a stable ``kid`` for it."""
    raw = public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def load_or_create_dev_key(path: Path | str) -> Ed25519PrivateKey:
    """Read the development key at ``path``, creating it (and its directory) on first use.

    The file is written with mode 0600 (directory 0700) and published atomically, so two
    processes starting at once end up with the same key.
    """
    target = Path(path).expanduser()
    if not target.exists():
        create_once(target, private_key_pem(generate_dev_key()))
    return load_private_key_pem(target.read_bytes(), source=str(target))
