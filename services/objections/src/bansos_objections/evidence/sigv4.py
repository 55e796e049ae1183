"""AWS Signature Version 4 for S3-compatible requests (AWS S3, MinIO, moto).

Only what the evidence store needs: header-based signing with an explicit payload hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_PAYLOAD_HASH = hashlib.sha256(b"").hexdigest()
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Credentials:
    """An access key pair; the secret never appears in ``repr``."""

    access_key: str
    secret_key: str = field(repr=False)


def uri_encode(value: str, *, keep_slash: bool = False) -> str:
    """Percent-encode ``value`` as SigV4 wants: everything except ``A-Za-z0-9-._~``."""
    return quote(value, safe="/~" if keep_slash else "~")


def payload_hash(payload: bytes) -> str:
    """The lower-case hex SHA-256 of a request body, for ``x-amz-content-sha256``."""
    return hashlib.sha256(payload).hexdigest()


def sign(
    *,
    method: str,
    url: str,
    credentials: Credentials,
    region: str,
    service: str = "s3",
    headers: Mapping[str, str] | None = None,
    content_sha256: str = EMPTY_PAYLOAD_HASH,
    now: datetime | None = None,
) -> dict[str, str]:
    """Return the headers to send: ``headers`` plus Host, x-amz-date, x-amz-content-sha256
    and Authorization, with every one of them signed.

    ``url`` is the URL as sent, its path already percent-encoded (as by ``uri_encode``).
    """
    when = (now or datetime.now(UTC)).astimezone(UTC)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{when:%Y%m%d}/{region}/{service}/aws4_request"
    parts = urlsplit(url)
    to_send = dict(headers or {})
    to_send["Host"] = _host(parts.scheme, parts.hostname or "", parts.port)
    to_send["x-amz-date"] = amz_date
    to_send["x-amz-content-sha256"] = content_sha256
    canonical_headers = {name.lower(): " ".join(value.split()) for name, value in to_send.items()}
    signed = ";".join(sorted(canonical_headers))
    request = "\n".join(
        (
            method.upper(),
            uri_encode(unquote(parts.path or "/"), keep_slash=True),
            _canonical_query(parts.query),
            "".join(f"{name}:{canonical_headers[name]}\n" for name in sorted(canonical_headers)),
            signed,
            content_sha256,
        )
    )
    string_to_sign = "\n".join(
        (ALGORITHM, amz_date, scope, hashlib.sha256(request.encode()).hexdigest())
    )
    key = signing_key(credentials.secret_key, when.strftime("%Y%m%d"), region, service)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    to_send["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope},"
        f"SignedHeaders={signed},Signature={signature}"
    )
    return to_send


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """Derive the SigV4 signing key for one day (``YYYYMMDD``), region and service."""
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _host(scheme: str, hostname: str, port: int | None) -> str:
    if ":" in hostname:
        hostname = f"[{hostname}]"
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        return hostname
    return f"{hostname}:{port}"


def _canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(sorted(f"{uri_encode(name)}={uri_encode(value)}" for name, value in pairs))
