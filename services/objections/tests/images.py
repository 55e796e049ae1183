"""Tiny valid JPEG, PNG and WebP images built in pure Python, for the evidence tests.

``seed`` changes the pixels, so images built with different seeds hash differently.
"""

from __future__ import annotations

import hashlib
import struct
import zlib


def _noise(seed: int, size: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return out[:size]


def _png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(chunk_type + payload)
    return struct.pack(">I", len(payload)) + chunk_type + payload + struct.pack(">I", crc)


def png_bytes(width: int = 2, height: int = 2, seed: int = 0) -> bytes:
    """An 8-bit RGB PNG of ``width`` x ``height`` pixels with correct CRCs."""
    pixels = _noise(seed, width * height * 3)
    rows = b"".join(
        b"\x00" + pixels[row * width * 3 : (row + 1) * width * 3] for row in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_bytes(seed: int = 0) -> bytes:
    """A baseline greyscale JPEG of 16 x 8 pixels (two blocks, each one flat shade).

    Both Huffman tables hold a single one-bit code: the DC table for difference category 4
    and the AC table for end-of-block, so each block is coded in six bits.
    """
    noise = _noise(seed, 66)
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\x00" + bytes(1 + b % 16 for b in noise[:64])
    sof0 = b"\x08" + struct.pack(">HH", 8, 16) + b"\x01" + b"\x01\x11\x00"
    counts_one_code_of_length_1 = b"\x01" + b"\x00" * 15
    dht = (
        b"\x00"
        + counts_one_code_of_length_1
        + b"\x04"
        + b"\x10"
        + counts_one_code_of_length_1
        + b"\x00"
    )
    sos = b"\x01" + b"\x01\x00" + b"\x00\x3f\x00"
    bits = ""
    for value in (8 + noise[64] % 8, 8 + noise[65] % 8):
        bits += "0" + format(value, "04b") + "0"
    bits += "1" * (-len(bits) % 8)
    scan = bytearray()
    for start in range(0, len(bits), 8):
        byte = int(bits[start : start + 8], 2)
        scan.append(byte)
        if byte == 0xFF:
            scan.append(0x00)
    return (
        b"\xff\xd8"
        + _jpeg_segment(0xE0, app0)
        + _jpeg_segment(0xDB, dqt)
        + _jpeg_segment(0xC0, sof0)
        + _jpeg_segment(0xC4, dht)
        + _jpeg_segment(0xDA, sos)
        + bytes(scan)
        + b"\xff\xd9"
    )


class _BitWriter:
    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def write(self, value: int, width: int) -> None:
        self.value |= value << self.count
        self.count += width

    def to_bytes(self) -> bytes:
        return self.value.to_bytes((self.count + 7) // 8, "little")


def webp_bytes(seed: int = 0) -> bytes:
    """A lossless (VP8L) WebP of 4 x 4 pixels in one colour chosen by ``seed``.

    Each of the five prefix codes is a "simple" code with a single symbol, so the pixels
    themselves take no bits at all.
    """
    red, green, blue = _noise(seed, 3)
    bits = _BitWriter()
    bits.write(0x2F, 8)
    bits.write(4 - 1, 14)
    bits.write(4 - 1, 14)
    bits.write(0, 1)  # alpha_is_used
    bits.write(0, 3)  # version
    bits.write(0, 1)  # no transform
    bits.write(0, 1)  # no colour cache
    bits.write(0, 1)  # no meta prefix codes
    for symbol in (green, red, blue, 0xFF, 0):
        bits.write(1, 1)  # simple code
        bits.write(0, 1)  # one symbol
        bits.write(1, 1)  # eight-bit symbol
        bits.write(symbol, 8)
    payload = bits.to_bytes()
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)
    body = b"WEBP" + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body
