"""The eligibility HTTP API: who may verify, approve and read lists, and the citizen's check.

The service runs on a SQLite event store (as in ``test_service.py``); tokens are signed with
a throwaway Ed25519 key; the registry, which alone knows NIKs and names, is replaced by a
small fake (the real one is exercised by the integration tests). Every refused write is
also shown to have stored nothing: the list events published are counted before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from httpx import Response

from bansos_contracts.eligibility import BeneficiaryListApproved
from bansos_contracts.examples import example
from bansos_contracts.registry import HouseholdRegistered
from bansos_contracts.values import Region, VulnerabilityFlags
from bansos_eligibility.api import NO_MATCH, create_api
from bansos_eligibility.application import EligibilitySettings
from bansos_eligibility.bootstrap import Eligibility, bootstrap
from bansos_libs.auth import TokenIssuer, TokenVerifier
from bansos_libs.auth.fastapi import use_verifier
from bansos_libs.registry_client import Identified
from bansos_libs.settings import ServiceSettings
from tests.fixtures.eligibility import feed, published

# --- the village, its households and the paths ------------------------------------------

VILLAGE = "35.17.01.2001"
OTHER_VILLAGE = "35.17.02.2002"  # same regency, another district
ELIGIBLE = ["HH-A1", "HH-A2"]  # deciles 1 and 2 in VILLAGE
INELIGIBLE = "HH-A9"  # decile 9 in VILLAGE
OTHER_HOUSEHOLD = "HH-B1"  # decile 1 in OTHER_VILLAGE
PROGRAM, PERIOD = "BLTS_KESRA", "2025-10..2025-12"

OPERATOR = "op-desa-2001"  # the village operator who verifies
APPROVER = "dinsos-1"  # the regency officer who approves
SECOND_APPROVER = "dinsos-2"
VERIFIED_BY = f"VILLAGE_OPERATOR:{OPERATOR}"  # as the list read shows the actors
APPROVED_BY = f"REGENCY_OFFICER:{APPROVER}"

# The verdict of the Musdesus on VILLAGE's list: HH-A1 valid, HH-A2 moved away.
VERDICT: dict[str, Any] = {
    "valid": ["HH-A1"],
    "excluded": [{"household_id": "HH-A2", "reason": "MOVED", "note": "pindah ke Surabaya"}],
    "notes": "Musdesus 3 November 2025",
}
OTHER_VERDICT: dict[str, Any] = {"valid": [OTHER_HOUSEHOLD]}


def list_path(village: str = VILLAGE, action: str = "") -> str:
    path = f"/lists/{PROGRAM}/{PERIOD}/villages/{village}"
    return f"{path}/{action}" if action else path


# --- the citizens the fake registry knows ------------------------------------------------

NIK = "3517014107800001"  # head of HH-A1
NAME = "SUSANTI WIJAYA"
MASKED = "SU***** WI*****"
NIK_INELIGIBLE = "3517011203750002"  # head of HH-A9
NIK_UNDECIDED = "3517010505900003"  # in the register, no decision yet
UNKNOWN_NIK = "3517019999999999"

PEOPLE: dict[str, tuple[str, str, str]] = {  # NIK -> (name, village, household)
    NIK: (NAME, VILLAGE, "HH-A1"),
    NIK_INELIGIBLE: ("BUDI SANTOSO", VILLAGE, INELIGIBLE),
    NIK_UNDECIDED: ("SITI AMINAH", VILLAGE, "HH-NEW"),
}


@dataclass
class FakeRegistry:
    """Stands in for the registry's identify call; remembers the NIKs it was asked about."""

    asked: list[str] = field(default_factory=list)

    def __call__(self, nik: str, name: str, village: str) -> Identified | None:
        self.asked.append(nik)
        person = PEOPLE.get(nik)
        if person is None or (person[0], person[1]) != (name.upper(), village):
            return None
        name, village, household = person
        return Identified(household_id=household, village=village, head_name_masked=MASKED)


