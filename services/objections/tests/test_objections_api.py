"""The objections HTTP API: evidence uploads, filing and reviewing cases, the lists, and
who may do what where (the permission matrix, written out here from the specification).

The service runs on a SQLite event store with the in-memory registry of
``test_case_service``; tokens are signed with a throwaway Ed25519 key.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from httpx import Response

from bansos_contracts.enums import CaseKind
from bansos_libs.auth import Principal, RegionCode, Role, TokenIssuer, TokenVerifier
from bansos_libs.auth.fastapi import use_verifier
from bansos_libs.registry_client import HouseholdPlace, Identified
from bansos_libs.settings import ServiceSettings
from bansos_objections.api import create_api
from bansos_objections.application import ObjectionsSettings
from bansos_objections.bootstrap import Objections, bootstrap
from bansos_objections.requests import EvidenceRef, Point, ReviewRequest, Submission
from bansos_objections.service import CaseService
from services.objections.tests.images import jpeg_bytes, png_bytes, webp_bytes
from services.objections.tests.test_case_service import (
    HEAD_NAME,
    HEAD_NIK,
    OTHER_VILLAGE,
    VILLAGE,
    Clock,
    FakeRegistry,
)
from tests.fixtures.regions import REGIONS

JOMBANG = {"latitude": -7.55, "longitude": 112.23}
JEPARA = {"latitude": -6.59, "longitude": 110.67}
SURABAYA = {"latitude": -7.25, "longitude": 112.75}
MAX_BYTES = 4096
PAST = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)


@dataclass(frozen=True)
class Caller:
    """Who calls: a role, the region of their token, and who they are."""

    role: Role
    region: str
    subject: str | None = None

    def __str__(self) -> str:
        return f"{self.role.value}@{self.region}"

    def principal(self) -> Principal:
        subject = self.subject or f"dev:{self.role.value}:{self.region}"
        return Principal(subject=subject, role=self.role, region=RegionCode.parse(self.region))


CITIZEN = Caller(Role.CITIZEN, VILLAGE, "citizen-1")
NEIGHBOUR = Caller(Role.CITIZEN, VILLAGE, "citizen-2")
OPERATOR = Caller(Role.VILLAGE_OPERATOR, VILLAGE, "operator-1")
SECOND_OPERATOR = Caller(Role.VILLAGE_OPERATOR, VILLAGE, "operator-2")
JEPARA_OPERATOR = Caller(Role.VILLAGE_OPERATOR, OTHER_VILLAGE, "operator-9")
PKH = Caller(Role.PKH_FACILITATOR, "35.17.01", "pkh-1")
REGENCY = Caller(Role.REGENCY_OFFICER, "35.17", "regency-1")
JEPARA_REGENCY = Caller(Role.REGENCY_OFFICER, "33.20", "regency-9")
MINISTRY = Caller(Role.MINISTRY_OFFICER, "ID", "ministry-1")


# --- the service and its API ---------------------------------------------------------------


@dataclass
class Api:
    objections: Objections
    service: CaseService
    client: TestClient
    issuer: TokenIssuer
    evidence_dir: Path

    def call(
        self,
        method: str,
        path: str,
        caller: Caller | None,
        body: dict[str, Any] | None = None,
        *,
        content: bytes | None = None,
        content_type: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Response:
        headers = {}
        if caller is not None:
            token = self.issuer.mint(role=caller.role, region=caller.region, subject=caller.subject)
            headers["Authorization"] = f"Bearer {token}"
        if content_type is not None:
            headers["Content-Type"] = content_type
        response: Response = self.client.request(
            method, path, json=body, content=content, params=params, headers=headers
        )
        return response

    def get(self, path: str, caller: Caller | None, **params: Any) -> Response:
        return self.call("GET", path, caller, params=params or None)

    def post(self, path: str, caller: Caller | None, body: dict[str, Any]) -> Response:
        return self.call("POST", path, caller, body)

    def upload(self, caller: Caller, data: bytes, content_type: str | None) -> Response:
        return self.call("POST", "/evidence", caller, content=data, content_type=content_type)

    def photo(self, caller: Caller, seed: int, label: str = "FIELD_VISIT") -> dict[str, Any]:
        response = self.upload(caller, png_bytes(seed=seed), "image/png")
        assert response.status_code == 201, response.text
        return {"content_hash": response.json()["content_hash"], "label": label}

    def file(self, caller: Caller, **body: Any) -> Response:
        body.setdefault("request_id", "file-0001")
        body.setdefault("kind", "OBJECTION")
        body.setdefault("reason_code", "NOT_POOR")
        return self.post("/cases", caller, body)

    def review(self, caller: Caller, case_id: str, **body: Any) -> Response:
        body.setdefault("request_id", f"review-{body['stage'].lower()}")
        body.setdefault("outcome", "UPHELD")
        return self.post(f"/cases/{case_id}/reviews", caller, body)

    def show(self, case_id: str, caller: Caller = REGENCY) -> dict[str, Any]:
        response = self.get(f"/cases/{case_id}", caller)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def cases(self, caller: Caller = MINISTRY, **params: Any) -> list[dict[str, Any]]:
        self.objections.view.catch_up()
        response = self.get("/cases", caller, **params)
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()
        return body

    def stored(self) -> int:
        """The notification log's last id: it moves whenever anything is stored."""
        return self.objections.app.recorder.max_notification_id() or 0

    def evidence_files(self) -> list[Path]:
        if not self.evidence_dir.exists():
            return []
        return sorted(p for p in self.evidence_dir.rglob("*") if p.is_file())


