"""Citizens' cases change who is paid, on real Kafka and PostgreSQL, services as processes.

Registry → eligibility → approved lists → payouts scheduled. Then, through the
objections API:

- a family refuses aid for itself (named by NIK and name, checked by the registry), the
  village confirms it in Musdesus and the regency upholds it: the household becomes
  ineligible (``REFUSED``) and its pending payout is cancelled;
- a neighbour objects to a recipient with a photo; a PKH facilitator checks in the field,
  the village, the regency and the ministry uphold it with ``EXCLUSION``: the same;
- another objection is dismissed by the ministry: nothing changes for that household;
- a duplicate objection is merged into the open case; uploads that are not photos, too
  large or truncated, and coordinates outside the regency, are refused and leave no case.

No message on the objections topic carries the NIK the citizen gave.
"""

from __future__ import annotations

import csv
import json
import uuid
from typing import Any

import pytest

from bansos_registry.sample import SampleSpec, write_snapshot
from services.objections.tests.images import jpeg_bytes, png_bytes
from tests.integration.audit_checks import check_audit_trail
from tests.integration.services import ServiceStack
from tests.integration.workflow import (
    PERIOD,
    PROGRAM,
    REGENCY,
    Api,
    approve_every_village,
    count,
    payouts_by_id,
)

pytestmark = pytest.mark.integration

HOUSEHOLDS = 120
PROGRAMS = 4
INSIDE = {"latitude": -7.55, "longitude": 112.23}  # Jombang
SURABAYA = {"latitude": -7.25, "longitude": 112.75}  # another regency


def _request() -> str:
    return uuid.uuid4().hex


class Cases:
    """The objections API as the people of one village use it."""

    def __init__(self, api: Api, village: str) -> None:
        self.api = api
        self.village = village
        self.district = village.rsplit(".", 1)[0]

    def upload(self, data: bytes, media_type: str, role: str = "CITIZEN") -> Any:
        region = self.district if role == "PKH_FACILITATOR" else self.village
        return self.api.call(
            "POST", "objections", "/evidence", role, region, content=data,
            headers={"Content-Type": media_type},
        )  # fmt: skip

    def review(self, case_id: str, role: str, region: str, body: dict[str, Any]) -> Any:
        return self.api.ok(
            "POST", "objections", f"/cases/{case_id}/reviews", role, region,
            json={"request_id": _request(), **body},
        )  # fmt: skip


