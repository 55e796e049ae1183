"""The registry's HTTP API: reads scoped by role and region, 401/403 with reasons."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.cryptography import AESCipher
from fastapi.testclient import TestClient

from bansos_libs.auth import TokenIssuer, TokenVerifier
from bansos_libs.auth.fastapi import use_verifier
from bansos_libs.settings import ServiceSettings
from bansos_registry.api import create_api
from bansos_registry.bootstrap import bootstrap
from bansos_registry.sample import SampleSpec, write_snapshot


@dataclass
class Api:
    client: TestClient
    issuer: TokenIssuer
    first: dict[str, str]  # the first row of the snapshot

    def get(self, path: str, role: str | None = None, region: str = "35.17") -> tuple[int, dict]:
        headers = {}
        if role is not None:
            headers["Authorization"] = f"Bearer {self.issuer.mint(role=role, region=region)}"
        response = self.client.get(path, headers=headers)
        return response.status_code, response.json()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("registry-api")
    settings = ServiceSettings(
        service="registry", data_dir=folder, cipher_key=AESCipher.create_key(32)
    )
    registry = bootstrap(settings)
    snapshot = folder / "s.csv"
    write_snapshot(snapshot, SampleSpec(households=200, seed=5))
    registry.importer.run(
        snapshot, "S-1", date(2025, 9, 1), actor={"role": "system", "id": "t", "region": None}
    )
    registry.households.catch_up()
    key = Ed25519PrivateKey.generate()
    http = create_api(registry.app, settings)
    use_verifier(http, TokenVerifier.for_dev_key(key.public_key()))
    with snapshot.open(newline="") as handle:
        first = next(csv.DictReader(handle))
    yield Api(TestClient(http), TokenIssuer(key), first)
    registry.close()


def test_a_regency_officer_reads_a_household_of_the_regency(api: Api) -> None:
    status, body = api.get(f"/households/{api.first['household_id']}", "REGENCY_OFFICER")
    assert status == 200
    assert body["village"] == api.first["village_code"]
    assert body["decile"] == int(api.first["decile"])
    assert api.first["head_nik"] not in str(body)
    assert api.first["head_name"] not in str(body)


def test_a_village_operator_reads_only_their_village(api: Api) -> None:
    village = api.first["village_code"]
    own = api.get(f"/households/{api.first['household_id']}", "VILLAGE_OPERATOR", village)
    assert own[0] == 200
    other = "35.17.01.2001" if village != "35.17.01.2001" else "35.17.01.2002"
    status, body = api.get(f"/households/{api.first['household_id']}", "VILLAGE_OPERATOR", other)
    assert status == 403
    assert "outside your region" in body["detail"]["reason"]


def test_another_regency_and_citizens_are_refused(api: Api) -> None:
    path = f"/households/{api.first['household_id']}"
    assert api.get(path, "REGENCY_OFFICER", "35.18")[0] == 403
    assert api.get(path, "CITIZEN", api.first["village_code"])[0] == 403
    status, body = api.get(path)
    assert status == 401
    assert "bearer" in body["detail"]["reason"].lower()


def test_decile_history_and_village_pages(api: Api) -> None:
    status, history = api.get(f"/households/{api.first['household_id']}/deciles", "AUDITOR")
    assert status == 200
    assert [h["new_decile"] for h in history] == [int(api.first["decile"])]
    village = api.first["village_code"]
    seen: list[str] = []
    after = ""
    while True:
        status, page = api.get(
            f"/villages/{village}/households?limit=2&after={after}", "REGENCY_OFFICER"
        )
        assert status == 200
        seen += [h["household_id"] for h in page["households"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert api.first["household_id"] in seen
    assert seen == sorted(seen) and len(seen) == len(set(seen))


def test_find_a_household_by_nik(api: Api) -> None:
    token = api.issuer.mint(role="REGENCY_OFFICER", region="35.17")
    headers = {"Authorization": f"Bearer {token}"}
    found = api.client.post(
        "/households/lookup", json={"nik": api.first["head_nik"]}, headers=headers
    )
    assert found.status_code == 200
    assert found.json()["household_id"] == api.first["household_id"]
    missing = api.client.post(
        "/households/lookup", json={"nik": "3517010101900001"}, headers=headers
    )
    assert missing.status_code == 404
    bad = api.client.post("/households/lookup", json={"nik": "12"}, headers=headers)
    assert bad.status_code == 422


def test_only_the_ministry_deactivates_and_repeating_changes_nothing(api: Api) -> None:
    household = api.first["household_id"]
    body = {"reason": "DECEASED", "reference": "PUSDATIN/2025/123"}

    def post(role: str, region: str, payload: dict[str, object]) -> tuple[int, dict]:
        token = api.issuer.mint(role=role, region=region)
        response = api.client.post(
            f"/households/{household}/deactivation",
            json=payload,
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code, response.json()

    assert post("REGENCY_OFFICER", "35.17", body)[0] == 403
    bad = post("MINISTRY_OFFICER", "ID", {**body, "reason": "MOVED", "merged_into": "x"})
    assert bad[0] == 422
    unknown = post("MINISTRY_OFFICER", "ID", {**body, "reason": "DUPLICATE", "merged_into": "nope"})
    assert unknown[0] == 422
    status, done = post("MINISTRY_OFFICER", "ID", body)
    assert status == 200
    assert (done["active"], done["deactivation_reason"]) == (False, "DECEASED")
    again = post("MINISTRY_OFFICER", "ID", body)
    assert again == (200, done)  # idempotent: same answer, no new event
