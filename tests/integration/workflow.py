"""Steps of the workflow that several integration tests take through the services' APIs."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.services import ServiceStack

PROGRAM, PERIOD = "BLTS_KESRA", "2025-10..2025-12"
REGENCY = "35.17"


class Api:
    """The stack's HTTP APIs, each call with a token of the given role and region."""

    def __init__(self, stack: ServiceStack) -> None:
        self.stack = stack

    def call(
        self, method: str, service: str, path: str, role: str, region: str, **kwargs: Any
    ) -> httpx.Response:
        token = self.stack.token(role, region, subject=f"{role.lower()}-{region}")
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return httpx.request(
            method, self.stack.url(service) + path, headers=headers, timeout=60, **kwargs
        )

    def ok(self, method: str, service: str, path: str, role: str, region: str, **kw: Any) -> Any:
        answer = self.call(method, service, path, role, region, **kw)
        assert answer.status_code in (200, 201), (path, answer.status_code, answer.text)
        return answer.json() if "json" in answer.headers.get("content-type", "") else answer.text


def count(stack: ServiceStack, service: str, statement: str, *params: Any) -> int:
    """The integer a counting query on a service's database answers."""
    return int(stack.query(service, statement, params)[0][0])


def payouts_by_id(stack: ServiceStack) -> dict[str, tuple[Any, ...]]:
    """Every payout: (channel, bank, state, amount, reported, settled, failure, outcome,
    cancel reason, attempt)."""
    rows = stack.query(
        "payout",
        "SELECT payout_id, channel, bank, state, amount, reported_amount, settled_amount,"
        " failure_reason, outcome, cancel_reason, attempt FROM payouts",
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def approve_every_village(api: Api, villages: list[str]) -> int:
    """Village operators verify (one household excluded as MOVED in the first village),
    then a regency officer approves; the number of households approved."""
    approved = 0
    for index, village in enumerate(villages):
        path = f"/lists/{PROGRAM}/{PERIOD}/villages/{village}"
        eligible = api.ok("GET", "eligibility", path, "VILLAGE_OPERATOR", village)["eligible"]
        if not eligible:
            continue
        excluded = [{"household_id": eligible[0], "reason": "MOVED"}] if index == 0 else []
        valid = eligible[1:] if excluded else eligible
        api.ok(
            "POST", "eligibility", path + "/verification", "VILLAGE_OPERATOR", village,
            json={"valid": valid, "excluded": excluded, "notes": "Musdesus"},
        )  # fmt: skip
        api.ok(
            "POST", "eligibility", path + "/approval", "REGENCY_OFFICER", REGENCY,
            json={"expected_households": len(valid)},
        )  # fmt: skip
        approved += len(valid)
    return approved