def open_api(
    data_dir: Path,
    registry: FakeRegistry,
    *,
    objections_per_month: int = 5,
    clock: Callable[[], datetime] | None = None,
) -> Api:
    """The service on a SQLite store in ``data_dir`` and its API, with a fresh token key."""
    options = ObjectionsSettings(
        evidence_dir=data_dir / "evidence",
        max_evidence_bytes=MAX_BYTES,
        objections_per_month=objections_per_month,
    )
    o = bootstrap(ServiceSettings(service="objections", data_dir=data_dir), options, registry)
    service = o.service
    if clock is not None:
        service = CaseService(
            o.app, o.service.chains, o.service.registry, o.service.evidence,
            objections_per_month=objections_per_month, clock=clock,
        )  # fmt: skip
    key = Ed25519PrivateKey.generate()
    http = create_api(o.app, o.settings, service=service)
    use_verifier(http, TokenVerifier.for_dev_key(key.public_key()))
    return Api(o, service, TestClient(http), TokenIssuer(key), data_dir / "evidence")


ApiMaker = Callable[..., Api]


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[ApiMaker]:
    opened: list[Api] = []

    def make(**options: Any) -> Api:
        opened.append(open_api(tmp_path, FakeRegistry(), **options))
        return opened[-1]

    yield make
    for api in opened:
        api.objections.close()


@pytest.fixture
def api(make_api: ApiMaker) -> Api:
    return make_api()


def reason(response: Response) -> str:
    """Why a request was refused: ``detail`` as a sentence (or the auth error's reason)."""
    detail = response.json()["detail"]
    text = detail["reason"] if isinstance(detail, dict) else detail
    assert isinstance(text, str), response.text
    assert len(text.split()) >= 3, response.text
    return text


def refused(response: Response, status: int, code: str | None = None) -> str:
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["code"] == code, response.text
    return reason(response)


def yesterday() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).date().isoformat()


def field_check_body(api: Api, reviewer: Caller, when: datetime | None = None) -> dict[str, Any]:
    visited = (when or datetime.now(UTC)) - timedelta(hours=2)
    return {
        "stage": "FIELD_CHECK",
        "visited_at": visited.isoformat(),
        "location": JOMBANG,
        "evidence": [{**api.photo(reviewer, 50), "location": JOMBANG}],
    }


# --- evidence ---------------------------------------------------------------------------------


def test_an_upload_is_stored_by_the_hash_of_its_content(api: Api) -> None:
    data = png_bytes(seed=1)
    first = api.upload(CITIZEN, data, "image/png")
    assert first.status_code == 201, first.text
    digest = hashlib.sha256(data).hexdigest()
    assert first.json() == {"content_hash": digest, "media_type": "image/png", "size": len(data)}
    again = api.upload(PKH, data, "image/png")
    assert (again.status_code, again.json()["content_hash"]) == (201, digest)
    assert len(api.evidence_files()) == 1

    for image, media_type in ((jpeg_bytes(1), "image/jpeg"), (webp_bytes(1), "image/webp")):
        response = api.upload(CITIZEN, image, media_type)
        assert response.status_code == 201, response.text
        assert response.json()["media_type"] == media_type
    undeclared = api.upload(CITIZEN, png_bytes(seed=2), None)
    assert undeclared.status_code == 201, undeclared.text
    assert undeclared.json()["media_type"] == "image/png"
    assert len(api.evidence_files()) == 4

    photo = api.get(f"/evidence/{digest}", REGENCY)
    assert (photo.status_code, photo.content, photo.headers["content-type"]) == (
        200,
        data,
        "image/png",
    )
    refused(api.get(f"/evidence/{digest}", CITIZEN), 403)
    assert api.get(f"/evidence/{'0' * 64}", REGENCY).status_code == 404


