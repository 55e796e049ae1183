"""``AuthSettings``, the development key file, and the factories built on them."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from bansos_libs.auth import (
    AuthSettings,
    Role,
    issuer_from_settings,
    load_or_create_dev_key,
    verifier_from_settings,
)
from bansos_libs.auth.keys import key_id, private_key_pem, public_jwk
from bansos_libs.auth.settings import default_dev_key_file, find_repo_root


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("BANSOS_AUTH_"):
            monkeypatch.delenv(name)
    yield


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nested" / "ed25519.pem"
    first = load_or_create_dev_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert _raw(load_or_create_dev_key(path)) == _raw(first)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "ed25519.pem"
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(_raw(load_or_create_dev_key(path)))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1


def test_a_file_that_is_not_an_ed25519_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.pem"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"bad\.pem is not a readable"):
        load_or_create_dev_key(path)


def test_defaults() -> None:
    settings = AuthSettings()
    assert settings.mode == "dev"
    assert settings.issuer == "bansos-dev"
    assert settings.audience == "bansos"
    assert settings.role_claim == "bansos_role"
    assert settings.region_claim == "bansos_region"
    assert settings.token_ttl_seconds == 8 * 3600
    assert settings.dev_key_file.name == "ed25519.pem"


def test_default_key_file_in_and_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / "services" / "payout").mkdir(parents=True)
    (repo / "uv.lock").write_text("")
    monkeypatch.chdir(repo / "services" / "payout")
    assert find_repo_root() == repo.resolve()
    assert default_dev_key_file() == repo.resolve() / ".local" / "dev-keys" / "ed25519.pem"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if find_repo_root() is None:  # unless some directory above the test's tmp has a uv.lock
        expected = tmp_path / "home" / ".config" / "bansos" / "dev-keys" / "ed25519.pem"
        assert default_dev_key_file() == expected


def test_settings_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSOS_AUTH_DEV_KEY_FILE", str(tmp_path / "k.pem"))
    monkeypatch.setenv("BANSOS_AUTH_ISSUER", "bansos-laptop")
    monkeypatch.setenv("BANSOS_AUTH_TOKEN_TTL_SECONDS", "120")
    settings = AuthSettings()
    assert settings.dev_key_file == tmp_path / "k.pem"
    issuer = issuer_from_settings(settings)
    claims = verifier_from_settings(settings).verify_claims(
        issuer.mint(role="AUDITOR", region="35")
    )
    assert claims["iss"] == "bansos-laptop"
    assert claims["exp"] - claims["iat"] == 120
    assert (tmp_path / "k.pem").exists()


def test_issuer_and_verifier_agree_through_the_key_file(tmp_path: Path) -> None:
    settings = AuthSettings(dev_key_file=tmp_path / "shared.pem")
    token = issuer_from_settings(settings).mint(role="PKH_FACILITATOR", region="35.17.01")
    # A second process on the same machine reads the same file.
    other_process = AuthSettings(dev_key_file=tmp_path / "shared.pem")
    assert verifier_from_settings(other_process).verify(token).role is Role.PKH_FACILITATOR


def test_private_key_from_environment_takes_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Ed25519PrivateKey.generate()
    monkeypatch.setenv("BANSOS_AUTH_DEV_PRIVATE_KEY", private_key_pem(key).decode())
    monkeypatch.setenv("BANSOS_AUTH_DEV_KEY_FILE", str(tmp_path / "unused.pem"))
    settings = AuthSettings()
    issuer = issuer_from_settings(settings)
    assert issuer.key_id == key_id(key.public_key())
    assert not (tmp_path / "unused.pem").exists()
    assert "PRIVATE KEY" not in repr(settings)  # a secret is never printed


def test_bad_private_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSOS_AUTH_DEV_PRIVATE_KEY", "not a pem")
    with pytest.raises(ValueError, match="BANSOS_AUTH_DEV_PRIVATE_KEY is not a readable"):
        issuer_from_settings(AuthSettings())


def test_oidc_mode_needs_an_issuer_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSOS_AUTH_MODE", "oidc")
    with pytest.raises(ValidationError, match="BANSOS_AUTH_OIDC_ISSUER_URL is required"):
        AuthSettings()
    monkeypatch.setenv("BANSOS_AUTH_OIDC_ISSUER_URL", "https://sso.kemensos.go.id/realms/bansos")
    settings = AuthSettings()
    with pytest.raises(ValueError, match="only be minted in dev mode"):
        issuer_from_settings(settings)
    verifier = verifier_from_settings(settings)  # nothing is fetched before the first token
    assert verifier.role_claims == ("bansos_role", "role")


def test_unknown_mode_and_unsafe_algorithms_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSOS_AUTH_MODE", "prod")
    with pytest.raises(ValidationError):
        AuthSettings()
    monkeypatch.setenv("BANSOS_AUTH_MODE", "oidc")
    monkeypatch.setenv("BANSOS_AUTH_OIDC_ISSUER_URL", "https://idp.example")
    monkeypatch.setenv("BANSOS_AUTH_OIDC_ALGORITHMS", '["RS256", "HS256"]')
    with pytest.raises(ValidationError, match="'HS256' may not be allowed"):
        AuthSettings()


def test_public_jwk_names_its_key() -> None:
    key = Ed25519PrivateKey.generate()
    jwk = public_jwk(key.public_key())
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert jwk["kid"] == key_id(key.public_key())
    assert "d" not in jwk
