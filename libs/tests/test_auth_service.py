"""Service-to-service tokens."""

from __future__ import annotations

from pathlib import Path

from bansos_libs.auth import AuthSettings, Role, verifier_from_settings
from bansos_libs.auth.service import ServiceTokens


def test_a_development_service_token_is_a_system_token(tmp_path: Path) -> None:
    auth = AuthSettings(dev_key_file=tmp_path / "key.pem")
    tokens = ServiceTokens("eligibility", auth=auth)
    principal = verifier_from_settings(auth).verify(tokens())
    assert principal.role is Role.SYSTEM
    assert principal.subject == "eligibility"
    assert tokens() == tokens()  # cached, not minted per call


def test_a_configured_token_is_used_as_given() -> None:
    assert ServiceTokens("eligibility", token="abc")() == "abc"
