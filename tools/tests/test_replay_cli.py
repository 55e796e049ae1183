"""``bansosctl replay``: the payout service's read models on SQLite in a temporary folder,
checked against a replay of its event store, tampered with, and rebuilt."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from bansos_contracts.eligibility import BeneficiaryListApproved
from bansos_contracts.enums import Bank, ListStage, Program
from bansos_contracts.envelope import Event
from bansos_contracts.examples import example
from bansos_contracts.registry import HouseholdRegistered
from bansos_contracts.values import Region
from bansos_libs.settings import ServiceSettings
from bansos_payout.application import PayoutSettings
from bansos_payout.bootstrap import Payouts, bootstrap
from bansosctl.main import app
from tests.fixtures.payout import BLTS_TERMS, feed

PERIOD = "2025-10..2025-12"
VILLAGE = "35.17.01.2001"
POS = f"BLTS_KESRA:{PERIOD}:HH-P1"

runner = CliRunner()


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Payouts]:
    """A payout service on SQLite under ``BANSOS_DATA_DIR``, its views caught up."""
    for name in list(os.environ):
        if name.startswith("BANSOS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BANSOS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "240")
    payouts = bootstrap(
        ServiceSettings(service="payout", data_dir=tmp_path / "data"),
        PayoutSettings(code_key=SecretStr("3c" * 32)),
    )
    households = (("HH-P1", (), None), ("HH-B1", (Program.PKH,), Bank.BNI))
    events: list[Event] = [
        example(
            HouseholdRegistered,
            household_id=household,
            region=Region.of_village(VILLAGE),
            programs=programs,
            kks_bank=bank,
        )
        for household, programs, bank in households
    ]
    events.append(
        example(
            BeneficiaryListApproved,
            list_id=f"BLTS_KESRA:{PERIOD}:{VILLAGE}",
            village=VILLAGE,
            household_ids=tuple(household for household, _, _ in households),
            stage=ListStage.REGENCY_APPROVED,
            exclusions=(),
            payment=BLTS_TERMS,
        )
    )
    feed(payouts, *events)
    yield payouts
    payouts.close()


def test_live_views_that_agree_with_the_replay(service: Payouts) -> None:
    result = runner.invoke(app, ["replay", "payout", "--verify"])
    assert result.exit_code == 0, result.output
    assert "payout_v1 at position 4: 4 events replayed" in result.stdout
    assert "payout_beneficiaries" in result.stdout
    assert "payout: all 4 rows agree with the replay (1 view)." in result.stdout

    as_json = runner.invoke(app, ["replay", "payout", "--verify", "--json"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert (report["ok"], report["events"], report["first_difference"]) == (True, 4, None)
    [view] = report["views"]
    rows = {t["table"]: t["rows_live"] for t in view["tables"]}
    assert (rows["payouts"], rows["payout_beneficiaries"]) == (2, 2)


def test_a_tampered_row_fails_with_the_difference(service: Payouts) -> None:
    with service.view.database.transaction() as sql:
        sql.execute("UPDATE payouts SET amount = 1 WHERE payout_id = %s", (POS,))
    result = runner.invoke(app, ["replay", "payout", "--verify"])
    assert result.exit_code == 1
    difference = f"payouts (payout_id='{POS}'): amount is 1 live, 900000 replayed"
    assert difference in result.stdout
    assert difference in result.stderr
    assert "DIFFERS" in result.stdout

    as_json = runner.invoke(app, ["replay", "payout", "--verify", "--json"])
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert report["first_difference"] == f"payout_v1: {difference}"

    rebuilt = runner.invoke(app, ["replay", "payout"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "payout_v1: rebuilt from 4 events" in rebuilt.stdout
    assert runner.invoke(app, ["replay", "payout", "--verify"]).exit_code == 0


def test_an_unknown_service_lists_the_known_ones(service: Payouts) -> None:
    result = runner.invoke(app, ["replay", "payments", "--verify"])
    assert result.exit_code == 2
    assert "unknown service 'payments'" in result.stderr
    assert "registry, objections, eligibility, payout" in result.stderr