def status_query(nik: str = NIK, name: str = NAME, village: str = VILLAGE) -> dict[str, str]:
    return {"nik": nik, "name": name, "village": village}


# --- callers ----------------------------------------------------------------------------


class Caller(NamedTuple):
    """Who calls: a role, the region of their token and their account id."""

    role: str
    region: str
    subject: str | None = None

    def __str__(self) -> str:
        return f"{self.role}@{self.region}"


NO_TOKEN = None


# --- the service and its API ------------------------------------------------------------


@dataclass
class Api:
    service: Eligibility
    client: TestClient
    issuer: TokenIssuer
    registry: FakeRegistry

    def call(
        self, method: str, path: str, caller: Caller | None, body: dict[str, Any] | None = None
    ) -> Response:
        headers = {}
        if caller is not None:
            token = self.issuer.mint(role=caller.role, region=caller.region, subject=caller.subject)
            headers["Authorization"] = f"Bearer {token}"
        response: Response = self.client.request(method, path, json=body, headers=headers)
        return response

    def get(self, path: str, caller: Caller | None) -> Response:
        return self.call("GET", path, caller)

    def post(self, path: str, caller: Caller | None, body: dict[str, Any]) -> Response:
        return self.call("POST", path, caller, body)

    def verify(self, body: dict[str, Any] = VERDICT, village: str = VILLAGE) -> Response:
        return self.post(
            list_path(village, "verification"), Caller("VILLAGE_OPERATOR", village, OPERATOR), body
        )

    def approve(self, subject: str = APPROVER, body: dict[str, Any] | None = None) -> Response:
        caller = Caller("REGENCY_OFFICER", "35.17", subject)
        return self.post(list_path(action="approval"), caller, body or {})

    def stage(self, village: str = VILLAGE) -> str | None:
        response = self.get(list_path(village), Caller("REGENCY_OFFICER", "35.17"))
        assert response.status_code == 200
        stage: str | None = response.json()["stage"]
        return stage

    def list_events(self) -> list[tuple[str, str, str]]:
        """The list events stored so far: (village, stage, the acting account)."""
        return [
            (e.village, e.stage.value, e.approved_by.id)
            for e in published(self.service)
            if isinstance(e, BeneficiaryListApproved)
        ]


def registered(household_id: str, decile: int, village: str) -> HouseholdRegistered:
    return example(
        HouseholdRegistered,
        household_id=household_id,
        decile=decile,
        region=Region.of_village(village),
        programs=(),
        flags=VulnerabilityFlags(has_elderly=True),
        per_capita_income=400_000,
    )


def open_api(service: Eligibility, options: EligibilitySettings | None = None) -> Api:
    key = Ed25519PrivateKey.generate()
    registry = FakeRegistry()
    http = create_api(service.app, service.settings, options=options, identify=registry)
    use_verifier(http, TokenVerifier.for_dev_key(key.public_key()))
    return Api(service, TestClient(http), TokenIssuer(key), registry)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Eligibility]:
    eligibility = bootstrap(ServiceSettings(service="eligibility", data_dir=tmp_path))
    feed(
        eligibility,
        registered("HH-A1", 1, VILLAGE),
        registered("HH-A2", 2, VILLAGE),
        registered(INELIGIBLE, 9, VILLAGE),
        registered(OTHER_HOUSEHOLD, 1, OTHER_VILLAGE),
    )
    yield eligibility
    eligibility.close()


@pytest.fixture
def api(service: Eligibility) -> Api:
    return open_api(service)


@pytest.fixture
def verified(api: Api) -> Api:
    """The API with VILLAGE's list verified by OPERATOR."""
    response = api.verify()
    assert response.status_code == 200, response.text
    assert api.list_events() == [(VILLAGE, "VILLAGE_VERIFIED", OPERATOR)]
    return api


def refusal(response: Response) -> str:
    assert response.status_code == 403, response.text
    body = response.json()["detail"]
    assert body["error"] == "forbidden"
    reason: str = body["reason"]
    return reason


