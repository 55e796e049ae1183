"""``bansosctl cases``: the commands against the objections API itself.

The objections service runs on a SQLite event store in a temporary folder, with its
evidence in another and a registry that knows two households; the command's HTTP client
is replaced by a TestClient over the API. Tokens are development tokens minted with a key
in the temporary folder, which the API verifies. The read model that ``list`` and
``overdue`` read is caught up before they run (the service's relay does that).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from bansos_libs.auth import AuthSettings, verifier_from_settings
from bansos_libs.auth.fastapi import use_verifier
from bansos_libs.registry_client import HouseholdPlace, Identified
from bansos_libs.settings import ServiceSettings
from bansos_objections.api import create_api
from bansos_objections.application import ObjectionsSettings
from bansos_objections.bootstrap import Objections, bootstrap
from bansosctl import cases as cases_cli
from bansosctl.main import app

VILLAGE = "35.17.01.2001"
OTHER_VILLAGE = "35.17.02.2005"
JOMBANG = "-7.55,112.23"
IMAGES = Path(__file__).resolve().parents[2] / "services" / "objections" / "tests" / "images.py"

runner = CliRunner()


def _images() -> ModuleType:
    """The objections tests' tiny valid JPEG, PNG and WebP images."""
    spec = importlib.util.spec_from_file_location("objections_test_images", IMAGES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


images = _images()


class Register:
    """The registry as the objections service asks it: where two households live."""

    places = {
        "HH-1": HouseholdPlace("HH-1", VILLAGE, active=True),
        "HH-2": HouseholdPlace("HH-2", OTHER_VILLAGE, active=True),
    }

    def __call__(self, nik: str, name: str, village: str) -> Identified | None:
        return None

    def place(self, household_id: str) -> HouseholdPlace | None:
        return self.places.get(household_id)


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Objections]:
    """The objections API behind the command's client."""
    for name in list(os.environ):
        if name.startswith("BANSOS_AUTH_") or name == "BANSOS_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.setenv("BANSOS_AUTH_DEV_KEY_FILE", str(tmp_path / "keys" / "ed25519.pem"))
    monkeypatch.setenv("COLUMNS", "240")
    objections = bootstrap(
        ServiceSettings(service="objections", data_dir=tmp_path / "data"),
        ObjectionsSettings(evidence_dir=tmp_path / "evidence"),
        registry=Register(),
    )
    http = create_api(objections.app, objections.settings, service=objections.service)
    use_verifier(http, verifier_from_settings(AuthSettings()))
    monkeypatch.setattr(cases_cli, "client", lambda: TestClient(http))
    yield objections
    objections.close()


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    """Photo files: a JPEG and a PNG with the right extensions, and text posing as a JPEG."""
    files = {
        "front": (tmp_path / "front.jpg", images.jpeg_bytes(seed=1)),
        "visit": (tmp_path / "visit.png", images.png_bytes(seed=2)),
        "letter": (tmp_path / "letter.webp", images.webp_bytes(seed=3)),
        "fake": (tmp_path / "fake.jpg", b"not a photo at all"),
    }
    for file, data in files.values():
        file.write_bytes(data)
    return {name: file for name, (file, _) in files.items()}


def cases(*arguments: str) -> Result:
    return runner.invoke(app, ["cases", *arguments])


def ok(*arguments: str) -> Result:
    result = cases(*arguments)
    assert result.exit_code == 0, result.output
    return result


