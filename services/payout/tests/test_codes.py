"""Collection codes: derived deterministically, checked forgivingly, never by accident."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import stat
from pathlib import Path

import pytest

from bansos_payout.codes import CodeSigner, load_code_key, load_or_create_code_key

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
PAYOUT = "BLTS_KESRA:2025-10..2025-12:HH1"
CODE_SHAPE = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$")


@pytest.fixture
def signer() -> CodeSigner:
    return CodeSigner(KEY)


def test_code_shape_and_derivation(signer: CodeSigner) -> None:
    code = signer.code_for(PAYOUT, 1)
    assert CODE_SHAPE.fullmatch(code)
    digest = hmac.new(KEY, f"{PAYOUT}\n1".encode(), hashlib.sha256).digest()[:10]
    assert code.replace("-", "") == base64.b32encode(digest).decode()


def test_deterministic(signer: CodeSigner) -> None:
    assert signer.code_for(PAYOUT, 1) == CodeSigner(KEY).code_for(PAYOUT, 1)


def test_differs_by_key_payout_and_attempt(signer: CodeSigner) -> None:
    codes = {
        signer.code_for(PAYOUT, 1),
        CodeSigner(OTHER_KEY).code_for(PAYOUT, 1),
        signer.code_for("BLTS_KESRA:2025-10..2025-12:HH2", 1),
        signer.code_for(PAYOUT, 2),
    }
    assert len(codes) == 4


def test_attempt_must_be_positive(signer: CodeSigner) -> None:
    for attempt in (0, -1):
        with pytest.raises(ValueError, match="attempt"):
            signer.code_for(PAYOUT, attempt)
    with pytest.raises(ValueError, match="payout id"):
        signer.code_for("", 1)


def test_check_accepts_the_code_written_loosely(signer: CodeSigner) -> None:
    code = signer.code_for(PAYOUT, 3)
    assert signer.check(PAYOUT, 3, code)
    assert signer.check(PAYOUT, 3, code.lower())
    assert signer.check(PAYOUT, 3, code.replace("-", ""))
    assert signer.check(PAYOUT, 3, f"  {code.replace('-', ' ').lower()}\n")


def test_check_rejects_other_codes(signer: CodeSigner) -> None:
    code = signer.code_for(PAYOUT, 2)
    assert not signer.check(PAYOUT, 1, code)  # an earlier attempt's payout
    assert not signer.check(PAYOUT, 3, code)
    assert not signer.check("BLTS_KESRA:2025-10..2025-12:HH2", 2, code)
    assert not CodeSigner(OTHER_KEY).check(PAYOUT, 2, code)
    assert not signer.check(PAYOUT, 2, code[:-1])
    assert not signer.check(PAYOUT, 2, code + "A")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        " ",
        "-",
        "x" * 100,
        "é" * 16,
        "\ud800" * 16,
        "\x00" * 16,
    ],
)
def test_check_rejects_garbage(signer: CodeSigner, garbage: str) -> None:
    assert signer.check(PAYOUT, 1, garbage) is False


def test_check_rejects_lookalikes_of_the_code(signer: CodeSigner) -> None:
    code = signer.code_for(PAYOUT, 1)
    fullwidth = "".join(chr(ord(char) + 0xFEE0) if char != "-" else char for char in code)
    assert signer.check(PAYOUT, 1, fullwidth) is False


def test_check_never_raises_on_bad_arguments(signer: CodeSigner) -> None:
    code = signer.code_for(PAYOUT, 1)
    assert signer.check(PAYOUT, 0, code) is False
    assert signer.check(PAYOUT, -5, code) is False
    assert signer.check("", 1, code) is False
    assert signer.check(PAYOUT, 10**5000, code) is False
    assert signer.check(PAYOUT, 1, None) is False  # type: ignore[arg-type]


def test_key_too_short() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        CodeSigner(b"k" * 31)


def test_fingerprint(signer: CodeSigner) -> None:
    assert signer.fingerprint == hashlib.sha256(KEY).hexdigest()[:8]
    assert signer.fingerprint != CodeSigner(OTHER_KEY).fingerprint
    assert KEY.hex() not in repr(signer)
    assert signer.fingerprint in repr(signer)


def test_load_code_key_raw_and_hex(tmp_path: Path) -> None:
    raw = tmp_path / "raw.key"
    raw.write_bytes(b"\xff" + KEY)
    assert load_code_key(raw) == b"\xff" + KEY
    text = tmp_path / "hex.key"
    text.write_text(KEY.hex().upper() + "\n", encoding="ascii")
    assert load_code_key(text) == KEY


@pytest.mark.parametrize("content", [b"\xff" * 31, b"ab" * 31, b"a" * 65, b""])
def test_load_code_key_rejects_short_keys(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "short.key"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"short\.key"):
        load_code_key(path)


def test_load_or_create_creates_once_and_reuses(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "codes.key"
    key = load_or_create_code_key(path)
    assert len(key) == 32
    assert path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_code_key(path) == key
    assert load_code_key(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["codes.key"]  # no temporary left
    assert load_or_create_code_key(tmp_path / "other.key") != key
