"""``bansosctl payouts``: the commands against the payout API itself.

The payout service runs on a SQLite event store in a temporary folder, seeded through its
consumer handler; the command's HTTP client is replaced by a TestClient over the API.
Tokens are development tokens minted with a key in the temporary folder, which the API
verifies.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from bansos_contracts.eligibility import BeneficiaryListApproved
from bansos_contracts.enums import Bank, ListStage, Program
from bansos_contracts.envelope import Event
from bansos_contracts.examples import example
from bansos_contracts.payout import payout_id
from bansos_contracts.registry import HouseholdRegistered
from bansos_contracts.values import Region
from bansos_libs.auth import AuthSettings, verifier_from_settings
from bansos_libs.auth.fastapi import use_verifier
from bansos_libs.settings import ServiceSettings
from bansos_payout.api import create_api
from bansos_payout.application import PayoutSettings
from bansos_payout.bootstrap import Payouts, bootstrap
from bansosctl import payouts as payouts_cli
from bansosctl.main import app
from tests.fixtures.payout import BLTS_TERMS, feed

PERIOD = "2025-10..2025-12"
VILLAGE = "35.17.01.2001"
POS = payout_id(Program.BLTS_KESRA, PERIOD, "HH-P1")
BANK = payout_id(Program.BLTS_KESRA, PERIOD, "HH-B1")

runner = CliRunner()


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Payouts]:
    """The payout API, seeded with a POS and a bank payout, behind the command's client."""
    for name in list(os.environ):
        if name.startswith("BANSOS_AUTH_") or name == "BANSOS_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.setenv("BANSOS_AUTH_DEV_KEY_FILE", str(tmp_path / "keys" / "ed25519.pem"))
    monkeypatch.setenv("COLUMNS", "240")
    payouts = bootstrap(
        ServiceSettings(service="payout", data_dir=tmp_path / "data"),
        PayoutSettings(code_key=SecretStr("3c" * 32)),
    )
    events: list[Event] = [
        example(
            HouseholdRegistered,
            household_id=household,
            region=Region.of_village(VILLAGE),
            programs=programs,
            kks_bank=bank,
        )
        for household, programs, bank in (("HH-P1", (), None), ("HH-B1", (Program.PKH,), Bank.BNI))
    ]
    events.append(
        example(
            BeneficiaryListApproved,
            list_id=f"BLTS_KESRA:{PERIOD}:{VILLAGE}",
            village=VILLAGE,
            household_ids=("HH-P1", "HH-B1"),
            stage=ListStage.REGENCY_APPROVED,
            exclusions=(),
            payment=BLTS_TERMS,
        )
    )
    feed(payouts, *events)
    http = create_api(payouts.app, payouts.settings, options=payouts.options)
    use_verifier(http, verifier_from_settings(AuthSettings()))
    monkeypatch.setattr(payouts_cli, "client", lambda: TestClient(http))
    yield payouts
    payouts.close()


def test_list_and_show(service: Payouts) -> None:
    result = runner.invoke(app, ["payouts", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["payout_id"], r["channel"]) for r in rows] == [(BANK, "BANK_KKS"), (POS, "POS")]
    table = runner.invoke(app, ["payouts", "list", "--region", "35.17"])
    assert table.exit_code == 0, table.output
    assert "2 payouts" in table.stdout
    shown = runner.invoke(app, ["payouts", "show", POS])
    assert shown.exit_code == 0, shown.output
    assert "Rp900.000" in shown.stdout
    assert "COMMUNITY_POINT" in shown.stdout


def test_the_service_refusal_is_printed_with_a_non_zero_exit(service: Payouts) -> None:
    result = runner.invoke(app, ["payouts", "show", "BLTS_KESRA:2025-10..2025-12:HH-NOPE"])
    assert result.exit_code == 1
    assert "no payout BLTS_KESRA:2025-10..2025-12:HH-NOPE" in result.stderr
    assert "HTTP 404" in result.stderr
    bank = runner.invoke(app, ["payouts", "invitation", BANK])
    assert bank.exit_code == 1
    assert "[NOT_COLLECTABLE]" in bank.stderr


def test_an_invitation_and_a_settlement_file(service: Payouts, tmp_path: Path) -> None:
    letter = runner.invoke(app, ["payouts", "invitation", POS, "--json"])
    assert letter.exit_code == 0, letter.output
    code = json.loads(letter.stdout)["collection_code"]
    assert code == service.signer.code_for(POS, 1)

    file = tmp_path / "pos-settlement.csv"
    file.write_text(
        "payout_id,collection_code,amount,channel_reference,paid_at\n"
        f"{POS},{code},900000,POS-TX-1,2025-11-25T09:00:00+07:00\n"
        f"{POS}X,,900000,POS-TX-2,2025-11-25T09:00:00+07:00\n",
        encoding="utf-8",
    )
    imported = runner.invoke(app, ["payouts", "import-settlement", str(file), "--channel", "POS"])
    assert imported.exit_code == 0, imported.output
    assert "2 lines: 1 accepted, 0 unchanged, 1 refused" in imported.stdout
    assert "UNKNOWN_PAYOUT" in imported.stdout
    assert code not in imported.stdout

    again = runner.invoke(app, ["payouts", "import-settlement", str(file), "--json"])
    assert json.loads(again.stdout)["already_imported"] is True

    report = runner.invoke(app, ["payouts", "report", "--region", "35.17"])
    assert report.exit_code == 0, report.output
    assert "Rp900.000" in report.stdout
    assert "No line is unplaced." in report.stdout
    assert "The reconciliation balances." in report.stdout

    national = runner.invoke(app, ["payouts", "report"])
    assert "UNKNOWN_PAYOUT" in national.stdout
    assert "does NOT balance" in national.stdout


def test_the_credit_file_and_the_end_of_the_period(service: Payouts, tmp_path: Path) -> None:
    out = tmp_path / "bni.csv"
    credit = runner.invoke(app, ["payouts", "credit-file", "--bank", "BNI", "--out", str(out)])
    assert credit.exit_code == 0, credit.output
    assert out.read_text().splitlines()[1].startswith(f"{BANK},HH-B1,BNI,900000,")

    expired = runner.invoke(
        app, ["payouts", "expire", "--region", "35.17", "--as-of", "2025-12-10T00:00:00+07:00"]
    )
    assert expired.exit_code == 0, expired.output
    assert "2 payouts failed" in expired.stdout
    naive = runner.invoke(app, ["payouts", "expire", "--region", "35.17", "--as-of", "2025-12-10"])
    assert naive.exit_code == 2

    sptjm = ["payouts", "sptjm", "--village", VILLAGE, "--reference", "SPTJM/1"]
    assert "entered for village" in runner.invoke(app, sptjm).stdout
    assert "already entered" in runner.invoke(app, sptjm).stdout
    other = runner.invoke(app, [*sptjm[:-1], "SPTJM/2"])
    assert other.exit_code == 1
    assert "SPTJM_ALREADY_ENTERED" in other.stderr

    reconcile = ["payouts", "reconcile", "--village", VILLAGE, "--outcome", "REISSUED"]
    reconciled = runner.invoke(app, [*reconcile, "--sptjm", "SPTJM/1"])
    assert reconciled.exit_code == 0, reconciled.output
    assert "2 payouts reconciled as REISSUED" in reconciled.stdout

    summary = runner.invoke(app, ["payouts", "summary", "--json"])
    assert summary.exit_code == 0, summary.output
    [district] = json.loads(summary.stdout)
    assert (district["district"], district["failed"], district["reissued"]) == ("35.17.01", 2, 2)
