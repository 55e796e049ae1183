"""Evidence photos: only whole JPEG, PNG and WebP images of an acceptable size get through."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from bansos_objections.evidence import (
    ALLOWED_MEDIA_TYPES,
    EvidenceRejectedError,
    check_image,
    sniff_media_type,
)
from services.objections.tests.images import jpeg_bytes, png_bytes, webp_bytes

LIMIT = 5 * 1024 * 1024

BUILDERS: list[tuple[str, Callable[[], bytes]]] = [
    ("image/png", png_bytes),
    ("image/jpeg", jpeg_bytes),
    ("image/webp", webp_bytes),
]


def rejected(data: bytes, declared: str | None = None, limit: int = LIMIT) -> EvidenceRejectedError:
    with pytest.raises(EvidenceRejectedError) as caught:
        check_image(data, declared, limit)
    return caught.value


@pytest.mark.parametrize(("media_type", "build"), BUILDERS)
def test_a_valid_image_passes_declared_or_not(media_type: str, build: Callable[[], bytes]) -> None:
    data = build()
    assert check_image(data, None, LIMIT) == media_type
    assert check_image(data, media_type, LIMIT) == media_type
    assert check_image(data, f"{media_type.upper()}; charset=binary", LIMIT) == media_type
    assert check_image(data, "application/octet-stream", len(data)) == media_type
    assert sniff_media_type(data) == media_type
    assert media_type in ALLOWED_MEDIA_TYPES


def test_seeds_and_sizes_give_different_valid_images() -> None:
    images = [png_bytes(seed=1), png_bytes(seed=2), png_bytes(7, 5), jpeg_bytes(1), jpeg_bytes(2)]
    images += [webp_bytes(1), webp_bytes(2)]
    assert len(set(images)) == len(images)
    for data in images:
        check_image(data, None, LIMIT)


def test_the_common_image_jpg_alias_is_accepted() -> None:
    assert check_image(jpeg_bytes(), "image/jpg", LIMIT) == "image/jpeg"


def test_an_empty_file_is_refused() -> None:
    error = rejected(b"", "image/png")
    assert error.code == "EMPTY"
    assert "empty" in str(error)


def test_a_file_over_the_limit_is_refused_before_anything_else() -> None:
    error = rejected(b"%PDF" + b"\x00" * (6 * 1024 * 1024 - 4))
    assert error.code == "TOO_LARGE"
    assert str(error) == "the file is 6,291,456 bytes; at most 5,242,880 are accepted"


def test_a_file_exactly_at_the_limit_passes() -> None:
    data = png_bytes()
    assert check_image(data, None, len(data)) == "image/png"
    assert rejected(data, None, len(data) - 1).code == "TOO_LARGE"


def test_a_pdf_is_refused_as_the_wrong_type() -> None:
    error = rejected(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n", "image/jpeg")
    assert error.code == "WRONG_TYPE"
    assert "PDF" in str(error)
    assert "JPEG, PNG or WebP" in str(error)


def test_plain_text_is_refused_as_the_wrong_type() -> None:
    error = rejected(b"Surat keberatan: rumah kami layak menerima bantuan.\n")
    assert error.code == "WRONG_TYPE"
    assert "plain text" in str(error)


def test_declared_png_with_jpeg_content_is_a_mismatch() -> None:
    error = rejected(jpeg_bytes(), "image/png")
    assert error.code == "TYPE_MISMATCH"
    assert "image/png" in str(error)
    assert "JPEG" in str(error)


def test_declared_pdf_with_png_content_is_a_mismatch() -> None:
    assert rejected(png_bytes(), "application/pdf").code == "TYPE_MISMATCH"


def test_a_png_cut_anywhere_is_refused_as_truncated() -> None:
    data = png_bytes(4, 4, seed=3)
    for cut in range(8, len(data)):
        error = rejected(data[:cut], "image/png")
        assert error.code == "TRUNCATED", cut
        assert "PNG" in str(error)
        assert "truncated" in str(error)
    assert "ends before its IEND chunk" in str(rejected(data[:8]))


def test_a_png_with_a_flipped_byte_fails_its_crc() -> None:
    data = bytearray(png_bytes(4, 4, seed=3))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0x01
    error = rejected(bytes(data))
    assert error.code == "TRUNCATED"
    assert "IDAT" in str(error)
    assert "CRC" in str(error)


def test_a_png_with_bytes_after_iend_is_refused() -> None:
    error = rejected(png_bytes() + b"\x00\x00")
    assert error.code == "TRUNCATED"
    assert "2 stray bytes" in str(error)


def test_a_png_must_begin_with_ihdr() -> None:
    data = png_bytes()
    ihdr_end = 8 + 12 + 13
    error = rejected(data[:8] + data[ihdr_end:])
    assert error.code == "TRUNCATED"
    assert "IHDR" in str(error)


def test_a_jpeg_cut_anywhere_is_refused_as_truncated() -> None:
    data = jpeg_bytes(seed=4)
    for cut in range(3, len(data)):
        error = rejected(data[:cut], "image/jpeg")
        assert error.code == "TRUNCATED", cut
        assert "JPEG" in str(error)
    message = str(rejected(data[:-2]))
    assert "truncated" in message
    assert "end-of-image marker (FFD9)" in message


def test_a_jpeg_with_a_segment_length_past_the_end_is_refused() -> None:
    data = bytearray(jpeg_bytes())
    data[4:6] = struct.pack(">H", 0xFFF0)
    error = rejected(bytes(data))
    assert error.code == "TRUNCATED"
    assert "header segment" in str(error)


def test_a_webp_cut_anywhere_is_refused_as_truncated() -> None:
    data = webp_bytes(seed=5)
    for cut in range(12, len(data)):
        error = rejected(data[:cut], "image/webp")
        assert error.code == "TRUNCATED", cut
        assert "WebP" in str(error)
        assert "missing" in str(error)


def test_a_webp_whose_chunk_runs_past_the_end_is_refused() -> None:
    data = bytearray(webp_bytes())
    data[16:20] = struct.pack("<I", 1000)
    error = rejected(bytes(data))
    assert error.code == "TRUNCATED"
    assert "VP8L chunk" in str(error)


def test_a_webp_without_image_data_is_refused() -> None:
    body = b"WEBP" + b"EXIF" + struct.pack("<I", 2) + b"ab"
    error = rejected(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert error.code == "TRUNCATED"
    assert "no image data" in str(error)
