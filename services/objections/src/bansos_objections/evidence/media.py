"""Checks on uploaded evidence photos: size, real image type, declared type and structure.

The structure checks walk the file format by hand (no imaging library), so a photo cut
short by a dropped connection or damaged on the way is refused before it is stored.
"""

from __future__ import annotations

import struct
import zlib

ALLOWED_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")

EMPTY = "EMPTY"
TOO_LARGE = "TOO_LARGE"
WRONG_TYPE = "WRONG_TYPE"
TYPE_MISMATCH = "TYPE_MISMATCH"
TRUNCATED = "TRUNCATED"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
_UNDECLARED = frozenset({"", "application/octet-stream"})
_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}
_JPEG_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_SOS = 0xDA
_JPEG_EOI = 0xD9
_JPEG_SOI = 0xD8
_WEBP_IMAGE_CHUNKS = frozenset({b"VP8 ", b"VP8L", b"VP8X"})


class EvidenceRejectedError(ValueError):
    """An uploaded file is not an acceptable evidence image.

    ``code`` is one of ``EMPTY``, ``TOO_LARGE``, ``WRONG_TYPE``, ``TYPE_MISMATCH`` and
    ``TRUNCATED``; the message says what is wrong in words meant for a person.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def sniff_media_type(data: bytes) -> str | None:
    """Return the image media type the content starts like (by magic bytes), or None."""
    if data.startswith(_JPEG_SIGNATURE):
        return "image/jpeg"
    if data.startswith(_PNG_SIGNATURE):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_image(data: bytes, declared_type: str | None, max_bytes: int) -> str:
    """Return the media type of an acceptable evidence image, or raise EvidenceRejectedError.

    ``declared_type`` is the Content-Type the uploader sent (parameters are ignored; None,
    empty or ``application/octet-stream`` mean it declared none). The checks run in order:
    empty, larger than ``max_bytes``, not a JPEG, PNG or WebP by content, content differs
    from the declared type, and finally a walk of the file's structure that refuses files
    cut short or damaged.
    """
    if not data:
        raise EvidenceRejectedError(EMPTY, "the file is empty")
    if len(data) > max_bytes:
        raise EvidenceRejectedError(
            TOO_LARGE, f"the file is {len(data):,} bytes; at most {max_bytes:,} are accepted"
        )
    media_type = sniff_media_type(data)
    if media_type is None:
        raise EvidenceRejectedError(
            WRONG_TYPE,
            f"the file is {_describe_content(data)}, not a JPEG, PNG or WebP image",
        )
    declared = _normalise_declared(declared_type)
    if declared is not None and declared != media_type:
        raise EvidenceRejectedError(
            TYPE_MISMATCH,
            f"the file was sent as {declared} but its content is a {_NAMES[media_type]} image",
        )
    if media_type == "image/png":
        _check_png(data)
    elif media_type == "image/jpeg":
        _check_jpeg(data)
    else:
        _check_webp(data)
    return media_type


def _normalise_declared(declared_type: str | None) -> str | None:
    if declared_type is None:
        return None
    declared = declared_type.split(";", 1)[0].strip().lower()
    if declared in _UNDECLARED:
        return None
    return _TYPE_ALIASES.get(declared, declared)


def _describe_content(data: bytes) -> str:
    if data.startswith(b"%PDF-"):
        return "a PDF document"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image"
    if data.startswith(b"PK\x03\x04"):
        return "a ZIP archive (or an office document)"
    head = data[:4096]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character may be cut at the end of the sample.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "of an unknown type"
    if all(ch.isprintable() or ch in "\t\r\n\f" for ch in text):
        return "plain text"
    return "of an unknown type"


def _damaged(kind: str, problem: str) -> EvidenceRejectedError:
    return EvidenceRejectedError(TRUNCATED, f"the {kind} file is {problem}")


def _check_png(data: bytes) -> None:
    pos = len(_PNG_SIGNATURE)
    first = True
    seen_idat = False
    while True:
        if pos + 8 > len(data):
            raise _damaged("PNG", "truncated: it ends before its IEND chunk")
        length, chunk_type = struct.unpack_from(">I4s", data, pos)
        name = chunk_type.decode("latin-1")
        if length > 0x7FFFFFFF or not chunk_type.isalpha():
            raise _damaged("PNG", f"damaged: the chunk at byte {pos:,} has an invalid header")
        end = pos + 12 + length
        if end > len(data):
            raise _damaged(
                "PNG", f"truncated: it ends inside its {name} chunk, before its IEND chunk"
            )
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(data[pos + 4 : end - 4]) != crc:
            raise _damaged("PNG", f"damaged: its {name} chunk at byte {pos:,} fails its CRC check")
        if first and (chunk_type != b"IHDR" or length != 13):
            raise _damaged("PNG", "damaged: it does not begin with an IHDR chunk")
        first = False
        seen_idat = seen_idat or chunk_type == b"IDAT"
        if chunk_type == b"IEND":
            if not seen_idat:
                raise _damaged("PNG", "damaged: it has no image data (IDAT chunk)")
            if end != len(data):
                raise _damaged(
                    "PNG", f"damaged: {len(data) - end:,} stray bytes follow its IEND chunk"
                )
            return
        pos = end


def _check_jpeg(data: bytes) -> None:
    pos = 2
    while True:
        if pos >= len(data):
            raise _damaged("JPEG", "truncated: it ends before its image data")
        if data[pos] != 0xFF:
            raise _damaged("JPEG", f"damaged: no marker where one belongs at byte {pos:,}")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos >= len(data):
            raise _damaged("JPEG", "truncated: it ends before its image data")
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE_MARKERS:
            continue
        if marker in (_JPEG_SOI, _JPEG_EOI, 0x00):
            raise _damaged(
                "JPEG", f"damaged: unexpected marker FF{marker:02X} before its image data"
            )
        if pos + 2 > len(data):
            raise _damaged("JPEG", "truncated: it ends before its image data")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:
            raise _damaged(
                "JPEG", f"damaged: the segment at byte {pos - 2:,} has an invalid length"
            )
        pos += length
        if pos > len(data):
            raise _damaged("JPEG", "truncated: it ends inside a header segment")
        if marker == _JPEG_SOS:
            break
    if len(data) < pos + 2 or data[-2:] != b"\xff\xd9":
        raise _damaged("JPEG", "truncated: it does not end with the end-of-image marker (FFD9)")


def _check_webp(data: bytes) -> None:
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size > len(data) - 8:
        missing = riff_size - (len(data) - 8)
        raise _damaged("WebP", f"truncated: {missing:,} bytes of it are missing")
    if riff_size < len(data) - 8:
        extra = len(data) - 8 - riff_size
        raise _damaged("WebP", f"damaged: {extra:,} stray bytes follow its declared end")
    pos = 12
    seen_image = False
    while pos < len(data):
        if pos + 8 > len(data):
            raise _damaged("WebP", f"damaged: a chunk header is cut off at byte {pos:,}")
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        end = pos + 8 + size + (size & 1)
        if end > len(data):
            name = fourcc.decode("latin-1")
            raise _damaged("WebP", f"truncated: it ends inside its {name.strip()} chunk")
        seen_image = seen_image or fourcc in _WEBP_IMAGE_CHUNKS
        pos = end
    if not seen_image:
        raise _damaged("WebP", "damaged: it has no image data (VP8, VP8L or VP8X chunk)")