def assert_refused_with_reason(response: Response, caller: Caller) -> None:
    """403, and the reason names the caller's role or says the region is outside theirs."""
    reason = refusal(response)
    assert reason.startswith(f"role {caller.role} ")
    assert "allowed roles are" in reason or "outside your region" in reason


def assert_unauthenticated(response: Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["detail"]["error"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- the permission matrices ------------------------------------------------------------
# Each role with a region of the level it must be scoped at (bansos_libs.auth.roles).

CITIZEN = Caller("CITIZEN", VILLAGE)
VILLAGE_OPERATOR = Caller("VILLAGE_OPERATOR", VILLAGE)
OTHER_VILLAGE_OPERATOR = Caller("VILLAGE_OPERATOR", OTHER_VILLAGE)
PKH_FACILITATOR = Caller("PKH_FACILITATOR", "35.17.01")
TKSK = Caller("TKSK", "35.17.01")
DISTRICT_OFFICER = Caller("DISTRICT_OFFICER", "35.17.01")
OTHER_DISTRICT_OFFICER = Caller("DISTRICT_OFFICER", "35.17.02")
REGENCY_OFFICER = Caller("REGENCY_OFFICER", "35.17")
OTHER_REGENCY_OFFICER = Caller("REGENCY_OFFICER", "35.18")
PROVINCE_OFFICER = Caller("PROVINCE_OFFICER", "35")
MINISTRY_OFFICER = Caller("MINISTRY_OFFICER", "ID")
AUDITOR = Caller("AUDITOR", "35.17")
NATIONAL_AUDITOR = Caller("AUDITOR", "ID")
CHANNEL_OPERATOR = Caller("CHANNEL_OPERATOR", "35.17")
SYSTEM = Caller("SYSTEM", "ID")

VERIFY_REFUSED = [
    OTHER_VILLAGE_OPERATOR,
    CITIZEN,
    PKH_FACILITATOR,
    TKSK,
    DISTRICT_OFFICER,
    REGENCY_OFFICER,
    PROVINCE_OFFICER,
    MINISTRY_OFFICER,
    AUDITOR,
    CHANNEL_OPERATOR,
    SYSTEM,
]
APPROVE_REFUSED = [
    OTHER_REGENCY_OFFICER,
    VILLAGE_OPERATOR,
    OTHER_VILLAGE_OPERATOR,
    CITIZEN,
    PKH_FACILITATOR,
    TKSK,
    DISTRICT_OFFICER,
    PROVINCE_OFFICER,
    MINISTRY_OFFICER,
    AUDITOR,
    CHANNEL_OPERATOR,
    SYSTEM,
]
READ_ALLOWED = [
    VILLAGE_OPERATOR,
    PKH_FACILITATOR,
    TKSK,
    DISTRICT_OFFICER,
    REGENCY_OFFICER,
    PROVINCE_OFFICER,
    MINISTRY_OFFICER,
    AUDITOR,
    NATIONAL_AUDITOR,
    SYSTEM,
]
READ_REFUSED = [
    OTHER_REGENCY_OFFICER,
    OTHER_DISTRICT_OFFICER,
    OTHER_VILLAGE_OPERATOR,
    CITIZEN,
    CHANNEL_OPERATOR,
]
READS = [list_path(), "/households/HH-A1/status", "/households/HH-A1/eligibility"]


# --- verification -----------------------------------------------------------------------


def test_the_village_operator_verifies_their_village(api: Api) -> None:
    response = api.post(
        list_path(action="verification"), Caller("VILLAGE_OPERATOR", VILLAGE, OPERATOR), VERDICT
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["stage"], body["verified_by"], body["approved_by"]) == (
        "VILLAGE_VERIFIED",
        VERIFIED_BY,
        None,
    )
    assert body["eligible"] == ELIGIBLE
    assert [(e["household_id"], e["verdict"]) for e in body["entries"]] == [
        ("HH-A1", "VALID"),
        ("HH-A2", "MOVED"),
    ]
    assert api.list_events() == [(VILLAGE, "VILLAGE_VERIFIED", OPERATOR)]


def test_each_village_operator_verifies_only_their_own_list(api: Api) -> None:
    assert api.verify(OTHER_VERDICT, OTHER_VILLAGE).status_code == 200
    assert api.list_events() == [(OTHER_VILLAGE, "VILLAGE_VERIFIED", OPERATOR)]
    assert api.stage(VILLAGE) is None


@pytest.mark.parametrize("caller", VERIFY_REFUSED, ids=str)
def test_verification_is_refused_to_anyone_else(api: Api, caller: Caller) -> None:
    response = api.post(list_path(action="verification"), caller, VERDICT)
    assert_refused_with_reason(response, caller)
    assert api.list_events() == []
    assert api.stage() is None


def test_the_operator_of_another_village_is_outside_their_region(api: Api) -> None:
    response = api.post(list_path(action="verification"), OTHER_VILLAGE_OPERATOR, VERDICT)
    assert "outside your region" in refusal(response)


def test_verification_without_a_token_is_401(api: Api) -> None:
    assert_unauthenticated(api.post(list_path(action="verification"), NO_TOKEN, VERDICT))
    assert api.list_events() == []


def test_verifying_the_same_verdict_again_stores_nothing_new(api: Api) -> None:
    first = api.verify()
    again = api.verify()
    assert (again.status_code, again.json()) == (200, first.json())
    assert api.list_events() == [(VILLAGE, "VILLAGE_VERIFIED", OPERATOR)]


# --- what a verification must contain ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param({"valid": ["HH-A1"]}, ["no verdict", "HH-A2"], id="an eligible one missing"),
        pytest.param(
            {"valid": [*ELIGIBLE, INELIGIBLE]}, ["not eligible", INELIGIBLE], id="an ineligible one"
        ),
        pytest.param(
            {"valid": [*ELIGIBLE, OTHER_HOUSEHOLD]},
            ["not eligible", OTHER_HOUSEHOLD],
            id="one of another village",
        ),
        pytest.param(
            {"valid": ELIGIBLE, "excluded": [{"household_id": "HH-A2", "reason": "DECEASED"}]},
            ["more than one verdict", "HH-A2"],
            id="valid and excluded",
        ),
        pytest.param(
            {"valid": ["HH-A1", "HH-A1", "HH-A2"]},
            ["more than one verdict", "HH-A1"],
            id="valid twice",
        ),
    ],
)
def test_a_list_that_does_not_match_the_eligible_households_is_409(
    api: Api, body: dict[str, Any], says: list[str]
) -> None:
    response = api.verify(body)
    assert response.status_code == 409, response.text
    for text in says:
        assert text in response.json()["detail"]
    assert api.list_events() == []


