"""Matching a citizen's own account of who they are against the register.

The public Cek Bansos status check asks a citizen for their NIK, their name as written
on their KTP and their village. The registry confirms a household only when all three
agree with the register; these pure helpers compare the name tolerantly (case, spacing
and punctuation do not matter) and mask the registered name before it leaves the
service. Nothing here does HTTP or SQL.
"""

from __future__ import annotations

import hmac
import unicodedata

__all__ = ["mask_name", "names_match", "normalize_name"]

MASK = "*"


def _is_punctuation(char: str) -> bool:
    """Whether ``char`` is Unicode punctuation (``.``, ``,``, ``'``, ``-``, U+2019 ...)."""
    return unicodedata.category(char).startswith("P")


def normalize_name(name: str) -> str:
    """A name in the canonical form used to compare names.

    Unicode NFKC (so full-width and compatibility characters become their plain forms),
    upper case, every punctuation character (``.``, ``,``, ``'``, ``-`` and the like)
    replaced by a space, and runs of whitespace collapsed to one space with none at
    either end. ``normalize_name("Siti  Aminah.") == "SITI AMINAH"``.
    """
    text = unicodedata.normalize("NFKC", name).upper()
    text = "".join(" " if _is_punctuation(char) else char for char in text)
    return " ".join(text.split())


def names_match(given: str, registered: str) -> bool:
    """Whether ``given`` names the same person as ``registered`` once both are normalized.

    The comparison takes the same time wherever the names first differ
    (``hmac.compare_digest``). A name that normalizes to nothing matches nothing.
    """
    left = normalize_name(given)
    right = normalize_name(registered)
    if not left or not right:
        return False
    return hmac.compare_digest(left.encode(), right.encode())


def _mask_word(word: str) -> str:
    keep = 1 if len(word) <= 3 else 2
    return word[:keep] + MASK * (len(word) - keep)


def mask_name(name: str) -> str:
    """The normalized name with each word masked, safe to show to whoever asked.

    Each word keeps its first two letters (one letter for words of three letters or
    fewer) and the rest become ``*``: ``"SUTRISNO WIBOWO"`` → ``"SU****** WI****"``,
    ``"ANI"`` → ``"A**"``.
    """
    return " ".join(_mask_word(word) for word in normalize_name(name).split(" ") if word)
