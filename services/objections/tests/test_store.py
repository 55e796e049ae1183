"""The local evidence store: content-addressed files, written atomically."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bansos_objections.evidence import (
    EvidenceStoreError,
    LocalEvidenceStore,
    S3EvidenceStore,
    StoredEvidence,
    open_store,
)
from services.objections.tests.images import jpeg_bytes, png_bytes, webp_bytes


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_put_then_get_and_stat(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    data = png_bytes(seed=1)
    digest = hashlib.sha256(data).hexdigest()

    stored = store.put(data, "image/png")

    assert stored == StoredEvidence(digest, "image/png", len(data))
    assert files_under(tmp_path) == [tmp_path / digest[:2] / digest]
    assert store.get(digest) == (data, "image/png")
    assert store.stat(digest) == stored


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(jpeg_bytes(2), "image/jpeg"), (webp_bytes(2), "image/webp"), (b"%PDF-1.4", None)],
)
def test_the_media_type_is_read_back_from_the_content(
    tmp_path: Path, data: bytes, media_type: str | None
) -> None:
    store = LocalEvidenceStore(tmp_path)
    stored = store.put(data, "image/png")
    expected = media_type or "application/octet-stream"
    assert stored == StoredEvidence(hashlib.sha256(data).hexdigest(), expected, len(data))
    assert store.get(stored.content_hash) == (data, expected)
    assert store.stat(stored.content_hash) == stored


def test_storing_the_same_bytes_twice_is_harmless(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    first = store.put(jpeg_bytes(3), "image/jpeg")
    second = store.put(jpeg_bytes(3), "image/jpeg")
    other = store.put(jpeg_bytes(4), "image/jpeg")

    assert first == second
    assert other.content_hash != first.content_hash
    assert len(files_under(tmp_path)) == 2


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    for seed in range(5):
        store.put(png_bytes(seed=seed), "image/png")
        store.put(png_bytes(seed=seed), "image/png")
    names = [path.name for path in files_under(tmp_path)]
    assert len(names) == 5
    assert all(len(name) == 64 and not name.startswith(".") for name in names)


def test_a_failed_write_leaves_no_file_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_replace(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("bansos_objections.evidence.store.os.replace", no_replace)
    store = LocalEvidenceStore(tmp_path)
    with pytest.raises(OSError, match="disk full"):
        store.put(png_bytes(), "image/png")
    assert files_under(tmp_path) == []


def test_missing_evidence_is_none(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    absent = "0" * 64
    assert store.get(absent) is None
    assert store.stat(absent) is None


@pytest.mark.parametrize(
    "bad_hash",
    ["", "abc", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "../" + "0" * 61, "0" * 64 + "\n"],
)
def test_a_malformed_hash_is_refused(tmp_path: Path, bad_hash: str) -> None:
    store = LocalEvidenceStore(tmp_path)
    with pytest.raises(ValueError, match="not a content hash"):
        store.get(bad_hash)
    with pytest.raises(ValueError, match="not a content hash"):
        store.stat(bad_hash)


def test_a_corrupted_file_is_reported_not_served(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    stored = store.put(png_bytes(), "image/png")
    path = tmp_path / stored.content_hash[:2] / stored.content_hash
    path.write_bytes(png_bytes(seed=9))
    with pytest.raises(EvidenceStoreError, match="corrupt"):
        store.get(stored.content_hash)


def test_describe_names_the_folder(tmp_path: Path) -> None:
    assert LocalEvidenceStore(tmp_path).describe() == f"local folder {tmp_path}"


def test_open_store_is_local_without_an_s3_endpoint(tmp_path: Path) -> None:
    store = open_store(local_dir=tmp_path, s3_bucket="ignored")
    assert isinstance(store, LocalEvidenceStore)
    assert store.describe() == f"local folder {tmp_path}"


def test_open_store_is_s3_with_an_endpoint(tmp_path: Path) -> None:
    store = open_store(
        local_dir=tmp_path,
        s3_endpoint="http://127.0.0.1:9000/",
        s3_bucket="evidence",
        s3_access_key="key",
        s3_secret_key="very-secret",
    )
    assert isinstance(store, S3EvidenceStore)
    assert store.describe() == "s3 bucket evidence at http://127.0.0.1:9000"
    assert "very-secret" not in repr(vars(store))
    store.close()


@pytest.mark.parametrize("missing", ["s3_bucket", "s3_access_key", "s3_secret_key"])
def test_open_store_names_a_missing_s3_setting(tmp_path: Path, missing: str) -> None:
    settings = {"s3_bucket": "evidence", "s3_access_key": "key", "s3_secret_key": "secret"}
    settings[missing] = ""
    with pytest.raises(ValueError, match=missing):
        open_store(local_dir=tmp_path, s3_endpoint="http://127.0.0.1:9000", **settings)