@pytest.mark.parametrize(
    ("program", "period"),
    [("BLTS_KESRA", "2024-10..2024-12"), ("NOT_A_PROGRAM", PERIOD), ("PKH", PERIOD)],
)
def test_an_unknown_program_period_is_404(api: Api, program: str, period: str) -> None:
    path = f"/lists/{program}/{period}/villages/{VILLAGE}"
    verify = api.post(f"{path}/verification", VILLAGE_OPERATOR, VERDICT)
    assert verify.status_code == 404, verify.text
    assert "no open program period" in verify.json()["detail"]
    assert api.post(f"{path}/approval", REGENCY_OFFICER, {}).status_code == 404
    assert api.get(path, REGENCY_OFFICER).status_code == 404
    assert api.list_events() == []


@pytest.mark.parametrize("code", ["35.17", "35.17.01", "35", "3517012001", "35.17.01.201"])
def test_a_code_that_is_not_a_village_is_422(api: Api, code: str) -> None:
    response = api.post(list_path(code, "verification"), VILLAGE_OPERATOR, VERDICT)
    assert response.status_code == 422, response.text
    assert code in str(response.json()["detail"])
    assert api.post(list_path(code, "approval"), REGENCY_OFFICER, {}).status_code == 422
    assert api.get(list_path(code), REGENCY_OFFICER).status_code == 422
    assert api.list_events() == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {"valid": ["HH-A1"], "excluded": [{"household_id": "HH-A2", "reason": "RICH"}]},
            id="unknown reason",
        ),
        pytest.param({"valid": ["HH-A1"], "excluded": [{"household_id": "HH-A2"}]}, id="no reason"),
        pytest.param(
            {
                "valid": [],
                "excluded": [
                    {"household_id": "HH-A1", "reason": "MOVED"},
                    {"household_id": "HH-A1", "reason": "DECEASED"},
                    {"household_id": "HH-A2", "reason": "MOVED"},
                ],
            },
            id="excluded twice",
        ),
        pytest.param({"excluded": []}, id="no valid list"),
        pytest.param({**VERDICT, "notes": "x" * 4001}, id="notes too long"),
    ],
)
def test_a_malformed_verification_is_422(api: Api, body: dict[str, Any]) -> None:
    assert api.verify(body).status_code == 422
    assert api.list_events() == []