def _citizen_post(api: Api, village: str, subject: str, body: dict[str, Any]) -> Any:
    import httpx

    token = api.stack.token("CITIZEN", village, subject=subject)
    return httpx.post(
        api.stack.url("objections") + "/cases",
        json={"request_id": _request(), **body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _decision(stack: ServiceStack, household: str) -> tuple[str, str, int]:
    rows = stack.query(
        "eligibility",
        "SELECT status, reasons, version FROM eligibility_decisions"
        " WHERE household_id = %s AND program = %s AND period = %s",
        (household, PROGRAM, PERIOD),
    )
    status, reasons, version = rows[0]
    return status, reasons, int(version)


def _case_known_to_eligibility(stack: ServiceStack, case_id: str) -> str | None:
    rows = stack.query(
        "eligibility", "SELECT outcome FROM eligibility_cases WHERE case_id = %s", (case_id,)
    )
    return rows[0][0] if rows else None


def test_upheld_cases_stop_payment_and_dismissed_ones_change_nothing(
    stack: ServiceStack,
) -> None:
    snapshot = stack.folder / "sample.csv"
    write_snapshot(snapshot, SampleSpec(households=HOUSEHOLDS, seed=31))
    with snapshot.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stack.import_snapshot(rows, "S-1", 1)
    for service in ("registry", "eligibility", "payout", "objections"):
        stack.start(service)
    api = Api(stack)
    decisions = "SELECT count(*) FROM eligibility_decisions"
    stack.wait_for(
        lambda: count(stack, "eligibility", decisions) == HOUSEHOLDS * PROGRAMS, 120, "decisions"
    )
    approved = approve_every_village(api, sorted({r["village_code"] for r in rows}))
    stack.wait_for(lambda: len(payouts_by_id(stack)) == approved, 120, "payouts scheduled")
    payouts = payouts_by_id(stack)
    by_household = {pid.rsplit(":", 1)[1]: pid for pid in payouts}
    by_row = {r["household_id"]: r for r in rows}
    refusing, excluded, kept = sorted(by_household)[:3]

    # 1. A family refuses aid for itself; the village and the regency confirm.
    row = by_row[refusing]
    village = row["village_code"]
    answer = _citizen_post(
        api, village, "citizen-refusing",
        {"kind": "REFUSAL", "reason_code": "SELF_SUFFICIENT", "nik": row["head_nik"],
         "name": row["head_name"], "reason_text": "Our shop now feeds us."},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    refusal = answer.json()
    assert (refusal["household_id"], refusal["chain"], refusal["stage"]) == (
        refusing, "LOCAL", "VILLAGE_MUSDESUS",
    )  # fmt: skip
    cases = Cases(api, village)
    cases.review(
        refusal["case_id"], "VILLAGE_OPERATOR", village,
        {"stage": "VILLAGE_MUSDESUS", "outcome": "UPHELD", "meeting_date": "2025-11-01",
         "attendance": 31, "notes": "confirmed in Musdesus"},
    )  # fmt: skip
    done = cases.review(
        refusal["case_id"], "REGENCY_OFFICER", REGENCY, {"stage": "REGENCY", "outcome": "UPHELD"}
    )
    assert (done["state"], done["outcome"], done["effect"]) == ("RESOLVED", "UPHELD", "OPT_OUT")

    # 2. A neighbour objects with a photo; the whole chain upholds an exclusion.
    row = by_row[excluded]
    village = row["village_code"]
    cases = Cases(api, village)
    photo = cases.upload(jpeg_bytes(seed=1), "image/jpeg")
    assert photo.status_code == 201, photo.text
    evidence = [
        {"content_hash": photo.json()["content_hash"], "label": "OTHER", "location": INSIDE}
    ]
    objection_body = {
        "kind": "OBJECTION", "household_id": excluded, "reason_code": "NOT_POOR",
        "reason_text": "They built a second house this year.", "evidence": evidence,
    }  # fmt: skip
    answer = _citizen_post(api, village, "neighbour-1", objection_body)
    assert answer.status_code == 201, answer.text
    objection = answer.json()
    # A second neighbour's objection against the same household joins the open case.
    again = _citizen_post(api, village, "neighbour-2", objection_body)
    assert again.status_code == 200 and again.json()["case_id"] == objection["case_id"]
    assert again.json()["merged"] is True and again.json()["supporters"] == 1

    field_photo = cases.upload(png_bytes(seed=2), "image/png", role="PKH_FACILITATOR")
    assert field_photo.status_code == 201, field_photo.text
    district = village.rsplit(".", 1)[0]
    cases.review(
        objection["case_id"], "PKH_FACILITATOR", district,
        {"stage": "FIELD_CHECK", "outcome": "UPHELD", "visited_at": "2025-11-03T02:00:00Z",
         "location": INSIDE, "evidence": [
             {"content_hash": field_photo.json()["content_hash"], "label": "FIELD_VISIT"}],
         "notes": "two houses, a car"},
    )  # fmt: skip
    cases.review(
        objection["case_id"], "VILLAGE_OPERATOR", village,
        {"stage": "VILLAGE_MUSDESUS", "outcome": "UPHELD", "meeting_date": "2025-11-05",
         "attendance": 27},
    )  # fmt: skip
    cases.review(
        objection["case_id"], "REGENCY_OFFICER", REGENCY, {"stage": "REGENCY", "outcome": "UPHELD"}
    )
    done = cases.review(
        objection["case_id"], "MINISTRY_OFFICER", "ID",
        {"stage": "MINISTRY", "outcome": "UPHELD", "effect": "EXCLUSION"},
    )  # fmt: skip
    assert (done["outcome"], done["effect"]) == ("UPHELD", "EXCLUSION")
    assert [s["step"] for s in done["steps"]] == [
        "SUBMITTED", "SUPPORTED", "REVIEWED", "REVIEWED", "REVIEWED", "REVIEWED", "RESOLVED",
    ]  # fmt: skip

    # 3. An objection the ministry dismisses.
    row = by_row[kept]
    village = row["village_code"]
    cases = Cases(api, village)
    before = _decision(stack, kept)
    answer = _citizen_post(
        api, village, "neighbour-3",
        {"kind": "OBJECTION", "household_id": kept, "reason_code": "MOVED_AWAY",
         "reason_text": "I think they moved to Surabaya."},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    dismissed = answer.json()
    cases.review(
        dismissed["case_id"], "TKSK", village.rsplit(".", 1)[0],
        {"stage": "FIELD_CHECK", "outcome": "UPHELD", "visited_at": "2025-11-04T02:00:00Z",
         "location": INSIDE, "evidence": [
             {"content_hash": field_photo.json()["content_hash"], "label": "FIELD_VISIT"}]},
    )  # fmt: skip
    cases.review(
        dismissed["case_id"], "VILLAGE_OPERATOR", village,
        {"stage": "VILLAGE_MUSDESUS", "outcome": "UPHELD", "meeting_date": "2025-11-06",
         "attendance": 12},
    )  # fmt: skip
    cases.review(
        dismissed["case_id"], "REGENCY_OFFICER", REGENCY, {"stage": "REGENCY", "outcome": "UPHELD"}
    )
    done = cases.review(
        dismissed["case_id"], "MINISTRY_OFFICER", "ID",
        {"stage": "MINISTRY", "outcome": "DISMISSED", "notes": "still lives there"},
    )  # fmt: skip
    assert (done["outcome"], done["effect"]) == ("DISMISSED", "NONE")

    # The upheld cases make their households ineligible and cancel their payouts.
    stack.wait_for(
        lambda: all(payouts_by_id(stack)[by_household[h]][2] == "CANCELLED"
                    for h in (refusing, excluded)),
        90, "payouts cancelled",
    )  # fmt: skip
    status, reasons, _ = _decision(stack, refusing)
    assert status == "INELIGIBLE" and "REFUSED" in reasons
    status, reasons, _ = _decision(stack, excluded)
    assert status == "INELIGIBLE" and "EXCLUDED_BY_CASE" in reasons

    # The dismissed one changes nothing, once eligibility has taken it in.
    stack.wait_for(
        lambda: _case_known_to_eligibility(stack, dismissed["case_id"]) == "DISMISSED",
        60, "dismissal consumed",
    )  # fmt: skip
    assert _decision(stack, kept) == before
    assert payouts_by_id(stack)[by_household[kept]][2] == "SCHEDULED"

    # Bad uploads and coordinates outside the regency: refused, no case made.
    cases_before = count(stack, "objections", "SELECT count(*) FROM cases")
    png = png_bytes(seed=3)
    for data, media_type, status_code, code in (
        (b"%PDF-1.4 not a photo", "application/pdf", 415, "WRONG_TYPE"),
        (png[: len(png) - 5], "image/png", 422, "TRUNCATED"),
        (b"\xff\xd8\xff" + b"\0" * (6 * 1024 * 1024), "image/jpeg", 413, None),
    ):
        refused = cases.upload(data, media_type)
        assert refused.status_code == status_code, refused.text
        assert refused.json()["detail"]
        if code is not None:
            assert refused.json()["code"] == code
    outside = _citizen_post(
        api, village, "neighbour-4",
        {"kind": "OBJECTION", "household_id": kept, "reason_code": "NOT_POOR",
         "evidence": [{"content_hash": field_photo.json()["content_hash"], "label": "OTHER",
                       "location": SURABAYA}]},
    )  # fmt: skip
    assert outside.status_code == 422 and outside.json()["code"] == "OUTSIDE_REGENCY"
    assert "outside regency 35.17" in outside.json()["detail"]
    stack.wait_for(lambda: True, 1, "the relay")
    assert count(stack, "objections", "SELECT count(*) FROM cases") == cases_before

    # The topic has every case's events, keyed by household, and never the NIK.
    published = stack.published("bansos.objections.v1")
    by_case: dict[str, list[str]] = {}
    for event in published:
        by_case.setdefault(event.case_id, []).append(event.event_type)  # type: ignore[attr-defined]
    assert by_case[refusal["case_id"]] == [
        "CaseSubmitted", "CaseReviewed", "CaseReviewed", "CaseResolved",
    ]  # fmt: skip
    assert by_case[objection["case_id"]] == ["CaseSubmitted"] + ["CaseReviewed"] * 4 + [
        "CaseResolved"
    ]
    text = json.dumps([event.model_dump(mode="json") for event in published])
    assert by_row[refusing]["head_nik"] not in text

    # All of it is in the audit trail, provably (see audit_checks).
    figures = check_audit_trail(stack)
    assert figures.households == HOUSEHOLDS and figures.decile_changes >= HOUSEHOLDS