def test_an_objection_through_the_whole_chain(service: Objections, photos: dict[str, Path]) -> None:
    filed = ok(
        "file", "--kind", "OBJECTION", "--reason", "NOT_POOR", "--household", "HH-1",
        "--text", "They bought a car", "--program", "PKH", "--at", JOMBANG,
        "--photo", f"house_front={photos['front']}", "--scope", VILLAGE, "--json",
    )  # fmt: skip
    case = json.loads(filed.stdout)
    case_id = case["case_id"]
    assert (case["kind"], case["stage"], case["filer_role"]) == (
        "OBJECTION",
        "FIELD_CHECK",
        "VILLAGE_OPERATOR",
    )
    request_id = filed.stderr.split("request id ")[1].split()[0]
    again = ok(
        "file", "--kind", "OBJECTION", "--reason", "NOT_POOR", "--household", "HH-1",
        "--scope", VILLAGE, "--request-id", request_id,
    )  # fmt: skip
    assert f"case {case_id}: the request was applied before, nothing changed" in again.stdout

    letter = ok("upload", str(photos["letter"]), "--role", "PKH_FACILITATOR", "--scope", "35.17.01")
    letter_hash = letter.stdout.strip()
    assert letter_hash == hashlib.sha256(photos["letter"].read_bytes()).hexdigest()
    assert "image/webp" in letter.stderr

    yesterday = datetime.now(UTC) - timedelta(days=1)
    field = ok(
        "review", case_id, "--stage", "FIELD_CHECK", "--outcome", "UPHELD",
        "--notes", "Visited: a new car in the yard", "--role", "PKH_FACILITATOR",
        "--scope", "35.17.01", "--visited-at", yesterday.isoformat(timespec="seconds"),
        "--at", JOMBANG, "--photo", f"FIELD_VISIT={photos['visit']}",
        "--photo", f"DOCUMENT={letter_hash}",
    )  # fmt: skip
    assert "FIELD_CHECK UPHELD; awaits VILLAGE_MUSDESUS by VILLAGE_OPERATOR" in field.stdout

    musdesus = [
        "review", case_id, "--stage", "VILLAGE_MUSDESUS", "--outcome", "UPHELD",
        "--meeting-date", yesterday.date().isoformat(), "--attendance", "42",
    ]  # fmt: skip
    filer = cases(*musdesus)  # the operator who filed it, by the default subject
    assert filer.exit_code == 1
    assert "[NOT_INDEPENDENT]" in filer.stderr
    assert "HTTP 403" in filer.stderr
    other = ok(*musdesus, "--subject", "operator-desa-2")
    assert "awaits REGENCY by REGENCY_OFFICER" in other.stdout

    ok("review", case_id, "--stage", "REGENCY", "--outcome", "UPHELD", "--notes", "Agreed")
    ministry = ok(
        "review", case_id, "--stage", "MINISTRY", "--outcome", "UPHELD", "--effect", "EXCLUSION"
    )
    assert "MINISTRY UPHELD; resolved UPHELD → EXCLUSION" in ministry.stdout
    closed = cases("review", case_id, "--stage", "MINISTRY", "--outcome", "UPHELD")
    assert closed.exit_code == 1
    assert "[CASE_CLOSED]" in closed.stderr
    assert "HTTP 409" in closed.stderr

    shown = ok("show", case_id)
    history = shown.stdout.split("history:\n")[1].splitlines()
    assert [line.split()[:2] for line in history] == [
        ["v1", "SUBMITTED"],
        ["v2", "REVIEWED"],
        ["v3", "REVIEWED"],
        ["v4", "REVIEWED"],
        ["v5", "REVIEWED"],
        ["v6", "RESOLVED"],
    ]
    assert f"VILLAGE_OPERATOR/dev:village_operator:{VILLAGE}" in history[0]
    assert "They bought a car" in history[0]
    assert "PKH_FACILITATOR/dev:pkh_facilitator:35.17.01" in history[1]
    assert "evidence: 2" in history[1]
    assert "VILLAGE_OPERATOR/operator-desa-2" in history[2]
    assert "attendance=42" in history[2]
    assert "UPHELD → EXCLUSION" in shown.stdout
    assert json.loads(ok("show", case_id, "--json").stdout)["steps"][1]["details"]["location"] == {
        "latitude": -7.55,
        "longitude": 112.23,
    }

    service.view.catch_up()
    [row] = json.loads(ok("list", "--json").stdout)
    assert (row["case_id"], row["state"], row["effect"]) == (case_id, "RESOLVED", "EXCLUSION")
    table = ok("list", "--region", "35.17", "--state", "RESOLVED", "--kind", "OBJECTION")
    assert case_id in table.stdout
    assert "UPHELD → EXCLUSION" in table.stdout
    assert "1 cases (from 1)" in table.stdout
    assert "no cases" in ok("list", "--state", "OPEN").stdout
    assert "no cases" in ok("list", "--household", "HH-2").stdout


