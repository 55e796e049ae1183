"""The payout HTTP API: collections, channel files, the period's end, reports, and who may
do what where.

The service runs on a SQLite event store; its payouts come from contract events fed to
its consumer handler (as the tracked consumer would). Tokens are signed with a throwaway
Ed25519 key. Every answer is recorded, and no answer except an invitation letter may
carry a collection code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr

from bansos_contracts.eligibility import BeneficiaryListApproved
from bansos_contracts.enums import Bank, ListStage, Program
from bansos_contracts.examples import example
from bansos_contracts.payout import payout_id
from bansos_contracts.registry import HouseholdRegistered
from bansos_contracts.values import Region
from bansos_libs.auth import Role, TokenIssuer, TokenVerifier
from bansos_libs.auth.fastapi import use_verifier
from bansos_libs.settings import ServiceSettings
from bansos_payout.api import (
    COLLECTORS,
    EXPIRERS,
    FILE_SENDERS,
    INVITATION_READERS,
    RECONCILERS,
    SPTJM_ENTERERS,
    create_api,
    redact,
)
from bansos_payout.application import PayoutSettings
from bansos_payout.bootstrap import Payouts, bootstrap
from tests.fixtures.payout import BLTS_TERMS, feed
from tests.fixtures.regions import OTHER_VILLAGE, REGIONS, VILLAGE

PROGRAM, PERIOD = "BLTS_KESRA", "2025-10..2025-12"
POS_HOUSEHOLDS = ("HH-P1", "HH-P2", "HH-P3")  # expansion recipients: PT Pos
BANK_HOUSEHOLD = "HH-B1"  # a PKH recipient with a BNI KKS card
OTHER_HOUSEHOLD = "HH-Q1"  # PT Pos, in OTHER_VILLAGE
AMOUNT = 900_000
CODE_KEY = "5a" * 32

WIB = timezone(timedelta(hours=7))
COLLECTED_AT = datetime(2025, 11, 25, 9, 0, tzinfo=WIB)  # in the community-point window
AFTER_WINDOWS = datetime(2025, 12, 10, 0, 0, tzinfo=WIB)  # the last window ended 9 Dec 00:00


def pid(household: str) -> str:
    return payout_id(Program.BLTS_KESRA, PERIOD, household)


P1, P2, P3 = (pid(h) for h in POS_HOUSEHOLDS)
B1, Q1 = pid(BANK_HOUSEHOLD), pid(OTHER_HOUSEHOLD)
ALL_PAYOUTS = (P1, P2, P3, B1, Q1)


# --- callers ----------------------------------------------------------------------------


class Caller(NamedTuple):
    """Who calls: a role and the region of their token."""

    role: Role
    region: str

    def __str__(self) -> str:
        return f"{self.role.value}@{self.region}"


CHANNEL = Caller(Role.CHANNEL_OPERATOR, "35.17")
NATIONAL_CHANNEL = Caller(Role.CHANNEL_OPERATOR, "ID")
OTHER_CHANNEL = Caller(Role.CHANNEL_OPERATOR, "33.20")
VILLAGE_OPERATOR = Caller(Role.VILLAGE_OPERATOR, VILLAGE)
REGENCY_OFFICER = Caller(Role.REGENCY_OFFICER, "35.17")
OTHER_REGENCY_OFFICER = Caller(Role.REGENCY_OFFICER, "33.20")
PROVINCE_OFFICER = Caller(Role.PROVINCE_OFFICER, "35")
MINISTRY_OFFICER = Caller(Role.MINISTRY_OFFICER, "ID")
AUDITOR = Caller(Role.AUDITOR, "35.17")
SYSTEM = Caller(Role.SYSTEM, "ID")
CITIZEN = Caller(Role.CITIZEN, VILLAGE)


# --- channel files ----------------------------------------------------------------------

SETTLEMENT_HEADER = "payout_id,collection_code,amount,channel_reference,paid_at\n"
BANK_RESULT_HEADER = "payout_id,amount,status,reason,bank_reference,processed_at\n"


def settlement(*lines: str) -> str:
    return SETTLEMENT_HEADER + "".join(line + "\n" for line in lines)


def bank_result(*lines: str) -> str:
    return BANK_RESULT_HEADER + "".join(line + "\n" for line in lines)


def credited(payout: str, reference: str = "BNI-TX-1") -> str:
    return f"{payout},{AMOUNT},CREDITED,,{reference},2025-11-20T10:00:00+07:00"


# --- the service and its API ------------------------------------------------------------


@dataclass
class Api:
    payouts: Payouts
    client: TestClient
    issuer: TokenIssuer
    answers: list[tuple[str, Response]] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        caller: Caller | None,
        body: dict[str, Any] | None = None,
        *,
        content: str | bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> Response:
        headers = {}
        if caller is not None:
            token = self.issuer.mint(role=caller.role, region=caller.region)
            headers["Authorization"] = f"Bearer {token}"
        if content is not None:
            headers["Content-Type"] = "text/csv"
        response: Response = self.client.request(
            method, path, json=body, content=content, params=params, headers=headers
        )
        self.answers.append((path, response))
        return response

    def get(self, path: str, caller: Caller | None, **params: Any) -> Response:
        return self.call("GET", path, caller, params=params or None)

    def post(self, path: str, caller: Caller | None, body: dict[str, Any]) -> Response:
        return self.call("POST", path, caller, body)

    def upload(
        self, path: str, caller: Caller | None, text: str | bytes, **params: Any
    ) -> Response:
        return self.call("POST", path, caller, content=text, params=params)

    def code(self, payout: str, attempt: int = 1) -> str:
        return self.payouts.signer.code_for(payout, attempt)

    def invitation(self, payout: str, caller: Caller = VILLAGE_OPERATOR) -> dict[str, Any]:
        response = self.get(f"/payouts/{payout}/invitation", caller)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def collect(
        self,
        payout: str,
        code: str,
        reference: str = "POS-TX-1",
        caller: Caller = CHANNEL,
        at: datetime = COLLECTED_AT,
        amount: int = AMOUNT,
    ) -> Response:
        return self.post(
            "/collections",
            caller,
            {
                "payout_id": payout,
                "collection_code": code,
                "amount": amount,
                "channel_reference": reference,
                "collected_at": at.isoformat(),
            },
        )

    def payout(self, payout: str) -> dict[str, Any]:
        response = self.get(f"/payouts/{payout}", REGENCY_OFFICER)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def report(self, caller: Caller = REGENCY_OFFICER, **params: Any) -> dict[str, Any]:
        response = self.get(
            "/reports/reconciliation", caller, program=PROGRAM, period=PERIOD, **params
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def expire(self, caller: Caller = REGENCY_OFFICER, region: str = "35.17") -> Response:
        return self.post(
            f"/periods/{PROGRAM}/{PERIOD}/expiry",
            caller,
            {"region": region, "as_of": AFTER_WINDOWS.isoformat()},
        )

    def sptjm(self, reference: str, caller: Caller = VILLAGE_OPERATOR) -> Response:
        return self.call(
            "PUT",
            f"/sptjm/{PROGRAM}/{PERIOD}/villages/{VILLAGE}",
            caller,
            {"reference": reference},
        )

    def reconcile(
        self,
        sptjm: str,
        outcome: str = "RETURNED_TO_TREASURY",
        payout_ids: list[str] | None = None,
        caller: Caller = REGENCY_OFFICER,
    ) -> Response:
        return self.post(
            "/reconciliations",
            caller,
            {
                "program": PROGRAM,
                "period": PERIOD,
                "village": VILLAGE,
                "outcome": outcome,
                "sptjm_reference": sptjm,
                "payout_ids": payout_ids,
            },
        )


def registered(household: str, village: str, bank: Bank | None = None) -> HouseholdRegistered:
    return example(
        HouseholdRegistered,
        household_id=household,
        region=Region.of_village(village),
        programs=(Program.PKH,) if bank else (),
        kks_bank=bank,
    )


def approved(village: str, households: tuple[str, ...]) -> BeneficiaryListApproved:
    return example(
        BeneficiaryListApproved,
        list_id=f"{PROGRAM}:{PERIOD}:{village}",
        village=village,
        household_ids=households,
        stage=ListStage.REGENCY_APPROVED,
        exclusions=(),
        ruleset_id="blts-kesra-2025q4",
        payment=BLTS_TERMS,
    )


def open_api(payouts: Payouts, options: PayoutSettings | None = None) -> Api:
    key = Ed25519PrivateKey.generate()
    http = create_api(payouts.app, payouts.settings, options=options or payouts.options)
    use_verifier(http, TokenVerifier.for_dev_key(key.public_key()))
    return Api(payouts, TestClient(http), TokenIssuer(key))


@pytest.fixture
def payouts(tmp_path: Path) -> Iterator[Payouts]:
    service = bootstrap(
        ServiceSettings(service="payout", data_dir=tmp_path),
        PayoutSettings(code_key=SecretStr(CODE_KEY)),
    )
    feed(
        service,
        *(registered(h, VILLAGE) for h in POS_HOUSEHOLDS),
        registered(BANK_HOUSEHOLD, VILLAGE, Bank.BNI),
        registered(OTHER_HOUSEHOLD, OTHER_VILLAGE),
        approved(VILLAGE, (*POS_HOUSEHOLDS, BANK_HOUSEHOLD)),
        approved(OTHER_VILLAGE, (OTHER_HOUSEHOLD,)),
    )
    yield service
    service.close()


@pytest.fixture
def api(payouts: Payouts) -> Iterator[Api]:
    api = open_api(payouts)
    yield api
    assert_no_code_leaked(api)


def assert_no_code_leaked(api: Api) -> None:
    """No answer but an invitation letter carries a collection code (of any attempt)."""
    codes = [api.code(p, attempt) for p in ALL_PAYOUTS for attempt in (1, 2, 3)]
    codes += [code.replace("-", "") for code in codes]
    for path, response in api.answers:
        if path.endswith("/invitation") and response.status_code == 200:
            continue
        for code in codes:
            assert code not in response.text, f"{path} answered a collection code"


def refusal(response: Response) -> tuple[str, str]:
    assert response.status_code == 409, response.text
    body = response.json()
    return body["code"], body["detail"]


def forbidden(response: Response) -> str:
    assert response.status_code == 403, response.text
    reason: str = response.json()["detail"]["reason"]
    return reason


# --- the seeded payouts -----------------------------------------------------------------


def test_each_listed_household_has_a_payout_on_its_channel(api: Api) -> None:
    response = api.get("/payouts", REGENCY_OFFICER, program=PROGRAM, period=PERIOD)
    assert response.status_code == 200, response.text
    rows = {row["payout_id"]: row for row in response.json()}
    assert sorted(rows) == sorted([P1, P2, P3, B1])  # not Q1: another regency
    assert {rows[p]["channel"] for p in (P1, P2, P3)} == {"POS"}
    assert (rows[B1]["channel"], rows[B1]["bank"], rows[B1]["windows"]) == ("BANK_KKS", "BNI", [])
    assert [w["kind"] for w in rows[P1]["windows"]] == ["COMMUNITY_POINT", "POST_OFFICE"]
    assert {row["state"] for row in rows.values()} == {"SCHEDULED"}


def test_the_list_is_filtered_and_paged(api: Api) -> None:
    page = api.get("/payouts", MINISTRY_OFFICER, limit=2, offset=1).json()
    assert [row["payout_id"] for row in page] == sorted(ALL_PAYOUTS)[1:3]
    other = api.get("/payouts", MINISTRY_OFFICER, village=OTHER_VILLAGE).json()
    assert [row["payout_id"] for row in other] == [Q1]
    assert api.get("/payouts", MINISTRY_OFFICER, state="FAILED").json() == []
    assert api.get("/payouts", REGENCY_OFFICER, limit=0).status_code == 422


def test_a_payout_reads_with_its_windows_and_outcome_fields(api: Api) -> None:
    body = api.payout(P1)
    assert (body["payout_id"], body["village"], body["amount"]) == (P1, VILLAGE, AMOUNT)
    assert body["windows"][0]["starts_at"] == "2025-11-21T17:00:00+00:00"
    for name in ("reported_amount", "settled_amount", "failure_reason", "outcome"):
        assert body[name] is None
    assert body["recovery_flagged"] is False


def test_a_payout_outside_the_region_is_404_and_a_wrong_role_403(api: Api) -> None:
    outside = api.get(f"/payouts/{Q1}", REGENCY_OFFICER)
    unknown = api.get(f"/payouts/{pid('HH-NOPE')}", REGENCY_OFFICER)
    assert outside.status_code == unknown.status_code == 404
    assert "no payout" in outside.json()["detail"]
    # The role is checked before anything is said about the payout.
    assert "allowed roles" in forbidden(api.get(f"/payouts/{Q1}", CITIZEN))
    assert "allowed roles" in forbidden(api.get(f"/payouts/{pid('HH-NOPE')}", CHANNEL))
    assert "allowed roles" in forbidden(api.get("/payouts", CHANNEL))  # channels are not staff
    assert "outside your region" in forbidden(
        api.get("/payouts", OTHER_REGENCY_OFFICER, village=VILLAGE)
    )
    assert "outside your region" in forbidden(
        api.get("/payouts", REGENCY_OFFICER, village=OTHER_VILLAGE)
    )


def test_requests_without_a_token_are_401(api: Api) -> None:
    assert api.get("/payouts", None).status_code == 401
    response = api.post("/collections", None, {})
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- the PT Pos counter -----------------------------------------------------------------


def test_a_collection_with_the_letters_code_round_trip(api: Api) -> None:
    letter = api.invitation(P1)
    assert letter["collection_code"] == api.code(P1)
    assert (letter["payout_id"], letter["amount"], letter["household_id"]) == (
        P1,
        AMOUNT,
        "HH-P1",
    )
    assert letter["location"] == f"Community point, village {VILLAGE}"
    assert len(letter["windows"]) == 2

    first = api.collect(P1, letter["collection_code"])
    assert first.status_code == 201, first.text
    assert first.json() == {"payout_id": P1, "state": "DISBURSED", "recorded": True}

    again = api.collect(P1, letter["collection_code"])
    assert again.status_code == 200, again.text
    assert again.json() == {"payout_id": P1, "state": "DISBURSED", "recorded": False}

    code, detail = refusal(api.collect(P1, letter["collection_code"], reference="POS-TX-2"))
    assert code == "ALREADY_COLLECTED"
    assert "POS-TX-1" in detail

    body = api.payout(P1)
    assert (body["state"], body["reported_amount"], body["reported_reference"]) == (
        "DISBURSED",
        AMOUNT,
        "POS-TX-1",
    )
    assert body["reported_source"] == "COUNTER"
    # Paid: there is no letter to print any more.
    assert refusal(api.get(f"/payouts/{P1}/invitation", VILLAGE_OPERATOR))[0] == ("NOT_COLLECTABLE")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        pytest.param({"code": "AAAA-BBBB-CCCC-DDDD"}, "INVALID_CODE", id="wrong code"),
        pytest.param({"amount": 800_000}, "AMOUNT_DIFFERS", id="wrong amount"),
        pytest.param(
            {"at": datetime(2025, 12, 20, 9, 0, tzinfo=WIB)}, "OUTSIDE_WINDOW", id="too late"
        ),
        pytest.param(
            {"at": datetime.now(UTC) + timedelta(days=1)}, "IN_THE_FUTURE", id="in the future"
        ),
    ],
)
def test_a_collection_the_payout_does_not_allow_is_409(
    api: Api, change: dict[str, Any], code: str
) -> None:
    arguments: dict[str, Any] = {"code": api.code(P1)} | change
    response = api.collect(P1, **arguments)
    assert refusal(response)[0] == code
    assert arguments["code"] not in response.text
    assert api.payout(P1)["state"] == "SCHEDULED"


def test_the_code_of_another_payout_does_not_collect(api: Api) -> None:
    response = api.collect(P1, api.code(P2))
    assert refusal(response)[0] == "INVALID_CODE"
    assert api.code(P2) not in response.text


def test_a_bank_payout_has_no_invitation_and_no_counter_collection(api: Api) -> None:
    assert refusal(api.get(f"/payouts/{B1}/invitation", REGENCY_OFFICER))[0] == "NOT_COLLECTABLE"
    assert refusal(api.collect(B1, api.code(B1)))[0] == "WRONG_CHANNEL"


def test_a_malformed_collection_is_422_without_echoing_the_code(api: Api) -> None:
    secret = api.code(P1)
    for body in (
        {"payout_id": P1, "collection_code": secret, "amount": AMOUNT},  # no reference
        {
            "payout_id": P1,
            "collection_code": secret,
            "amount": AMOUNT,
            "channel_reference": "POS-TX-1",
            "collected_at": "2025-11-25T09:00:00",  # no offset
        },
    ):
        response = api.post("/collections", CHANNEL, body)
        assert response.status_code == 422, response.text
        assert secret not in response.text


# --- channel files ----------------------------------------------------------------------


def test_a_settlement_file_is_reported_line_by_line(api: Api) -> None:
    secret = api.code(P2)
    text = settlement(
        f"{P1},{api.code(P1)},{AMOUNT},POS-TX-1,2025-11-25T09:00:00+07:00",  # line 2: paid
        f"{P2},{api.code(P2)},abc,POS-TX-2,2025-11-25T09:00:00+07:00",  # 3: bad amount
        f"{pid('HH-NOPE')},XXXX,{AMOUNT},POS-TX-3,2025-11-25T09:00:00+07:00",  # 4: unknown
        f"{P1},{api.code(P1)},{AMOUNT},POS-TX-1,2025-11-25T09:00:00+07:00",  # 5: duplicate
        f"{P3},{secret},{AMOUNT},POS-TX-5,2025-11-25T09:00:00+07:00",  # 6: P2's code
        f"{P2},{secret}\x01,{AMOUNT},POS-TX-6,2025-11-25T09:00:00+07:00",  # 7: control char
        "3517014107800001,,1,X,2025-11-25T09:00:00+07:00",  # 8: a NIK, not a payout id
    )
    response = api.upload("/settlements", CHANNEL, text, channel="POS", name="pos-2025-11-25.csv")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["lines"], report["accepted"], report["unchanged"]) == (7, 1, 0)
    assert report["already_imported"] is False
    assert len(report["sha256"]) == 64
    assert [(r["line"], r["code"]) for r in report["refused"]] == [
        (3, "INVALID_LINE"),
        (4, "UNKNOWN_PAYOUT"),
        (5, "DUPLICATE_LINE"),
        (6, "INVALID_CODE"),
        (7, "INVALID_LINE"),
        (8, "INVALID_LINE"),
    ]
    messages = {r["line"]: r["message"] for r in report["refused"]}
    assert "amount 'abc'" in messages[3]
    assert "duplicate of line 2" in messages[5]
    assert "collection_code (value not shown)" in messages[7]
    assert secret not in response.text
    assert "3517014107800001" not in response.text
    assert api.payout(P1)["state"] == "DISBURSED"
    assert api.payout(P3)["state"] == "SCHEDULED"

    again = api.upload("/settlements", CHANNEL, text, channel="POS")
    assert again.status_code == 200
    assert again.json()["already_imported"] is True
    assert again.json()["refused"] == report["refused"]


def test_a_bank_result_credits_or_reroutes_to_pt_pos(api: Api) -> None:
    rejected = f"{B1},{AMOUNT},REJECTED,ACCOUNT_DORMANT,BNI-TX-9,2025-11-20T10:00:00+07:00"
    response = api.upload("/banks/BNI/results", CHANNEL, bank_result(rejected))
    assert response.status_code == 200, response.text
    assert (response.json()["accepted"], response.json()["refused"]) == (1, [])
    rerouted = api.payout(B1)
    assert (rerouted["channel"], rerouted["attempt"], rerouted["state"]) == ("POS", 2, "SCHEDULED")
    # Now it has a letter, with the code of its second attempt.
    assert api.invitation(B1)["collection_code"] == api.code(B1, 2)


def test_a_bank_result_of_another_bank_is_refused_per_line(api: Api) -> None:
    response = api.upload("/banks/BRI/results", REGENCY_OFFICER, bank_result(credited(B1)))
    assert response.status_code == 200, response.text
    assert [r["code"] for r in response.json()["refused"]] == ["WRONG_BANK"]


def test_an_oversized_upload_is_413_and_stores_nothing(payouts: Payouts) -> None:
    api = open_api(payouts, PayoutSettings(code_key=SecretStr(CODE_KEY), max_upload_bytes=100))
    text = settlement(f"{P1},{api.code(P1)},{AMOUNT},POS-TX-1,2025-11-25T09:00:00+07:00")
    assert len(text.encode()) > 100
    response = api.upload("/settlements", CHANNEL, text, channel="POS")
    assert response.status_code == 413, response.text
    assert "100 bytes" in response.json()["detail"]
    assert api.upload("/banks/BNI/results", CHANNEL, bank_result(credited(B1))).status_code == 413
    assert api.payout(P1)["state"] == "SCHEDULED"
    assert api.payout(B1)["state"] == "SCHEDULED"
    assert_no_code_leaked(api)


@pytest.mark.parametrize(
    ("path", "content", "says"),
    [
        pytest.param("/settlements", "payout_id,amount\nX,1\n", "header", id="settlement header"),
        pytest.param("/banks/BNI/results", SETTLEMENT_HEADER, "header", id="bank header"),
        pytest.param("/settlements", "", "empty", id="empty"),
        pytest.param("/settlements", b"\xff\xfe" + b"x" * 10, "not UTF-8", id="not UTF-8"),
    ],
)
def test_an_unreadable_file_is_422_naming_the_problem(
    api: Api, path: str, content: str | bytes, says: str
) -> None:
    response = api.upload(path, CHANNEL, content, channel="POS")
    assert response.status_code == 422, response.text
    assert says in response.json()["detail"]


def test_a_file_sent_as_a_form_or_for_an_unknown_channel_is_refused(api: Api) -> None:
    form = api.client.post(
        "/settlements",
        params={"channel": "POS"},
        files={"file": ("s.csv", SETTLEMENT_HEADER)},
        headers={
            "Authorization": f"Bearer {api.issuer.mint(role='CHANNEL_OPERATOR', region='ID')}"
        },
    )
    assert form.status_code == 415, form.text
    assert api.upload("/settlements", CHANNEL, SETTLEMENT_HEADER, channel="DANA").status_code == 422
    assert api.upload("/banks/BCA/results", CHANNEL, BANK_RESULT_HEADER).status_code == 422


def test_the_credit_instruction_file_lists_the_banks_payouts_to_credit(api: Api) -> None:
    response = api.get(
        "/banks/BNI/credit-instructions", CHANNEL, program=PROGRAM, period=PERIOD, region="35.17"
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines() == [
        "payout_id,household_id,bank,amount,program,period,village",
        f"{B1},{BANK_HOUSEHOLD},BNI,{AMOUNT},{PROGRAM},{PERIOD},{VILLAGE}",
    ]
    national = api.get("/banks/BNI/credit-instructions", NATIONAL_CHANNEL, program=PROGRAM,
                       period=PERIOD)  # fmt: skip
    assert national.text == response.text
    empty = api.get("/banks/BRI/credit-instructions", CHANNEL, program=PROGRAM, period=PERIOD)
    assert empty.text.splitlines() == response.text.splitlines()[:1]
    unknown = api.get(
        "/banks/BNI/credit-instructions", CHANNEL, program=PROGRAM, period="2024-10..2024-12"
    )
    assert unknown.status_code == 404


# --- the end of the period: expiry, SPTJM, reconciliation -------------------------------


def test_expiry_sptjm_and_reconciliation(api: Api) -> None:
    assert api.collect(P1, api.code(P1)).status_code == 201
    future = api.post(
        f"/periods/{PROGRAM}/{PERIOD}/expiry",
        REGENCY_OFFICER,
        {"region": "35.17", "as_of": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
    )
    assert future.status_code == 422, future.text
    early = api.post(
        f"/periods/{PROGRAM}/{PERIOD}/expiry",
        REGENCY_OFFICER,
        {"region": "35.17", "as_of": COLLECTED_AT.isoformat()},
    )
    assert early.json() == {"failed": 0}

    expired = api.expire()
    assert expired.status_code == 200, expired.text
    assert expired.json() == {"failed": 3}  # P2, P3 and B1; P1 was paid
    assert api.expire().json() == {"failed": 0}
    assert api.payout(P2)["failure_reason"] == "NOT_COLLECTED"
    assert api.payout(P3)["state"] == "FAILED"

    assert refusal(api.reconcile("SPTJM/2001/XII/2025"))[0] == "NO_SPTJM"

    entered = api.sptjm("SPTJM/2001/XII/2025")
    assert entered.status_code == 201, entered.text
    assert entered.json()["created"] is True
    same = api.sptjm("SPTJM/2001/XII/2025", REGENCY_OFFICER)
    assert (same.status_code, same.json()["created"]) == (200, False)
    assert refusal(api.sptjm("SPTJM/OTHER"))[0] == "SPTJM_ALREADY_ENTERED"

    assert refusal(api.reconcile("SPTJM/OTHER"))[0] == "SPTJM_DIFFERS"
    assert refusal(api.reconcile("SPTJM/2001/XII/2025", payout_ids=[P1]))[0] == "ALREADY_COLLECTED"
    assert api.reconcile("SPTJM/2001/XII/2025", payout_ids=[Q1]).status_code == 404
    stray = api.reconcile("SPTJM/2001/XII/2025", payout_ids=["PKH:2025-01..2025-03:HH-P2"])
    assert stray.status_code == 422, stray.text

    reissued = api.reconcile("SPTJM/2001/XII/2025", "REISSUED", payout_ids=[P2])
    assert reissued.json() == {"reconciled": 1}
    rest = api.reconcile("SPTJM/2001/XII/2025")
    assert rest.json() == {"reconciled": 2}
    assert api.reconcile("SPTJM/2001/XII/2025").json() == {"reconciled": 0}
    assert (api.payout(P2)["state"], api.payout(P2)["outcome"]) == ("RECONCILED", "REISSUED")
    assert api.payout(B1)["outcome"] == "RETURNED_TO_TREASURY"
    assert api.payout(B1)["sptjm_reference"] == "SPTJM/2001/XII/2025"

    [row_bank, row_pos] = api.report()["rows"]
    assert (row_pos["failed"], row_pos["reissued_amount"]) == (2, AMOUNT)
    assert row_pos["returned_to_treasury_amount"] == AMOUNT
    assert row_bank["returned_to_treasury_amount"] == AMOUNT


def test_the_national_expiry_is_the_systems(api: Api) -> None:
    response = api.expire(SYSTEM, region="ID")
    assert response.json() == {"failed": 5}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"/periods/{PROGRAM}/2024-10..2024-12/expiry", {"region": "35.17"}),
        ("PUT", f"/sptjm/PKH/{PERIOD}/villages/{VILLAGE}", {"reference": "S-1"}),
        (
            "POST",
            "/reconciliations",
            {
                "program": "PKH",
                "period": PERIOD,
                "village": VILLAGE,
                "outcome": "REISSUED",
                "sptjm_reference": "S-1",
            },
        ),
        ("GET", f"/reports/reconciliation?program=PKH&period={PERIOD}", None),
        ("GET", f"/summary?program={PROGRAM}&period=2024-10..2024-12", None),
    ],
)
def test_an_unknown_program_period_is_404(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = api.call(method, path, REGENCY_OFFICER, body)
    assert response.status_code == 404, response.text
    assert "no payout schedule" in response.json()["detail"]


def test_a_code_that_is_not_a_village_is_422(api: Api) -> None:
    response = api.call(
        "PUT", f"/sptjm/{PROGRAM}/{PERIOD}/villages/35.17", REGENCY_OFFICER, {"reference": "S"}
    )
    assert response.status_code == 422, response.text


# --- reports ----------------------------------------------------------------------------


def test_the_reconciliation_report_balances_once_everything_is_settled(api: Api) -> None:
    assert api.collect(P1, api.code(P1)).status_code == 201
    credit = api.upload("/banks/BNI/results", CHANNEL, bank_result(credited(B1)))
    assert credit.json()["accepted"] == 1

    report = api.report()
    assert report["balanced"] is False
    pos = next(r for r in report["rows"] if r["channel"] == "POS")
    assert [(m["kind"], m["payout_id"]) for m in pos["mismatches"]] == [
        ("REPORTED_NOT_SETTLED", P1)
    ]

    pos_file = settlement(f"{P1},,{AMOUNT},POS-TX-1,2025-11-25T09:00:00+07:00")
    bank_file = settlement(f"{B1},,{AMOUNT},BNI-TX-1,2025-11-20T10:00:00+07:00")
    assert api.upload("/settlements", CHANNEL, pos_file, channel="POS").json()["accepted"] == 1
    assert api.upload("/settlements", CHANNEL, bank_file, channel="BNI").json()["accepted"] == 1

    report = api.report()
    assert report["balanced"] is True, report
    assert (report["program"], report["period"], report["region"]) == (PROGRAM, PERIOD, "35.17")
    assert [(r["village"], r["channel"]) for r in report["rows"]] == [
        (VILLAGE, "BANK_KKS"),
        (VILLAGE, "POS"),
    ]
    assert report["totals"] == {
        "instructed_amount": 4 * AMOUNT,
        "reported_amount": 2 * AMOUNT,
        "settled_amount": 2 * AMOUNT,
        "failed_amount": 0,
        "outstanding_amount": 2 * AMOUNT,
    }
    assert report["unplaced"] == []

    # An unknown payout in a file: unplaced, shown to national scope, which then does
    # not balance; a regency's report is unaffected.
    unknown = settlement(f"{pid('HH-NOPE')},,{AMOUNT},POS-TX-9,2025-11-25T09:00:00+07:00")
    assert api.upload("/settlements", NATIONAL_CHANNEL, unknown, channel="POS").status_code == 200
    national = api.report(MINISTRY_OFFICER)
    assert [(m["kind"], m["payout_id"]) for m in national["unplaced"]] == [
        ("UNKNOWN_PAYOUT", pid("HH-NOPE"))
    ]
    assert national["balanced"] is False
    assert {r["village"] for r in national["rows"]} == {VILLAGE, OTHER_VILLAGE}
    assert national["totals"]["instructed_amount"] == 5 * AMOUNT
    assert api.report()["balanced"] is True


def test_the_report_is_for_officers_within_their_region(api: Api) -> None:
    assert "allowed roles" in forbidden(
        api.get("/reports/reconciliation", VILLAGE_OPERATOR, program=PROGRAM, period=PERIOD)
    )
    assert "allowed roles" in forbidden(
        api.get("/reports/reconciliation", CHANNEL, program=PROGRAM, period=PERIOD)
    )
    assert "outside your region" in forbidden(
        api.get("/reports/reconciliation", AUDITOR, program=PROGRAM, period=PERIOD, region="33.20")
    )
    assert api.report(PROVINCE_OFFICER, region="35.17.01")["region"] == "35.17.01"


def test_the_summary_counts_per_district(api: Api) -> None:
    assert api.collect(P1, api.code(P1)).status_code == 201
    response = api.get("/summary", REGENCY_OFFICER, program=PROGRAM, period=PERIOD)
    assert response.status_code == 200, response.text
    [district] = response.json()
    assert (district["district"], district["households"], district["payouts"]) == (
        "35.17.01",
        4,
        4,
    )
    assert (district["paid_pos"], district["paid_amount"], district["outstanding"]) == (
        1,
        AMOUNT,
        3,
    )
    national = api.get("/summary", SYSTEM, program=PROGRAM, period=PERIOD).json()
    assert [d["district"] for d in national] == ["33.20.01", "35.17.01"]
    assert "allowed roles" in forbidden(
        api.get("/summary", CHANNEL, program=PROGRAM, period=PERIOD)
    )


def test_the_openapi_document_lists_every_route(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert set(paths) >= {
        "/payouts",
        "/payouts/{payout_id}",
        "/payouts/{payout_id}/invitation",
        "/collections",
        "/settlements",
        "/banks/{bank}/results",
        "/banks/{bank}/credit-instructions",
        "/periods/{program}/{period}/expiry",
        "/sptjm/{program}/{period}/villages/{village}",
        "/reconciliations",
        "/reports/reconciliation",
        "/summary",
    }
    assert "text/csv" in paths["/settlements"]["post"]["requestBody"]["content"]


def test_redaction() -> None:
    assert redact("line 3: collection_code 'ABCD-EFGH\\x01' contains") == (
        "line 3: collection_code (value not shown) contains"
    )
    assert (
        redact("payout_id '3517014107800001' is not") == "payout_id '(16 digits not shown)' is not"
    )
    assert redact("no payout BLTS_KESRA:2025-10..2025-12:3517014107800001") == (
        "no payout BLTS_KESRA:2025-10..2025-12:3517014107800001"
    )


# --- the permission matrix --------------------------------------------------------------
# Every write route (and the two reads that only some roles have), every role, in a
# region covering VILLAGE and in one that does not.


@dataclass(frozen=True)
class Route:
    """A route, who may use it, and what they get in and outside their region."""

    name: str
    allowed: frozenset[Role]
    send: Callable[[Api, Caller], Response]
    inside: int
    outside: str
    """``404`` (the payout does not exist for them), ``403`` (the region asked for is not
    theirs) or ``lines`` (a file: its lines are refused as unknown payouts)."""


def _collection(api: Api, caller: Caller) -> Response:
    return api.collect(P1, api.code(P1), caller=caller)


def _settlement(api: Api, caller: Caller) -> Response:
    line = f"{P1},{api.code(P1)},{AMOUNT},POS-TX-1,2025-11-25T09:00:00+07:00"
    return api.upload("/settlements", caller, settlement(line), channel="POS")


def _bank_result(api: Api, caller: Caller) -> Response:
    return api.upload("/banks/BNI/results", caller, bank_result(credited(B1)))


def _credit_file(api: Api, caller: Caller) -> Response:
    return api.get(
        "/banks/BNI/credit-instructions", caller, program=PROGRAM, period=PERIOD, region="35.17.01"
    )


def _expiry(api: Api, caller: Caller) -> Response:
    return api.expire(caller, region="35.17")


def _sptjm(api: Api, caller: Caller) -> Response:
    return api.sptjm("SPTJM/2001/XII/2025", caller)


def _reconciliation(api: Api, caller: Caller) -> Response:
    return api.reconcile("SPTJM/2001/XII/2025", caller=caller)


def _invitation(api: Api, caller: Caller) -> Response:
    return api.get(f"/payouts/{P1}/invitation", caller)


ROUTES = [
    Route("collection", COLLECTORS, _collection, 201, "404"),
    Route("settlement", FILE_SENDERS, _settlement, 200, "lines"),
    Route("bank result", FILE_SENDERS, _bank_result, 200, "lines"),
    Route("credit file", FILE_SENDERS, _credit_file, 200, "403"),
    Route("expiry", EXPIRERS, _expiry, 200, "403"),
    Route("sptjm", SPTJM_ENTERERS, _sptjm, 201, "403"),
    Route("reconciliation", RECONCILERS, _reconciliation, 200, "403"),
    Route("invitation", INVITATION_READERS, _invitation, 200, "404"),
]
CASES = [
    pytest.param(route, Caller(role, region), inside, id=f"{route.name}-{role.value}-{where}")
    for route in ROUTES
    for role, regions in REGIONS.items()
    for inside, where, region in ((True, "own", regions[0]), (False, "other", regions[1]))
    if region is not None
]


@pytest.mark.parametrize(("route", "caller", "inside"), CASES)
def test_permission_matrix(api: Api, route: Route, caller: Caller, inside: bool) -> None:
    response = route.send(api, caller)
    if caller.role not in route.allowed:
        assert "allowed roles are" in forbidden(response)
    elif inside:
        assert response.status_code == route.inside, response.text
        if route.name in ("settlement", "bank result"):
            assert (response.json()["accepted"], response.json()["refused"]) == (1, [])
    elif route.outside == "404":
        assert response.status_code == 404, response.text
    elif route.outside == "403":
        assert "outside your region" in forbidden(response)
    else:
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["accepted"] == 0
        assert [r["code"] for r in report["refused"]] == ["UNKNOWN_PAYOUT"]
    # Nothing happened to P1 or B1 unless the caller was allowed in their region.
    changed = caller.role in route.allowed and inside
    if route.name in ("collection", "settlement"):
        assert (api.payout(P1)["state"] == "DISBURSED") is changed
    if route.name in ("bank result", "expiry"):
        assert (api.payout(B1)["state"] != "SCHEDULED") is changed


def test_a_national_channel_collects_anywhere(api: Api) -> None:
    assert (
        api.collect(Q1, api.code(Q1), caller=NATIONAL_CHANNEL, at=COLLECTED_AT).status_code == 201
    )
    assert api.collect(P1, api.code(P1), caller=OTHER_CHANNEL).status_code == 404