TRUNCATED_PNG = png_bytes(seed=3)[:-12]
TRUNCATED_JPEG = jpeg_bytes(3)[:-2]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code", "words"),
    [
        pytest.param(
            b"%PDF-1.4\n1 0 obj << >> endobj\n",
            "application/pdf",
            415,
            "WRONG_TYPE",
            "a PDF document",
            id="pdf",
        ),
        pytest.param(
            b"this is my house, honestly\n",
            "text/plain",
            415,
            "WRONG_TYPE",
            "plain text",
            id="text",
        ),
        pytest.param(
            png_bytes(64, 64, seed=4),
            "image/png",
            413,
            None,
            "larger than the 4,096 bytes",
            id="too large",
        ),
        pytest.param(
            TRUNCATED_PNG,
            "image/png",
            422,
            "TRUNCATED",
            "PNG file is truncated",
            id="truncated png",
        ),
        pytest.param(
            TRUNCATED_JPEG,
            "image/jpeg",
            422,
            "TRUNCATED",
            "JPEG file is truncated",
            id="truncated jpeg",
        ),
        pytest.param(
            png_bytes(seed=5),
            "image/jpeg",
            415,
            "TYPE_MISMATCH",
            "sent as image/jpeg but its content is a PNG",
            id="type mismatch",
        ),
        pytest.param(b"", "image/png", 422, "EMPTY", "the file is empty", id="empty"),
        pytest.param(
            png_bytes(seed=6),
            "multipart/form-data; boundary=x",
            415,
            None,
            "not a form",
            id="form",
        ),
    ],
)
def test_a_malformed_upload_is_refused_naming_the_problem_and_stores_nothing(
    api: Api, data: bytes, content_type: str, status: int, code: str | None, words: str
) -> None:
    response = api.upload(CITIZEN, data, content_type)
    assert words in refused(response, status, code)
    assert api.evidence_files() == []
    assert api.stored() == 0

    # A case citing what was refused is refused in turn, and leaves no case.
    digest = hashlib.sha256(data).hexdigest()
    cited = api.file(
        CITIZEN, household_id="HH-J1", evidence=[{"content_hash": digest, "label": "OTHER"}]
    )
    assert "upload it first" in refused(cited, 422, "EVIDENCE_NOT_UPLOADED")
    assert api.cases() == []
    assert api.stored() == 0


def test_uploads_need_an_uploader_and_a_token(api: Api) -> None:
    assert "allowed roles are" in refused(
        api.upload(Caller(Role.REGENCY_OFFICER, "35.17"), png_bytes(), "image/png"), 403
    )
    response = api.call("POST", "/evidence", None, content=png_bytes(), content_type="image/png")
    assert response.status_code == 401
    assert api.evidence_files() == []


# --- filing -------------------------------------------------------------------------------


def test_coordinates_outside_the_regency_are_422_and_leave_no_case(api: Api) -> None:
    response = api.file(CITIZEN, household_id="HH-J1", location=SURABAYA)
    assert "outside regency 35.17" in refused(response, 422, "OUTSIDE_REGENCY")
    evidence = {**api.photo(CITIZEN, 1, "DOCUMENT"), "location": JEPARA}
    response = api.file(CITIZEN, household_id="HH-J1", evidence=[evidence])
    assert "evidence[0].location" in refused(response, 422, "OUTSIDE_REGENCY")
    assert api.cases() == []
    assert api.stored() == 0
    assert api.file(CITIZEN, household_id="HH-J1", location=JOMBANG).status_code == 201


def test_a_malformed_case_is_422(api: Api) -> None:
    for body in (
        {"household_id": "HH-J1", "location": {"latitude": 95, "longitude": 0}},
        {"household_id": "HH-J1", "nik": "1234"},
        {"household_id": "HH-J1", "request_id": "short"},
        {"household_id": "HH-J1", "kind": "PRAISE"},
        {"household_id": "HH-J1", "surprise": True},
    ):
        response = api.file(CITIZEN, **body)
        assert response.status_code == 422, response.text
    assert "reason code 'NOT_POOR'" in refused(
        api.file(CITIZEN, household_id="HH-J1", kind="COMPLAINT"), 422, "UNKNOWN_REASON"
    )
    assert api.stored() == 0


