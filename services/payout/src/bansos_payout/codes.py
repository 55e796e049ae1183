"""Signed one-time collection codes: the barcode on a POS invitation letter.

A code is derived, never stored: the first 80 bits of
``HMAC-SHA256(key, f"{payout_id}\\n{attempt}")``, in RFC 4648 base32 (16 characters, no
padding), written as four groups of four (``ABCD-EFGH-IJKL-MNOP``). A payout that is
rerouted or reinstated gets a new attempt number, and with it a new code; the code of an
earlier attempt then no longer checks.

The key is a secret of at least 32 bytes kept in a file: :func:`load_code_key` reads one,
:func:`load_or_create_code_key` creates one for development.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from pathlib import Path

from bansos_libs.secretfile import create_once

__all__ = [
    "CODE_LENGTH",
    "MIN_KEY_BYTES",
    "CodeSigner",
    "load_code_key",
    "load_or_create_code_key",
]

MIN_KEY_BYTES = 32
"""The shortest accepted key, in bytes."""
CODE_LENGTH = 16
"""Characters of a code, separators not counted (10 bytes in base32)."""

_DIGEST_BYTES = 10
_GROUP = 4
_HEX_DIGITS = frozenset(string.hexdigits)
_MAX_INPUT = 64  # longer input cannot be a code, even with generous separators


class CodeSigner:
    """Derives and checks the collection codes of payouts with one secret key."""

    __slots__ = ("_fingerprint", "_key")

    def __init__(self, key: bytes) -> None:
        """Use ``key`` (at least 32 bytes); ``ValueError`` when it is shorter."""
        if not isinstance(key, bytes | bytearray):
            raise TypeError(f"a code key must be bytes, not {type(key).__name__}")
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"a code key must be at least {MIN_KEY_BYTES} bytes, got {len(key)}")
        self._key = bytes(key)
        self._fingerprint = hashlib.sha256(self._key).hexdigest()[:8]

    def __repr__(self) -> str:
        return f"CodeSigner(fingerprint={self._fingerprint!r})"

    @property
    def fingerprint(self) -> str:
        """The first 8 hex characters of SHA-256 of the key: names it without revealing it."""
        return self._fingerprint

    def code_for(self, payout_id: str, attempt: int) -> str:
        """The collection code of ``payout_id``'s attempt ``attempt`` (1 or more).

        Raises :class:`ValueError` for an empty payout id or an attempt below 1.
        """
        if not isinstance(payout_id, str) or not payout_id:
            raise ValueError(f"a payout id must be a non-empty string, got {payout_id!r}")
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
            raise ValueError(f"an attempt must be an integer of 1 or more, got {attempt!r}")
        message = f"{payout_id}\n{attempt}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:_DIGEST_BYTES]
        raw = base64.b32encode(digest).decode("ascii")
        return "-".join(raw[i : i + _GROUP] for i in range(0, CODE_LENGTH, _GROUP))

    def check(self, payout_id: str, attempt: int, code: str) -> bool:
        """Whether ``code`` is the code of ``payout_id``'s attempt ``attempt``.

        Case, whitespace and dashes are ignored. Never raises: any input that is not the
        right code, including garbage (non-ASCII text, an attempt below 1), gives ``False``.
        """
        if not isinstance(code, str) or len(code) > _MAX_INPUT or not code.isascii():
            return False
        try:
            expected = self.code_for(payout_id, attempt).replace("-", "")
        except ValueError:
            return False
        given = "".join(code.strip().upper().replace("-", " ").split())
        return hmac.compare_digest(given.encode("ascii"), expected.encode("ascii"))


def _parse_key(data: bytes, source: str) -> bytes:
    """A key from a file's content: hex text (64+ hex digits) or 32+ raw bytes."""
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        text = ""
    if text and all(char in _HEX_DIGITS for char in text):
        if len(text) < 2 * MIN_KEY_BYTES or len(text) % 2:
            raise ValueError(
                f"{source}: a hex key needs an even number of at least"
                f" {2 * MIN_KEY_BYTES} hex digits, got {len(text)}"
            )
        return bytes.fromhex(text)
    if len(data) < MIN_KEY_BYTES:
        raise ValueError(
            f"{source}: a code key needs at least {MIN_KEY_BYTES} bytes (or"
            f" {2 * MIN_KEY_BYTES} hex digits), got {len(data)} bytes"
        )
    return data


def load_code_key(path: Path) -> bytes:
    """Read the code key in ``path``: 32+ raw bytes, or hex text of 64+ hex digits.

    Raises :class:`ValueError` naming the file when it holds no usable key, and
    :class:`OSError` (e.g. :class:`FileNotFoundError`) when it cannot be read.
    """
    target = Path(path).expanduser()
    return _parse_key(target.read_bytes(), str(target))


def load_or_create_code_key(path: Path) -> bytes:
    """Read the code key at ``path``, creating it (and its directory) on first use.

    For development only: the key is 32 random bytes, written with mode 0600 (a new
    directory gets 0700) and published atomically, so two processes starting at once end
    up with the same key.
    """
    target = Path(path).expanduser()
    if not target.exists():
        create_once(target, secrets.token_bytes(MIN_KEY_BYTES))
    return load_code_key(target)