def test_overdue_cases_a_withdrawal_and_the_chains(
    service: Objections, photos: dict[str, Path]
) -> None:
    month_ago = datetime.now(UTC) - timedelta(days=30)
    service.service.clock = lambda: month_ago
    objection = ok(
        "file", "--kind", "OBJECTION", "--reason", "MOVED_AWAY", "--household", "HH-1",
        "--scope", VILLAGE, "--json",
    )  # fmt: skip
    complaint = ok(
        "file", "--kind", "COMPLAINT", "--reason", "INELIGIBLE_RECIPIENT", "--household", "HH-2",
        "--role", "DISTRICT_OFFICER", "--scope", "35.17.02", "--json",
    )  # fmt: skip
    service.service.clock = lambda: datetime.now(UTC)
    first, second = (json.loads(r.stdout)["case_id"] for r in (objection, complaint))
    service.view.catch_up()

    rows = json.loads(ok("overdue", "--json").stdout)
    assert sorted((r["case_id"], r["stage"], r["days_overdue"]) for r in rows) == sorted(
        [(first, "FIELD_CHECK", 16), (second, "FIELD_CHECK", 16)]
    )
    table = ok("overdue", "--region", "35.17").stdout
    assert first in table
    assert "2 overdue cases by district: 35.17.01 1, 35.17.02 1" in table
    [only] = json.loads(ok("overdue", "--region", OTHER_VILLAGE, "--json").stdout)
    assert only["case_id"] == second

    stranger = cases("withdraw", first, "--subject", "someone-else")
    assert stranger.exit_code == 1
    assert "[NOT_FILER]" in stranger.stderr
    withdrawn = ok("withdraw", first, "--notes", "They came back")
    assert f"case {first}: withdrawn; resolved WITHDRAWN" in withdrawn.stdout
    service.view.catch_up()
    assert "1 overdue cases by district: 35.17.02 1" in ok("overdue").stdout

    chains = ok("chains").stdout
    assert "OBJECTION: chain FULL" in chains
    assert "REFUSAL: chain LOCAL" in chains
    assert "1. FIELD_CHECK" in chains
    assert "PKH_FACILITATOR, TKSK" in chains
    assert "30 days" in chains
    assert json.loads(ok("chains", "--json").stdout)["REFUSAL"]["effects"] == ["OPT_OUT"]


def test_the_service_refusal_is_printed_with_its_code(
    service: Objections, photos: dict[str, Path]
) -> None:
    fake = cases("upload", str(photos["fake"]), "--scope", VILLAGE)
    assert fake.exit_code == 1
    assert "[WRONG_TYPE]" in fake.stderr
    assert "HTTP 415" in fake.stderr
    outside = cases(
        "file", "--kind", "OBJECTION", "--reason", "NOT_POOR", "--household", "HH-1",
        "--scope", VILLAGE, "--at", "-6.2,106.8",
    )  # fmt: skip
    assert outside.exit_code == 1
    assert "[OUTSIDE_REGENCY]" in outside.stderr
    unknown = cases("show", "C-NOPE")
    assert unknown.exit_code == 1
    assert "no case C-NOPE" in unknown.stderr
    assert "HTTP 404" in unknown.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--at", "112.23"], "--at '112.23' is not LATITUDE,LONGITUDE"),
        (["--at", "-7.55,east"], "is not LATITUDE,LONGITUDE"),
        (["--at=-97.55,112.23"], "is not LATITUDE,LONGITUDE"),
        (["--photo", "front.jpg"], "--photo 'front.jpg' is not LABEL=FILE or LABEL=HASH"),
        (["--photo", "HOUSE_FRONT=missing.jpg"], "cannot read missing.jpg"),
        (["--village", VILLAGE], "give --household or --village, not both"),
        (["--role", "VILLAGE_OPERATOR", "--scope", "35.17"], "not valid for role"),
    ],
)
def test_bad_local_input_is_refused_before_anything_is_sent(
    service: Objections,
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    message: str,
) -> None:
    def no_request() -> TestClient:
        raise AssertionError("a request was sent")

    monkeypatch.setattr(cases_cli, "client", no_request)
    file_case = [
        "file", "--kind", "OBJECTION", "--reason", "NOT_POOR", "--household", "HH-1",
        "--scope", VILLAGE,
    ]  # fmt: skip
    result = cases(*file_case, *arguments)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--visited-at", "2025-11-03"], "--visited-at needs a UTC offset"),
        (["--meeting-date", "3 November"], "is not a date (YYYY-MM-DD)"),
        (["--at", "a,b"], "is not LATITUDE,LONGITUDE"),
    ],
)
def test_a_bad_review_is_refused_before_anything_is_sent(
    service: Objections,
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    message: str,
) -> None:
    def no_request() -> TestClient:
        raise AssertionError("a request was sent")

    monkeypatch.setattr(cases_cli, "client", no_request)
    result = cases("review", "C-ANY", "--stage", "FIELD_CHECK", "--outcome", "UPHELD", *arguments)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    unreadable = cases("upload", "missing.png", "--scope", VILLAGE)
    assert unreadable.exit_code == 2
    assert "cannot read missing.png" in unreadable.stderr