def test_an_objection_walks_the_full_chain_to_exclusion(api: Api) -> None:
    filed = api.file(
        CITIZEN, household_id="HH-J2", reason_text="they own two cars", programs=["PKH"],
        evidence=[{**api.photo(CITIZEN, 1, "DOCUMENT"), "location": JOMBANG}],
    )  # fmt: skip
    assert filed.status_code == 201, filed.text
    case = filed.json()
    case_id = case["case_id"]
    assert (case["state"], case["stage"], case["stage_roles"], case["chain"]) == (
        "OPEN",
        "FIELD_CHECK",
        ["PKH_FACILITATOR", "TKSK"],
        "FULL",
    )
    assert (case["changed"], case["merged"], case["supporters"]) == (True, False, 0)

    assert "awaits FIELD_CHECK" in refused(
        api.review(
            SECOND_OPERATOR,
            case_id,
            stage="VILLAGE_MUSDESUS",
            meeting_date=yesterday(),
            attendance=9,
        ),
        409,
        "WRONG_STAGE",
    )
    checked = api.review(PKH, case_id, **field_check_body(api, PKH))
    assert checked.status_code == 200, checked.text
    assert checked.json()["stage"] == "VILLAGE_MUSDESUS"
    repeated = api.review(PKH, case_id, **field_check_body(api, PKH))
    assert (repeated.status_code, repeated.json()["changed"]) == (200, False)

    met = api.review(
        OPERATOR, case_id, stage="VILLAGE_MUSDESUS", meeting_date=yesterday(), attendance=40
    )
    assert (met.status_code, met.json()["stage"]) == (200, "REGENCY"), met.text
    decided = api.review(REGENCY, case_id, stage="REGENCY", notes="confirmed")
    assert (decided.status_code, decided.json()["stage"]) == (200, "MINISTRY"), decided.text
    resolved = api.review(MINISTRY, case_id, stage="MINISTRY", effect="EXCLUSION")
    assert resolved.status_code == 200, resolved.text
    assert {k: resolved.json()[k] for k in ("state", "stage", "outcome", "effect", "due_at")} == {
        "state": "RESOLVED",
        "stage": None,
        "outcome": "UPHELD",
        "effect": "EXCLUSION",
        "due_at": None,
    }

    shown = api.show(case_id)
    steps = [
        (s["step"], s["stage"], s["outcome"], s["actor_role"], s["actor_id"])
        for s in shown["steps"]
    ]
    assert steps == [
        ("SUBMITTED", None, None, "CITIZEN", "citizen-1"),
        ("REVIEWED", "FIELD_CHECK", "UPHELD", "PKH_FACILITATOR", "pkh-1"),
        ("REVIEWED", "VILLAGE_MUSDESUS", "UPHELD", "VILLAGE_OPERATOR", "operator-1"),
        ("REVIEWED", "REGENCY", "UPHELD", "REGENCY_OFFICER", "regency-1"),
        ("REVIEWED", "MINISTRY", "UPHELD", "MINISTRY_OFFICER", "ministry-1"),
        ("RESOLVED", None, "UPHELD", "MINISTRY_OFFICER", "ministry-1"),
    ]
    assert [s["version"] for s in shown["steps"]] == [1, 2, 3, 4, 5, 6]
    assert shown["steps"][0]["notes"] == "they own two cars"
    field = shown["steps"][1]["details"]
    assert set(field) == {"visited_at", "location", "evidence"}
    assert field["location"] == JOMBANG
    assert field["evidence"][0]["label"] == "FIELD_VISIT"
    assert shown["steps"][2]["details"] == {"meeting_date": yesterday(), "attendance": 40}
    assert shown["steps"][5]["details"] == {"effect": "EXCLUSION"}
    assert shown["version"] == 6

    late = api.review(REGENCY, case_id, stage="REGENCY", request_id="too-late-1")
    assert "already resolved" in refused(late, 409, "CASE_CLOSED")
    withdrawn = api.post(f"/cases/{case_id}/withdrawal", CITIZEN, {"request_id": "withdraw-1"})
    refused(withdrawn, 409, "CASE_CLOSED")
    [row] = api.cases(REGENCY)
    assert (row["case_id"], row["state"], row["effect"]) == (case_id, "RESOLVED", "EXCLUSION")


