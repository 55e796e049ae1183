"""Where evidence photos live: content-addressed by SHA-256, in a local folder or S3 bucket."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

import httpx

from bansos_objections.evidence.media import sniff_media_type
from bansos_objections.evidence.sigv4 import Credentials, payload_hash, sign, uri_encode

_HASH = re.compile(r"[0-9a-f]{64}")
_S3_ERROR_CODE = re.compile(rb"<Code>([^<]{1,200})</Code>")
_UNKNOWN_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class StoredEvidence:
    """One stored piece of evidence: its SHA-256 (lower-case hex), media type and size."""

    content_hash: str
    media_type: str
    size: int


class EvidenceStoreError(Exception):
    """The store failed (unreachable, refused, or returned corrupt content).

    ``status`` and ``code`` are the HTTP status and S3 error code when S3 answered.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class EvidenceStore(Protocol):
    """Evidence by content hash; storing the same bytes twice is harmless."""

    def put(self, data: bytes, media_type: str) -> StoredEvidence:
        """Store ``data`` (idempotent) and return what was stored."""
        ...

    def get(self, content_hash: str) -> tuple[bytes, str] | None:
        """The bytes and media type stored under ``content_hash``, or None."""
        ...

    def stat(self, content_hash: str) -> StoredEvidence | None:
        """What is stored under ``content_hash`` without its bytes, or None."""
        ...

    def describe(self) -> str:
        """Where the evidence is kept, for logs and operators (never a secret)."""
        ...


def content_hash_of(data: bytes) -> str:
    """The SHA-256 (lower-case hex) under which ``data`` is stored."""
    return hashlib.sha256(data).hexdigest()


def _checked_hash(content_hash: str) -> str:
    if not _HASH.fullmatch(content_hash):
        raise ValueError(
            f"{content_hash!r} is not a content hash (64 lower-case hexadecimal digits)"
        )
    return content_hash


def _verified(content_hash: str, data: bytes, where: str) -> bytes:
    actual = content_hash_of(data)
    if actual != content_hash:
        raise EvidenceStoreError(
            f"evidence {content_hash} in {where} is corrupt: its content hashes to {actual}"
        )
    return data