# --- approval ---------------------------------------------------------------------------


def test_a_regency_officer_approves_a_list_someone_else_verified(verified: Api) -> None:
    response = verified.approve(APPROVER, {"expected_households": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["stage"], body["verified_by"], body["approved_by"]) == (
        "REGENCY_APPROVED",
        VERIFIED_BY,
        APPROVED_BY,
    )
    assert verified.list_events() == [
        (VILLAGE, "VILLAGE_VERIFIED", OPERATOR),
        (VILLAGE, "REGENCY_APPROVED", APPROVER),
    ]


@pytest.mark.parametrize("caller", APPROVE_REFUSED, ids=str)
def test_approval_is_refused_to_anyone_else(verified: Api, caller: Caller) -> None:
    response = verified.post(list_path(action="approval"), caller, {})
    assert_refused_with_reason(response, caller)
    assert verified.list_events() == [(VILLAGE, "VILLAGE_VERIFIED", OPERATOR)]
    assert verified.stage() == "VILLAGE_VERIFIED"


def test_an_officer_of_another_regency_is_outside_their_region(verified: Api) -> None:
    response = verified.post(list_path(action="approval"), OTHER_REGENCY_OFFICER, {})
    assert "outside your region" in refusal(response)


def test_approval_without_a_token_is_401(verified: Api) -> None:
    assert_unauthenticated(verified.post(list_path(action="approval"), NO_TOKEN, {}))
    assert verified.stage() == "VILLAGE_VERIFIED"


def test_whoever_verified_cannot_approve(verified: Api) -> None:
    response = verified.approve(subject=OPERATOR)  # same account, now as a regency officer
    assert response.status_code == 422, response.text
    assert "four eyes" in response.json()["detail"]
    assert verified.list_events() == [(VILLAGE, "VILLAGE_VERIFIED", OPERATOR)]


def test_an_unverified_list_cannot_be_approved(api: Api) -> None:
    response = api.approve()
    assert response.status_code == 422, response.text
    assert "not been verified" in response.json()["detail"]
    assert api.list_events() == []
    assert api.stage() is None


def test_approving_twice_stores_one_approval(verified: Api) -> None:
    first = verified.approve()
    again = verified.approve()
    assert (again.status_code, again.json()) == (200, first.json())
    assert verified.list_events() == [
        (VILLAGE, "VILLAGE_VERIFIED", OPERATOR),
        (VILLAGE, "REGENCY_APPROVED", APPROVER),
    ]


def test_another_officer_cannot_approve_an_approved_list(verified: Api) -> None:
    assert verified.approve(APPROVER).status_code == 200
    response = verified.approve(SECOND_APPROVER)
    assert response.status_code == 409, response.text
    assert "already approved" in response.json()["detail"]
    assert [e[2] for e in verified.list_events()] == [OPERATOR, APPROVER]


def test_an_approved_list_cannot_be_verified_again(verified: Api) -> None:
    assert verified.approve().status_code == 200
    response = verified.verify({"valid": ELIGIBLE})
    assert response.status_code == 409, response.text
    assert "already approved" in response.json()["detail"]
    assert len(verified.list_events()) == 2


def test_the_approver_approves_the_count_they_reviewed(verified: Api) -> None:
    response = verified.approve(body={"expected_households": 2})  # the list has 1
    assert response.status_code == 409, response.text
    assert "now has 1 households, not 2" in response.json()["detail"]
    assert verified.stage() == "VILLAGE_VERIFIED"
    assert verified.approve(body={"expected_households": -1}).status_code == 422
    assert len(verified.list_events()) == 1


# --- reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("caller", READ_ALLOWED, ids=str)
def test_staff_covering_the_village_read(api: Api, path: str, caller: Caller) -> None:
    response = api.get(path, caller)
    assert response.status_code == 200, response.text
    body = response.json()
    if path == list_path():
        assert (body["eligible"], body["stage"]) == (ELIGIBLE, None)
    elif path.endswith("/status"):
        assert body["household_id"] == "HH-A1"
        assert body["head_name"] is None  # staff look up by id, not by name
        assert "BLTS_KESRA" in [p["program"] for p in body["programs"]]
    else:
        assert {(d["program"], d["status"]) for d in body} >= {("BLTS_KESRA", "ELIGIBLE")}
        assert {d["village"] for d in body} == {VILLAGE}


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("caller", READ_REFUSED, ids=str)
def test_reads_are_refused_outside_the_region_and_to_citizens(
    api: Api, path: str, caller: Caller
) -> None:
    assert_refused_with_reason(api.get(path, caller), caller)


@pytest.mark.parametrize("path", READS)
def test_reads_without_a_token_are_401(api: Api, path: str) -> None:
    assert_unauthenticated(api.get(path, NO_TOKEN))


@pytest.mark.parametrize("what", ["status", "eligibility"])
def test_an_unknown_household_is_404(api: Api, what: str) -> None:
    response = api.get(f"/households/HH-NOPE/{what}", REGENCY_OFFICER)
    assert response.status_code == 404, response.text
    assert "HH-NOPE" in response.json()["detail"]


@pytest.mark.parametrize("what", ["status", "eligibility"])
def test_a_citizen_learns_nothing_about_whether_a_household_exists(api: Api, what: str) -> None:
    unknown = api.get(f"/households/HH-NOPE/{what}", CITIZEN)
    known = api.get(f"/households/HH-A1/{what}", CITIZEN)
    assert unknown.status_code == known.status_code == 403
    assert unknown.json() == known.json()


def test_the_list_read_shows_the_verdicts_and_who_gave_them(verified: Api) -> None:
    verified.approve()
    body = verified.get(list_path(), VILLAGE_OPERATOR).json()
    assert (body["stage"], body["verified_by"], body["approved_by"]) == (
        "REGENCY_APPROVED",
        VERIFIED_BY,
        APPROVED_BY,
    )
    assert body["list_id"] == f"{PROGRAM}:{PERIOD}:{VILLAGE}"
    status = verified.get("/households/HH-A2/status", VILLAGE_OPERATOR).json()
    blts = next(p for p in status["programs"] if p["program"] == PROGRAM)
    assert (blts["list_stage"], blts["list_verdict"]) == ("REGENCY_APPROVED", "MOVED")


# --- the citizen's status check (public) ------------------------------------------------


def test_a_citizen_sees_their_status_with_the_name_masked(api: Api) -> None:
    response = api.post("/status", NO_TOKEN, status_query())
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["household_id"], body["head_name"]) == ("HH-A1", MASKED)
    assert {p["program"] for p in body["programs"]} == {
        r.program.value for r in api.service.rulesets
    }
    blts = next(p for p in body["programs"] if p["program"] == PROGRAM)
    assert blts["status"] == "ELIGIBLE"
    assert blts["status_text"]["id"] and blts["status_text"]["en"]
    assert blts["program_name"]["id"] and blts["program_name"]["en"]
    assert api.registry.asked == [NIK]
    assert NIK not in response.text