def test_a_village_operator_who_filed_may_not_hold_the_musdesus_review(api: Api) -> None:
    filed = api.file(OPERATOR, household_id="HH-J3")
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]
    assert api.review(PKH, case_id, **field_check_body(api, PKH)).status_code == 200
    musdesus = {"stage": "VILLAGE_MUSDESUS", "meeting_date": yesterday(), "attendance": 12}
    response = api.review(OPERATOR, case_id, **musdesus)
    assert "must be reviewed by someone else" in refused(response, 403, "NOT_INDEPENDENT")
    assert api.show(case_id)["stage"] == "VILLAGE_MUSDESUS"
    assert api.review(SECOND_OPERATOR, case_id, **musdesus).status_code == 200


def test_a_duplicate_is_merged_with_200(api: Api) -> None:
    first = api.file(CITIZEN, household_id="HH-J2")
    second = api.file(NEIGHBOUR, household_id="HH-J2", request_id="file-0002")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["case_id"] == first.json()["case_id"]
    assert (second.json()["merged"], second.json()["supporters"]) == (True, 1)
    retried = api.file(CITIZEN, household_id="HH-J2")
    assert (retried.status_code, retried.json()["changed"]) == (200, False)


def test_cases_overdue_in_the_callers_region(make_api: ApiMaker) -> None:
    api = make_api(clock=Clock(PAST))  # every case was filed 20 days ago
    jombang = api.file(CITIZEN, household_id="HH-J2").json()["case_id"]
    jepara = api.file(JEPARA_OPERATOR, household_id="HH-P1", location=JEPARA).json()["case_id"]
    dismissed = api.file(CITIZEN, household_id="HH-J3", request_id="file-0003").json()["case_id"]
    check = field_check_body(api, PKH, PAST) | {"outcome": "DISMISSED", "notes": "not found"}
    assert api.review(PKH, dismissed, **check).status_code == 200
    api.objections.view.catch_up()

    response = api.get("/cases/overdue", REGENCY)
    assert response.status_code == 200, response.text
    [row] = response.json()
    assert (row["case_id"], row["kind"], row["village"], row["stage"]) == (
        jombang,
        "OBJECTION",
        VILLAGE,
        "FIELD_CHECK",
    )
    assert row["due_at"] == (PAST + timedelta(days=14)).isoformat()
    assert row["days_overdue"] == 6
    assert [r["case_id"] for r in api.get("/cases/overdue", JEPARA_REGENCY).json()] == [jepara]
    everywhere = api.get("/cases/overdue", MINISTRY).json()
    assert sorted(r["case_id"] for r in everywhere) == sorted([jombang, jepara])
    assert [r["case_id"] for r in api.get("/cases/overdue", PKH).json()] == [jombang]
    within = api.get("/cases/overdue", MINISTRY, region="33.20")
    assert [r["case_id"] for r in within.json()] == [jepara]
    assert "outside your region" in refused(
        api.get("/cases/overdue", JEPARA_REGENCY, region="35.17"), 403
    )
    refused(api.get("/cases/overdue", CITIZEN), 403)
    assert api.get("/cases/overdue", REGENCY, region="not-a-region").status_code == 422


def test_a_citizen_lists_and_reads_only_the_cases_they_filed(api: Api) -> None:
    mine = api.file(CITIZEN, household_id="HH-J2").json()["case_id"]
    api.file(NEIGHBOUR, household_id="HH-J2", request_id="file-0002")  # merged into mine
    theirs = api.file(
        NEIGHBOUR, household_id="HH-J3", kind="COMPLAINT", reason_code="WRONG_PAYMENT",
        request_id="file-0003",
    ).json()["case_id"]  # fmt: skip
    refusal = api.file(
        CITIZEN, kind="REFUSAL", reason_code="SELF_SUFFICIENT", nik=HEAD_NIK, name=HEAD_NAME,
        request_id="file-0004",
    )  # fmt: skip
    assert refusal.status_code == 201, refusal.text
    assert refusal.json()["household_id"] == "HH-J1"
    assert HEAD_NIK not in refusal.text and HEAD_NAME not in refusal.text

    assert sorted(r["case_id"] for r in api.cases(CITIZEN)) == sorted(
        [mine, refusal.json()["case_id"]]
    )
    assert [r["case_id"] for r in api.cases(NEIGHBOUR)] == [theirs]
    assert len(api.cases(REGENCY)) == 3
    assert api.cases(JEPARA_REGENCY) == []
    assert [r["case_id"] for r in api.cases(REGENCY, kind="COMPLAINT")] == [theirs]

    assert api.show(mine, CITIZEN)["case_id"] == mine
    assert "only read the cases they filed" in refused(api.get(f"/cases/{theirs}", CITIZEN), 403)
    assert "outside your region" in refused(api.get(f"/cases/{mine}", JEPARA_REGENCY), 403)
    assert api.get("/cases/C-NOPE", REGENCY).status_code == 404

    withdrawn = api.post(f"/cases/{mine}/withdrawal", CITIZEN, {"request_id": "withdraw-1"})
    assert (withdrawn.status_code, withdrawn.json()["outcome"]) == (200, "WITHDRAWN")