class LocalEvidenceStore:
    """Evidence as files ``root/ab/abcdef…`` (first two hex digits as the subfolder).

    Files are written to a temporary name in the same folder, flushed to disk and then
    renamed, so a crash never leaves a partial file under a content hash. The media type
    is read back from the content itself.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, content_hash: str) -> Path:
        checked = _checked_hash(content_hash)
        return self.root / checked[:2] / checked

    def put(self, data: bytes, media_type: str) -> StoredEvidence:
        """Store ``data`` unless a file of the same hash and size is already there.

        A file keeps no media type of its own, so ``media_type`` is not kept: the one
        returned here, by ``get`` and by ``stat`` is sniffed from the content (or
        ``application/octet-stream`` for content that is not a JPEG, PNG or WebP image).
        """
        content_hash = content_hash_of(data)
        path = self._path(content_hash)
        stored = StoredEvidence(content_hash, _media_type_of(data), len(data))
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_size == len(data):
                return stored
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{content_hash[:8]}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        _fsync_dir(path.parent)
        return stored

    def get(self, content_hash: str) -> tuple[bytes, str] | None:
        """The stored bytes (checked against their hash) and their sniffed media type."""
        path = self._path(content_hash)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        _verified(content_hash, data, self.describe())
        return data, _media_type_of(data)

    def stat(self, content_hash: str) -> StoredEvidence | None:
        """Size and sniffed media type of the stored file, or None."""
        path = self._path(content_hash)
        try:
            with path.open("rb") as file:
                head = file.read(16)
                size = os.fstat(file.fileno()).st_size
        except FileNotFoundError:
            return None
        return StoredEvidence(content_hash, _media_type_of(head), size)

    def describe(self) -> str:
        """``local folder <root>``."""
        return f"local folder {self.root}"


def _media_type_of(data: bytes) -> str:
    return sniff_media_type(data) or _UNKNOWN_MEDIA_TYPE


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3EvidenceStore:
    """Evidence as objects ``<prefix><hash>`` in an S3-compatible bucket (AWS, MinIO, moto).

    Requests go path-style (``endpoint/bucket/key``), signed with AWS Signature Version 4.
    """

    def __init__(
        self,
        endpoint_url: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        prefix: str = "evidence/",
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.bucket = bucket
        self.region = region
        self.prefix = prefix
        self._credentials = Credentials(access_key, secret_key)
        self._client = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __enter__(self) -> S3EvidenceStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def describe(self) -> str:
        """``s3 bucket <bucket> at <endpoint>``."""
        return f"s3 bucket {self.bucket} at {self.endpoint_url}"

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists already (and is ours)."""
        body = b""
        if self.region != "us-east-1":
            body = (
                b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                b"<LocationConstraint>" + self.region.encode() + b"</LocationConstraint>"
                b"</CreateBucketConfiguration>"
            )
        response = self._request("PUT", "", body=body)
        if response.status_code == 200:
            return
        if response.status_code == 409 and _error_code(response) == "BucketAlreadyOwnedByYou":
            return
        raise self._error("PUT", "", response)

    def put(self, data: bytes, media_type: str) -> StoredEvidence:
        """Upload ``data`` unless an object of that hash is there already."""
        content_hash = content_hash_of(data)
        existing = self.stat(content_hash)
        if existing is not None:
            return existing
        key = self.prefix + content_hash
        response = self._request("PUT", key, body=data, headers={"Content-Type": media_type})
        if response.status_code != 200:
            raise self._error("PUT", key, response)
        return StoredEvidence(content_hash, media_type, len(data))

    def get(self, content_hash: str) -> tuple[bytes, str] | None:
        """The object's bytes (checked against their hash) and its Content-Type, or None."""
        key = self.prefix + _checked_hash(content_hash)
        response = self._request("GET", key)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error("GET", key, response)
        data = _verified(content_hash, response.content, self.describe())
        return data, response.headers.get("Content-Type", _UNKNOWN_MEDIA_TYPE)

    def stat(self, content_hash: str) -> StoredEvidence | None:
        """The object's size and Content-Type (a HEAD request), or None."""
        key = self.prefix + _checked_hash(content_hash)
        response = self._request("HEAD", key)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error("HEAD", key, response)
        return StoredEvidence(
            content_hash,
            response.headers.get("Content-Type", _UNKNOWN_MEDIA_TYPE),
            int(response.headers.get("Content-Length", "0")),
        )

    def _url(self, key: str) -> str:
        path = uri_encode(self.bucket) + ("/" + uri_encode(key, keep_slash=True) if key else "")
        return f"{self.endpoint_url}/{path}"

    def _request(
        self,
        method: str,
        key: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        url = self._url(key)
        signed = sign(
            method=method,
            url=url,
            credentials=self._credentials,
            region=self.region,
            headers=headers,
            content_sha256=payload_hash(body),
        )
        try:
            return self._client.request(method, url, content=body or None, headers=signed)
        except httpx.HTTPError as error:
            raise EvidenceStoreError(
                f"could not reach {self.describe()} ({method} {key or '/'}): {error}"
            ) from error

    def _error(self, method: str, key: str, response: httpx.Response) -> EvidenceStoreError:
        code = _error_code(response)
        target = f"{self.bucket}/{key}" if key else self.bucket
        detail = f" ({code})" if code else ""
        return EvidenceStoreError(
            f"{self.describe()}: {method} {target} failed with HTTP {response.status_code}{detail}",
            status=response.status_code,
            code=code,
        )


def _error_code(response: httpx.Response) -> str | None:
    match = _S3_ERROR_CODE.search(response.content)
    return match.group(1).decode("utf-8", "replace") if match else None


def open_store(
    *,
    local_dir: Path,
    s3_endpoint: str | None = None,
    s3_bucket: str | None = None,
    s3_access_key: str | None = None,
    s3_secret_key: str | None = None,
    s3_region: str = "us-east-1",
) -> EvidenceStore:
    """The S3 store when ``s3_endpoint`` is set (bucket and both keys then required),
    else the local folder ``local_dir``."""
    if not s3_endpoint:
        return LocalEvidenceStore(local_dir)
    required = {
        "s3_bucket": s3_bucket,
        "s3_access_key": s3_access_key,
        "s3_secret_key": s3_secret_key,
    }
    missing = [name for name, value in required.items() if not value]
    if missing:
        raise ValueError(
            f"s3_endpoint is set, so {', '.join(missing)} must be set too "
            "(or leave s3_endpoint unset to keep evidence in a local folder)"
        )
    assert s3_bucket and s3_access_key and s3_secret_key
    return S3EvidenceStore(s3_endpoint, s3_bucket, s3_access_key, s3_secret_key, region=s3_region)
