"""The S3 evidence store against a real S3-compatible HTTP server (moto), with SigV4 checked."""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bansos_objections.evidence import EvidenceStoreError, S3EvidenceStore, StoredEvidence
from bansos_objections.evidence.sigv4 import Credentials, sign
from services.objections.tests.images import jpeg_bytes, png_bytes, webp_bytes

ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _moto_server() -> str | None:
    beside_python = Path(sys.executable).with_name("moto_server")
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("moto_server")


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        try:
            if httpx.get(f"{endpoint}/moto-api/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"moto_server did not answer at {endpoint} within 30 s")


def _iam(endpoint: str, action: str, **params: str) -> str:
    body = httpx.QueryParams({"Action": action, "Version": "2010-05-08", **params})
    content = str(body).encode()
    headers = sign(
        method="POST",
        url=f"{endpoint}/",
        credentials=Credentials("AKIASETUPSETUPSETUP0", "setup"),
        region="us-east-1",
        service="iam",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content_sha256=hashlib.sha256(content).hexdigest(),
    )
    response = httpx.post(f"{endpoint}/", content=content, headers=headers)
    response.raise_for_status()
    return response.text


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A moto server that checks every S3 request's signature against an IAM user's key.

    moto checks signatures only after its first INITIAL_NO_AUTH_ACTION_COUNT actions; the
    count is set to three, spent on creating the IAM user, its policy and its access key.
    """
    executable = _moto_server()
    if executable is None:
        pytest.skip("moto_server is not installed (dev dependency moto[server])")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_until_up(endpoint, process)
        httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"3").raise_for_status()
        _iam(endpoint, "CreateUser", UserName="objections")
        _iam(
            endpoint,
            "PutUserPolicy",
            UserName="objections",
            PolicyName="evidence",
            PolicyDocument=ALLOW_ALL,
        )
        created = _iam(endpoint, "CreateAccessKey", UserName="objections")
        access_key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", created)
        secret_key = re.search(r"<SecretAccessKey>([^<]+)</SecretAccessKey>", created)
        assert access_key and secret_key, created
        yield S3Server(endpoint, access_key.group(1), secret_key.group(1))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class RecordingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.methods: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.methods.append(request.method)
        return super().handle_request(request)


def make_store(
    server: S3Server,
    bucket: str,
    *,
    secret_key: str | None = None,
    access_key: str | None = None,
    region: str = "us-east-1",
    transport: httpx.BaseTransport | None = None,
) -> S3EvidenceStore:
    return S3EvidenceStore(
        server.endpoint,
        bucket,
        access_key or server.access_key,
        secret_key or server.secret_key,
        region=region,
        transport=transport,
    )


def test_put_get_stat_round_trip(s3_server: S3Server) -> None:
    with make_store(s3_server, "evidence-round-trip") as store:
        store.ensure_bucket()
        data = png_bytes(seed=11)
        stored = store.put(data, "image/png")

        assert stored == StoredEvidence(hashlib.sha256(data).hexdigest(), "image/png", len(data))
        assert store.get(stored.content_hash) == (data, "image/png")
        assert store.stat(stored.content_hash) == stored


def test_objects_live_under_the_prefix(s3_server: S3Server) -> None:
    with make_store(s3_server, "evidence-prefix") as store:
        store.ensure_bucket()
        stored = store.put(webp_bytes(seed=3), "image/webp")
        url = f"{s3_server.endpoint}/evidence-prefix/evidence/{stored.content_hash}"
        credentials = Credentials(s3_server.access_key, s3_server.secret_key)
        headers = sign(method="GET", url=url, credentials=credentials, region="us-east-1")
        response = httpx.get(url, headers=headers)
        assert response.status_code == 200
        assert response.content == webp_bytes(seed=3)
        assert response.headers["Content-Type"] == "image/webp"


def test_storing_the_same_bytes_twice_uploads_once(s3_server: S3Server) -> None:
    transport = RecordingTransport()
    with make_store(s3_server, "evidence-twice", transport=transport) as store:
        store.ensure_bucket()
        transport.methods.clear()
        first = store.put(jpeg_bytes(seed=5), "image/jpeg")
        second = store.put(jpeg_bytes(seed=5), "image/jpeg")

        assert first == second
        assert transport.methods == ["HEAD", "PUT", "HEAD"]


def test_missing_evidence_is_none(s3_server: S3Server) -> None:
    with make_store(s3_server, "evidence-missing") as store:
        store.ensure_bucket()
        assert store.get("0" * 64) is None
        assert store.stat("0" * 64) is None


def test_a_malformed_hash_is_refused_before_any_request(s3_server: S3Server) -> None:
    transport = RecordingTransport()
    with make_store(s3_server, "evidence-missing", transport=transport) as store:
        with pytest.raises(ValueError, match="not a content hash"):
            store.get("../../other-bucket/key")
        assert transport.methods == []


def test_ensure_bucket_twice_is_fine(s3_server: S3Server) -> None:
    with make_store(s3_server, "evidence-ensure") as store:
        store.ensure_bucket()
        store.ensure_bucket()
        assert store.stat("0" * 64) is None


def test_a_bucket_outside_us_east_1(s3_server: S3Server) -> None:
    with make_store(s3_server, "evidence-jakarta", region="ap-southeast-3") as store:
        store.ensure_bucket()
        store.ensure_bucket()
        stored = store.put(png_bytes(seed=12), "image/png")
        assert store.get(stored.content_hash) == (png_bytes(seed=12), "image/png")


def test_a_missing_bucket_is_an_error_with_the_s3_code(s3_server: S3Server) -> None:
    store = make_store(s3_server, "evidence-never-created")
    with store, pytest.raises(EvidenceStoreError) as caught:
        store.put(png_bytes(), "image/png")
    assert caught.value.status == 404
    assert caught.value.code == "NoSuchBucket"
    assert "NoSuchBucket" in str(caught.value)


def test_a_wrong_secret_key_is_refused_and_never_echoed(s3_server: S3Server) -> None:
    wrong = "not-the-secret-key-0123456789"
    store = make_store(s3_server, "evidence-round-trip", secret_key=wrong)
    with store, pytest.raises(EvidenceStoreError) as caught:
        store.ensure_bucket()
    assert caught.value.status == 403
    assert caught.value.code == "SignatureDoesNotMatch"
    assert wrong not in str(caught.value)
    assert s3_server.secret_key not in str(caught.value)


def test_an_unknown_access_key_is_refused(s3_server: S3Server) -> None:
    store = make_store(s3_server, "evidence-round-trip", access_key="AKIAUNKNOWNUNKNOWN00")
    with store, pytest.raises(EvidenceStoreError) as caught:
        store.get("0" * 64)
    assert caught.value.status == 403
    assert caught.value.code == "InvalidAccessKeyId"


def test_an_unreachable_endpoint_is_an_evidence_store_error() -> None:
    store = S3EvidenceStore(f"http://127.0.0.1:{_free_port()}", "b", "key", "secret", timeout=2)
    with store, pytest.raises(EvidenceStoreError, match="could not reach s3 bucket b"):
        store.stat("0" * 64)


def test_sigv4_matches_the_published_s3_get_object_example() -> None:
    headers = sign(
        method="GET",
        url="https://examplebucket.s3.amazonaws.com/test.txt",
        credentials=Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region="us-east-1",
        headers={"Range": "bytes=0-9"},
        now=datetime(2013, 5, 24, tzinfo=UTC),
    )
    assert headers["x-amz-date"] == "20130524T000000Z"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_credentials_never_show_the_secret() -> None:
    assert "wJalr" not in repr(Credentials("AKIA", "wJalrXUtnFEMI"))