def test_the_monthly_limit_is_429(make_api: ApiMaker) -> None:
    api = make_api(objections_per_month=1)
    assert api.file(CITIZEN, household_id="HH-J2").status_code == 201
    again = api.file(CITIZEN, household_id="HH-J3", request_id="file-0002")
    assert "the most a month" in refused(again, 429, "LIMIT_REACHED")
    assert api.file(CITIZEN, household_id="HH-J2").status_code == 200  # a retry is no new filing
    assert api.file(OPERATOR, household_id="HH-J3", request_id="file-0003").status_code == 201
    assert len(api.cases()) == 2


def test_the_chains_are_listed(api: Api) -> None:
    response = api.get("/chains", CITIZEN)
    assert response.status_code == 200, response.text
    chains = response.json()
    assert set(chains) == {kind.value for kind in CaseKind}
    assert [s["stage"] for s in chains["REFUSAL"]["stages"]] == ["VILLAGE_MUSDESUS", "REGENCY"]
    assert chains["OBJECTION"]["effects"] == ["EXCLUSION", "RERANKING_REQUESTED"]


# --- the permission matrix ------------------------------------------------------------------
# The specification, written out independently of bansos_objections.policy and chains.yaml.
# Y: the role may, in a region covering the case's village (uploads: anywhere).

ACTIONS = [
    "upload",  # upld: POST /evidence
    "proposal",  # prop: POST /cases, kind PROPOSAL
    "objection",  # obj
    "refusal",  # refu
    "complaint",  # cmpl
    "field_check",  # fld: POST /cases/{id}/reviews at FIELD_CHECK
    "musdesus",  # musd: … at VILLAGE_MUSDESUS
    "regency",  # regc: … at REGENCY
    "ministry",  # mnst: … at MINISTRY
    "withdraw",  # wdrw: POST /cases/{id}/withdrawal, by someone who did not file it
    "read",  # read: GET /cases/{id}
    "overdue",  # ovrd: GET /cases/overdue?region=<the case's village>
]
SPEC = """
role              upld prop obj  refu cmpl fld  musd regc mnst wdrw read ovrd
CITIZEN           Y    Y    Y    Y    Y    .    .    .    .    .    .    .
VILLAGE_OPERATOR  Y    Y    Y    Y    Y    .    Y    .    .    .    Y    Y
PKH_FACILITATOR   Y    Y    Y    .    Y    Y    .    .    .    .    Y    Y
TKSK              Y    Y    Y    .    Y    Y    .    .    .    .    Y    Y
DISTRICT_OFFICER  Y    .    .    .    Y    .    .    .    .    .    Y    Y
REGENCY_OFFICER   .    .    .    .    .    .    .    Y    .    .    Y    Y
PROVINCE_OFFICER  .    .    .    .    .    .    .    .    .    .    Y    Y
MINISTRY_OFFICER  .    .    .    .    .    .    .    .    Y    .    Y    Y
AUDITOR           .    .    .    .    .    .    .    .    .    .    Y    Y
CHANNEL_OPERATOR  .    .    .    .    .    .    .    .    .    .    .    .
SYSTEM            .    .    .    .    .    .    .    .    .    .    Y    Y
"""
# A citizen reads only what they filed; the matrix's citizen did not file the case it reads.
# Withdrawal is for the filer only; the matrix's callers never filed (the filer: elsewhere).


def _allowed() -> dict[str, frozenset[Role]]:
    header, *lines = SPEC.strip().splitlines()
    assert len(header.split()) == len(ACTIONS) + 1
    table: dict[str, set[Role]] = {action: set() for action in ACTIONS}
    for line in lines:
        role, *marks = line.split()
        assert len(marks) == len(ACTIONS), line
        for action, mark in zip(ACTIONS, marks, strict=True):
            assert mark in "Y."
            if mark == "Y":
                table[action].add(Role(role))
    assert {line.split()[0] for line in lines} == {role.value for role in Role}
    return {action: frozenset(roles) for action, roles in table.items()}