def test_an_ineligible_citizen_sees_the_reasons_in_words(api: Api) -> None:
    response = api.post("/status", NO_TOKEN, status_query(NIK_INELIGIBLE, "Budi Santoso"))
    assert response.status_code == 200, response.text
    blts = next(p for p in response.json()["programs"] if p["program"] == PROGRAM)
    assert blts["status"] == "INELIGIBLE"
    [reason] = blts["reasons"]
    assert (reason["code"], reason["detail"]) == ("DECILE_ABOVE_MAX", "9>4")
    assert reason["text"]["id"] and reason["text"]["en"]
    assert NIK_INELIGIBLE not in response.text


def test_a_household_not_yet_decided_on_has_no_programs(api: Api) -> None:
    response = api.post("/status", NO_TOKEN, status_query(NIK_UNDECIDED, "Siti Aminah"))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "household_id": "HH-NEW",
        "head_name": MASKED,
        "programs": [],
        "open_cases": [],
    }


def test_no_match_answers_the_same_whatever_differed(api: Api) -> None:
    misses = [
        status_query(nik=UNKNOWN_NIK),
        status_query(name="SUSANTI WIJAYANTI"),
        status_query(village=OTHER_VILLAGE),
    ]
    responses = [api.post("/status", NO_TOKEN, query) for query in misses]
    assert {r.status_code for r in responses} == {404}
    assert {r.text for r in responses} == {f'{{"detail":"{NO_MATCH}"}}'}
    assert NO_MATCH == "no household matches this NIK, name and region"
    for response in responses:
        assert NIK not in response.text
        assert UNKNOWN_NIK not in response.text


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(status_query(nik="12"), id="short NIK"),
        pytest.param(status_query(nik=NIK[:-1] + "x"), id="NIK with a letter"),
        pytest.param(status_query(nik=NIK + "0"), id="17 digits"),
        pytest.param(status_query(name=""), id="empty name"),
        pytest.param(status_query(village="35.17"), id="not a village"),
        pytest.param({"nik": NIK, "village": VILLAGE}, id="no name"),
    ],
)
def test_a_malformed_status_query_is_422_and_never_reaches_the_registry(
    api: Api, query: dict[str, str]
) -> None:
    response = api.post("/status", NO_TOKEN, query)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"][0] == "body" and error["msg"]  # still says which field is wrong
    assert "input" not in error  # FastAPI would echo the NIK (or the whole body) here
    assert NIK not in response.text
    assert api.registry.asked == []


def test_the_status_check_is_rate_limited_per_client(service: Eligibility) -> None:
    api = open_api(service, EligibilitySettings(status_requests_per_minute=1, status_burst=2))
    first, second, third = (api.post("/status", NO_TOKEN, status_query()) for _ in range(3))
    assert (first.status_code, second.status_code) == (200, 200)
    assert third.status_code == 429, third.text
    assert int(third.headers["Retry-After"]) >= 1
    assert "too many status checks" in third.json()["detail"]
    assert NIK not in third.text
    assert api.registry.asked == [NIK, NIK]  # the refused check never reached the registry
    # Another client still has its whole burst.
    other = TestClient(api.client.app, client=("203.0.113.7", 40000))
    assert other.post("/status", json=status_query()).status_code == 200


def test_the_status_check_needs_no_token_and_writes_nothing(api: Api) -> None:
    before = len(published(api.service))
    assert api.post("/status", NO_TOKEN, status_query()).status_code == 200
    assert api.post("/status", NO_TOKEN, status_query(nik=UNKNOWN_NIK)).status_code == 404
    assert len(published(api.service)) == before
