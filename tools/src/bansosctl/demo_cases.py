"""``make run``'s cases: citizens' refusals and objections, reviewed, before anyone is paid.

Three families refuse aid for themselves (named by NIK and name, as on their KTP); their
village confirms each in Musdesus and the regency upholds it. Neighbours object to three
recipients; a PKH facilitator checks each in the field with a photo, the village and
the regency pass it on, and the ministry upholds two with an exclusion and dismisses one.
The upheld cases make their households ineligible, which cancels their payouts.

Request ids are derived from the household, so running it again changes nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console

REGENCY = "35.17"
INSIDE_JOMBANG = {"latitude": -7.55, "longitude": 112.23}
PHOTO = Path(__file__).parent / "data" / "field-visit.png"


class Caller(Protocol):
    """``demo.Staff``: an HTTP call with a development token of a role and region."""

    def call(
        self, method: str, service: str, path: str, role: str, region: str, **kw: Any
    ) -> Any: ...


def _request(household: str, step: str) -> str:
    return "demo-" + hashlib.sha256(f"{household}:{step}".encode()).hexdigest()[:24]


def _chain(
    staff: Caller, case: dict[str, Any], household: str, last: str, final: dict[str, Any]
) -> dict[str, Any]:
    """Review a case through its chain's remaining stages; the ``last`` with ``final``."""
    village = case["village"]
    district = village.rsplit(".", 1)[0]
    photo: str | None = None
    reviewers = {
        "FIELD_CHECK": ("PKH_FACILITATOR", district),
        "VILLAGE_MUSDESUS": ("VILLAGE_OPERATOR", village),
        "REGENCY": ("REGENCY_OFFICER", REGENCY),
        "MINISTRY": ("MINISTRY_OFFICER", "ID"),
    }
    while case["state"] == "OPEN":
        stage = case["stage"]
        role, region = reviewers[stage]
        body: dict[str, Any] = {"stage": stage, "outcome": "UPHELD", "notes": "demo review"}
        if stage == "FIELD_CHECK":
            if photo is None:
                photo = staff.call(
                    "POST", "objections", "/evidence", role, region, content=PHOTO.read_bytes(),
                    headers={"Content-Type": "image/png"},
                )["content_hash"]  # fmt: skip
            body |= {
                "visited_at": "2025-11-03T02:00:00Z", "location": INSIDE_JOMBANG,
                "evidence": [{"content_hash": photo, "label": "FIELD_VISIT"}],
            }  # fmt: skip
        elif stage == "VILLAGE_MUSDESUS":
            body |= {"meeting_date": "2025-11-05", "attendance": 25}
        if stage == last:
            body |= final
        case = staff.call(
            "POST", "objections", f"/cases/{case['case_id']}/reviews", role, region,
            json={"request_id": _request(household, stage), **body},
        )  # fmt: skip
    return case


def run_cases(
    staff: Caller,
    sample: list[dict[str, str]],
    payouts: list[dict[str, Any]],
    share: Callable[[str], float],
    console: Console,
) -> list[str]:
    """File and review the demo's cases; the payout ids their upheld outcomes cancel."""
    rows = {row["household_id"]: row for row in sample}
    chains = staff.call("GET", "objections", "/chains", "REGENCY_OFFICER", REGENCY)
    last = {kind: chain["stages"][-1]["stage"] for kind, chain in chains.items()}
    chosen = sorted(payouts, key=lambda p: share(p["payout_id"]))[:6]
    cancelled: list[str] = []
    outcomes = {"UPHELD": 0, "DISMISSED": 0}
    for n, payout in enumerate(chosen):
        household, village = payout["household_id"], payout["village"]
        if n < 3:
            kind, final = "REFUSAL", {}
            body = {
                "kind": kind, "reason_code": "SELF_SUFFICIENT", "nik": rows[household]["head_nik"],
                "name": rows[household]["head_name"], "reason_text": "We can manage now.",
            }  # fmt: skip
        else:
            dismiss = n == 5
            kind = "OBJECTION"
            final = (
                {"outcome": "DISMISSED", "notes": "the family is still poor"}
                if dismiss
                else {"effect": "EXCLUSION"}
            )
            body = {
                "kind": kind, "household_id": household, "reason_code": "NOT_POOR",
                "reason_text": "They own two houses.",
            }  # fmt: skip
        case = staff.call(
            "POST", "objections", "/cases", "CITIZEN", village,
            json={"request_id": _request(household, "filed"), **body},
        )  # fmt: skip
        case = _chain(staff, case, household, last[kind], final)
        outcomes[case["outcome"]] = outcomes.get(case["outcome"], 0) + 1
        if case["outcome"] == "UPHELD":
            cancelled.append(payout["payout_id"])
    console.print(
        f"  {len(chosen)} cases filed by citizens (3 refusals, 3 objections) and reviewed:"
        f" {outcomes['UPHELD']} upheld, {outcomes['DISMISSED']} dismissed"
    )
    return cancelled


def wait_cancelled(staff: Caller, payout_ids: list[str], seconds: float = 120) -> None:
    """Wait until eligibility has applied the upheld cases and payout cancelled the payouts."""
    deadline = time.monotonic() + seconds
    for payout_id in payout_ids:
        while True:
            payout = staff.call(
                "GET", "payout", f"/payouts/{payout_id}", "REGENCY_OFFICER", REGENCY
            )
            if payout["state"] == "CANCELLED":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"payout {payout_id} was not cancelled by its upheld case")
            time.sleep(1)