ALLOWED = _allowed()
SUCCESS = (
    {"upload": 201, "read": 200, "overdue": 200}
    | dict.fromkeys(("proposal", "objection", "refusal", "complaint"), 201)
    | dict.fromkeys(("field_check", "musdesus", "regency", "ministry", "withdraw"), 200)
)
REFUSAL_STATUS: dict[tuple[Role, str, bool], tuple[int, str]] = {
    # A citizen names their own household by NIK and name; the registry looks for it in
    # the citizen's village only, so a household of another village is simply not found.
    (Role.CITIZEN, "proposal", False): (422, "NOT_IDENTIFIED"),
    (Role.CITIZEN, "refusal", False): (422, "NOT_IDENTIFIED"),
}
"""Refusals that are not 403, by (role, action, inside the caller's region)."""


STAGES = {
    "field_check": "FIELD_CHECK",
    "musdesus": "VILLAGE_MUSDESUS",
    "regency": "REGENCY",
    "ministry": "MINISTRY",
}
KINDS = {
    "proposal": ("PROPOSAL", "WRONG_DECILE"),
    "objection": ("OBJECTION", "NOT_POOR"),
    "refusal": ("REFUSAL", "SELF_SUFFICIENT"),
    "complaint": ("COMPLAINT", "INELIGIBLE_RECIPIENT"),
}
# Who prepares the matrix's case: nobody the matrix calls as.
FILER = Caller(Role.CITIZEN, VILLAGE, "matrix-filer")
PREPARERS = {
    "FIELD_CHECK": Caller(Role.TKSK, "35.17.01", "matrix-tksk"),
    "VILLAGE_MUSDESUS": Caller(Role.VILLAGE_OPERATOR, VILLAGE, "matrix-operator"),
    "REGENCY": Caller(Role.REGENCY_OFFICER, "35.17", "matrix-regency"),
}


class MatrixRegistry(FakeRegistry):
    """Also knows a household ``HH-M<n>`` in VILLAGE for every ``n``, headed by NIK
    ``3517019900<n:06d>`` under the name ``Head <n>``: one new household per matrix test."""

    def place(self, household_id: str) -> HouseholdPlace | None:
        if household_id.startswith("HH-M") and household_id[4:].isdigit():
            return HouseholdPlace(household_id, VILLAGE, True)
        return super().place(household_id)

    def __call__(self, nik: str, name: str, village: str) -> Identified | None:
        number = int(nik[-6:])
        if nik.startswith("3517019900") and (name, village) == (f"Head {number}", VILLAGE):
            return Identified(f"HH-M{number}", VILLAGE, "H***")
        return super().__call__(nik, name, village)


@dataclass
class Matrix:
    """The service shared by the matrix's tests (all filed 20 days ago) and a household
    number for each test, so each has a household and case of its own."""

    api: Api
    households: Iterator[int]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    data_dir = tmp_path_factory.mktemp("matrix")
    api = open_api(data_dir, MatrixRegistry(), objections_per_month=10_000, clock=Clock(PAST))
    yield Matrix(api, itertools.count(1))
    api.objections.close()


def review_request(api: Api, stage: str, request_id: str) -> ReviewRequest:
    if stage == "FIELD_CHECK":
        stored = api.service.evidence.upload(png_bytes(seed=77), "image/png")
        return ReviewRequest(
            request_id=request_id, stage=stage, outcome="UPHELD",
            visited_at=PAST - timedelta(hours=3), location=Point(-7.55, 112.23),
            evidence=(EvidenceRef(stored.content_hash, "FIELD_VISIT"),),
        )  # fmt: skip
    if stage == "VILLAGE_MUSDESUS":
        return ReviewRequest(
            request_id=request_id, stage=stage, outcome="UPHELD",
            meeting_date=(PAST - timedelta(days=1)).date(), attendance=25,
        )  # fmt: skip
    return ReviewRequest(request_id=request_id, stage=stage, outcome="UPHELD")


