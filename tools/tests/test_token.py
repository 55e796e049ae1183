"""``bansosctl token``: mints a development token that the services accept."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bansos_libs.auth import AuthSettings, RegionCode, Role, verifier_from_settings
from bansosctl import token as token_command
from bansosctl.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _dev_key_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test has its own development key file, as a fresh machine would."""
    for name in list(os.environ):
        if name.startswith("BANSOS_AUTH_"):
            monkeypatch.delenv(name)
    key_file = tmp_path / "dev-keys" / "ed25519.pem"
    monkeypatch.setenv("BANSOS_AUTH_DEV_KEY_FILE", str(key_file))
    yield key_file


def test_prints_only_a_token_that_verifies(_dev_key_in_tmp: Path) -> None:
    result = runner.invoke(app, ["token", "--role", "REGENCY_OFFICER", "--region", "35.17"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    assert token.count(".") == 2
    assert _dev_key_in_tmp.exists()
    principal = verifier_from_settings(AuthSettings()).verify(token)
    assert principal.role is Role.REGENCY_OFFICER
    assert principal.region == RegionCode("35.17")
    assert principal.subject == "dev:regency_officer:35.17"


def test_role_is_case_insensitive_and_options_are_used() -> None:
    arguments = [
        "token", "--role", "village_operator", "--region", "35.17.01.2001",
        "--subject", "operator-desa-1", "--name", "Siti", "--ttl", "600",
    ]  # fmt: skip
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    claims = verifier_from_settings(AuthSettings()).verify_claims(result.stdout.strip())
    assert claims["role"] == "VILLAGE_OPERATOR"
    assert claims["sub"] == "operator-desa-1"
    assert claims["name"] == "Siti"
    assert claims["exp"] - claims["iat"] == 600


def test_national_scope() -> None:
    result = runner.invoke(app, ["token", "--role", "ministry_officer", "--region", "ID"])
    assert result.exit_code == 0, result.output
    principal = verifier_from_settings(AuthSettings()).verify(result.stdout.strip())
    assert principal.region.is_national


@pytest.mark.parametrize(
    ("role", "region", "message"),
    [
        ("BUPATI", "35.17", "unknown role 'BUPATI'"),
        ("REGENCY_OFFICER", "35.1", "invalid region code '35.1'"),
        ("REGENCY_OFFICER", "3517", "write it with dots"),
        ("VILLAGE_OPERATOR", "35.17", "not valid for role VILLAGE_OPERATOR"),
    ],
)
def test_bad_role_or_region_exits_2_with_a_message_on_stderr(
    role: str, region: str, message: str, _dev_key_in_tmp: Path
) -> None:
    result = runner.invoke(app, ["token", "--role", role, "--region", region])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert result.stderr.startswith("bansosctl token: ")
    assert not _dev_key_in_tmp.exists()  # nothing created for a refused request


def test_missing_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["token", "--role", "TKSK"])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_register_adds_the_command_to_any_app() -> None:
    cli = typer.Typer()

    @cli.callback()
    def main() -> None:
        """A stand-in for the main CLI."""

    token_command.register(cli)
    result = runner.invoke(cli, ["token", "--role", "auditor", "--region", "35"])
    assert result.exit_code == 0, result.output
    assert verifier_from_settings(AuthSettings()).verify(result.stdout.strip()).role is Role.AUDITOR
