"""Identifying a citizen (NIK + name + village) for Cek Bansos: one 404 for every miss."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.cryptography import AESCipher
from fastapi.testclient import TestClient
from httpx import Response

from bansos_libs.auth import TokenIssuer, TokenVerifier
from bansos_libs.auth.fastapi import use_verifier
from bansos_libs.settings import ServiceSettings
from bansos_registry.api import create_api
from bansos_registry.bootstrap import bootstrap
from bansos_registry.identity import mask_name, names_match, normalize_name
from bansos_registry.sample import SampleSpec, write_snapshot

NO_MATCH = {"detail": "no household matches this NIK, name and region"}


@dataclass
class Api:
    client: TestClient
    issuer: TokenIssuer
    rows: list[dict[str, str]]  # the snapshot's rows

    @property
    def first(self) -> dict[str, str]:
        return self.rows[0]

    def identify(
        self, body: dict[str, object], role: str | None = "SYSTEM", region: str = "ID"
    ) -> Response:
        headers = {}
        if role is not None:
            headers["Authorization"] = f"Bearer {self.issuer.mint(role=role, region=region)}"
        return self.client.post("/households/identify", json=body, headers=headers)

    def body_of(self, row: dict[str, str], **changes: str) -> dict[str, object]:
        body = {"nik": row["head_nik"], "name": row["head_name"], "village": row["village_code"]}
        return {**body, **changes}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("registry-identify")
    settings = ServiceSettings(
        service="registry", data_dir=folder, cipher_key=AESCipher.create_key(32)
    )
    registry = bootstrap(settings)
    snapshot = folder / "s.csv"
    write_snapshot(snapshot, SampleSpec(households=50, seed=11))
    registry.importer.run(
        snapshot, "S-1", date(2025, 9, 1), actor={"role": "system", "id": "t", "region": None}
    )
    registry.households.catch_up()
    key = Ed25519PrivateKey.generate()
    http = create_api(registry.app, settings)
    use_verifier(http, TokenVerifier.for_dev_key(key.public_key()))
    with snapshot.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    yield Api(TestClient(http), TokenIssuer(key), rows)
    registry.close()


def _other_village(village: str) -> str:
    return "35.17.01.2001" if village != "35.17.01.2001" else "35.17.01.2002"


# --- the pure helpers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Siti  Aminah.", "SITI AMINAH"),
        ("siti aminah", "SITI AMINAH"),
        ("  SITI\tAMINAH\n", "SITI AMINAH"),
        ("Moh. Ma'ruf", "MOH MA RUF"),
        ("Nur-Hayati,", "NUR HAYATI"),
        # full-width letters and an ideographic space (NFKC folds them)
        ("\uff33\uff49\uff54\uff49\u3000\uff21\uff4d\uff49\uff4e\uff41\uff48", "SITI AMINAH"),
        ("Ma\u2019ruf", "MA RUF"),  # typographic apostrophe
        ("...", ""),
        ("", ""),
    ],
)
def test_normalize_name(raw: str, normal: str) -> None:
    assert normalize_name(raw) == normal


def test_names_match_ignores_case_spacing_and_punctuation() -> None:
    assert names_match("Siti  Aminah.", "SITI AMINAH")
    assert names_match("moh. ma'ruf", "MOH MA RUF")
    assert not names_match("Siti Aminah", "SITI AMINA")
    assert not names_match("Aminah Siti", "SITI AMINAH")
    assert not names_match("", "")
    assert not names_match("...", "")


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("SUTRISNO WIBOWO", "SU****** WI****"),
        ("ANI", "A**"),
        ("Siti  Aminah.", "SI** AM****"),
        ("NUR", "N**"),
        ("DWI AP", "D** A*"),
        ("A", "A"),
        ("EKO SURYA", "E** SU***"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


# --- the endpoint ---------------------------------------------------------------------


def test_a_match_answers_the_household_with_the_name_masked(api: Api) -> None:
    row = api.first
    given = "  " + row["head_name"].lower().replace(" ", "  ") + "."
    response = api.identify(api.body_of(row, name=given))
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "household_id": row["household_id"],
        "village": row["village_code"],
        "head_name_masked": mask_name(row["head_name"]),
        "active": True,
    }
    assert "*" in body["head_name_masked"]
    assert row["head_nik"] not in response.text
    assert row["head_name"] not in response.text
    assert row["head_name"].upper() not in response.text
    for word in normalize_name(row["head_name"]).split():
        if len(word) > 2:
            assert word not in response.text


def test_every_mismatch_answers_the_same_404(api: Api) -> None:
    row = api.first
    known_niks = {r["head_nik"] for r in api.rows}
    unknown_nik = next(
        nik for n in range(1, 10_000) if (nik := f"3517010101{n:06d}") not in known_niks
    )
    misses = [
        api.identify(api.body_of(row, name=row["head_name"] + " Saputra")),
        api.identify(api.body_of(row, name=api.rows[1]["head_name"])),
        api.identify(api.body_of(row, village=_other_village(row["village_code"]))),
        api.identify(api.body_of(row, nik=unknown_nik)),
        api.identify(api.body_of(row, name="...")),
    ]
    assert {m.status_code for m in misses} == {404}
    assert misses[0].json() == NO_MATCH
    assert len({m.content for m in misses}) == 1
    for miss in misses:
        assert row["head_nik"] not in miss.text
        assert row["household_id"] not in miss.text


def test_a_name_of_another_household_does_not_unlock_this_one(api: Api) -> None:
    first, second = api.rows[0], api.rows[1]
    mixed = api.identify(
        {"nik": first["head_nik"], "name": second["head_name"], "village": second["village_code"]}
    )
    assert mixed.status_code == 404
    assert mixed.json() == NO_MATCH


@pytest.mark.parametrize(
    ("role", "region"),
    [("CITIZEN", "35.17.01.2001"), ("REGENCY_OFFICER", "35.17"), ("MINISTRY_OFFICER", "ID")],
)
def test_only_services_may_identify(api: Api, role: str, region: str) -> None:
    row = api.first
    region = row["village_code"] if role == "CITIZEN" else region
    response = api.identify(api.body_of(row), role, region)
    assert response.status_code == 403
    assert response.json()["detail"]["error"] == "forbidden"
    assert row["head_nik"] not in response.text


def test_a_missing_token_is_401(api: Api) -> None:
    response = api.identify(api.body_of(api.first), role=None)
    assert response.status_code == 401
    assert "bearer" in response.json()["detail"]["reason"].lower()


@pytest.mark.parametrize(
    "changes",
    [
        {"nik": "12"},
        {"nik": "35171919056000011"},
        {"nik": "351719190560000x"},
        {"village": "35.17"},
        {"village": "35.17.01"},
        {"village": "3517012001"},
        {"village": "35.17.01.201"},
        {"name": ""},
        {"name": "A" * 101},
    ],
)
def test_malformed_input_is_422(api: Api, changes: dict[str, str]) -> None:
    response = api.identify(api.body_of(api.first, **changes))
    assert response.status_code == 422


def test_missing_fields_are_422_without_echoing_the_nik(api: Api) -> None:
    response = api.identify({"nik": api.first["head_nik"]})
    assert response.status_code == 422
    assert api.first["head_nik"] not in response.text
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_the_nik_is_never_logged(
    api: Api, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    row = api.first
    with caplog.at_level(logging.DEBUG):
        assert api.identify(api.body_of(row)).status_code == 200
        assert api.identify(api.body_of(row, name="Nobody")).status_code == 404
    captured = capsys.readouterr()
    for text in (caplog.text, captured.out, captured.err):
        assert row["head_nik"] not in text


def test_a_deactivated_household_is_still_identified_as_inactive(api: Api) -> None:
    row = api.rows[2]
    token = api.issuer.mint(role="MINISTRY_OFFICER", region="ID")
    deactivated = api.client.post(
        f"/households/{row['household_id']}/deactivation",
        json={"reason": "MOVED", "reference": "PUSDATIN/2025/7"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert deactivated.status_code == 200
    response = api.identify(api.body_of(row))
    assert response.status_code == 200
    assert response.json()["household_id"] == row["household_id"]
    assert response.json()["active"] is False