def prepare(api: Api, household: str, stage: str = "FIELD_CHECK") -> str:
    """An objection about ``household`` (in VILLAGE) awaiting ``stage``, filed 20 days ago."""
    service = api.service
    review_request(api, "FIELD_CHECK", "upload-the-photo")  # uploaded before the test acts
    submission = Submission(
        request_id=f"matrix-{household}", kind=CaseKind.OBJECTION, reason_code="NOT_POOR",
        household_id=household,
    )  # fmt: skip
    case_id = service.submit(FILER.principal(), submission).case.case_id
    for earlier in ("FIELD_CHECK", "VILLAGE_MUSDESUS", "REGENCY"):
        if earlier == stage:
            break
        request = review_request(api, earlier, f"matrix-{earlier.lower()}")
        service.review(PREPARERS[earlier].principal(), case_id, request)
    case = service.case(case_id)
    assert case.stage is not None and case.stage["stage"] == stage
    return case_id


def setup(api: Api, action: str, household: str) -> str | None:
    """The case an action is tried on: awaiting the stage reviewed, else just filed."""
    if action == "upload" or action in KINDS:
        return None
    return prepare(api, household, STAGES.get(action, "FIELD_CHECK"))


def act(api: Api, action: str, caller: Caller, number: int, case_id: str | None) -> Response:
    """Do ``action`` as ``caller``, about household ``HH-M<number>`` or its case."""
    if action == "upload":
        return api.upload(caller, png_bytes(seed=1000 + number), "image/png")
    if action in KINDS:
        kind, reason_code = KINDS[action]
        body: dict[str, Any] = {"kind": kind, "reason_code": reason_code}
        if caller.role is Role.CITIZEN and kind in ("PROPOSAL", "REFUSAL"):
            body |= {"nik": f"3517019900{number:06d}", "name": f"Head {number}"}
        else:
            body |= {"household_id": f"HH-M{number}"}
        return api.file(caller, request_id=f"matrix-file-{number}", **body)
    assert case_id is not None
    if action in STAGES:
        request = review_request(api, STAGES[action], "matrix-review")
        body = {"stage": request.stage, "request_id": request.request_id}
        if request.visited_at is not None:
            body |= {
                "visited_at": request.visited_at.isoformat(),
                "location": JOMBANG,
                "evidence": [
                    {"content_hash": e.content_hash, "label": e.label} for e in request.evidence
                ],
            }
        if request.meeting_date is not None:
            body |= {
                "meeting_date": request.meeting_date.isoformat(),
                "attendance": request.attendance,
            }
        return api.review(caller, case_id, **body)
    if action == "withdraw":
        body = {"request_id": "matrix-withdraw", "notes": "changed my mind"}
        return api.post(f"/cases/{case_id}/withdrawal", caller, body)
    if action == "read":
        return api.get(f"/cases/{case_id}", caller)
    assert action == "overdue"
    api.objections.view.catch_up()
    return api.get("/cases/overdue", caller, region=VILLAGE, limit=1000)


MATRIX = [
    pytest.param(action, Caller(role, region), inside, id=f"{action}-{role.value}-{where}")
    for action in ACTIONS
    for role, regions in REGIONS.items()
    for inside, where, region in ((True, "own", regions[0]), (False, "other", regions[1]))
    if region is not None
]


@pytest.mark.parametrize(("action", "caller", "inside"), MATRIX)
def test_permission_matrix(matrix: Matrix, action: str, caller: Caller, inside: bool) -> None:
    api, number = matrix.api, next(matrix.households)
    household = f"HH-M{number}"
    case_id = setup(api, action, household)
    version = None if case_id is None else api.service.case(case_id).version
    before = api.stored()
    uploads = api.evidence_files()
    response = act(api, action, caller, number, case_id)
    if caller.role in ALLOWED[action] and (inside or action == "upload"):
        assert response.status_code == SUCCESS[action], response.text
        body = response.json()
        if action in KINDS:
            assert (body["kind"], body["household_id"], body["village"]) == (
                KINDS[action][0],
                household,
                VILLAGE,
            )
            assert (body["changed"], body["merged"]) == (True, False)
        elif action in STAGES:
            resolves = action == "ministry"
            assert (body["changed"], body["version"]) == (True, (version or 0) + 1 + resolves)
            assert body["steps"][-1]["actor_role"] == caller.role.value
        elif action == "read":
            assert (body["case_id"], body["version"]) == (case_id, version)
        elif action == "overdue":
            assert case_id in [row["case_id"] for row in body]
        return
    status, code = REFUSAL_STATUS.get((caller.role, action, inside), (403, None))
    refused(response, status, code)
    assert api.stored() == before  # the refused request stored nothing…
    assert api.evidence_files() == uploads
    if action in KINDS:
        assert api.cases(household_id=household) == []
    elif case_id is not None:  # …and the case is as it was
        case = api.service.case(case_id)
        assert (case.is_open, case.version) == (True, version)
