"""A whole BLTS Kesra period on real Kafka and PostgreSQL, the services run as processes.

Registry → eligibility → village verification and regency approval → payout: payouts
scheduled by channel; most collected at the PT Pos counter or credited by the bank
(one credit rejected, so it falls back to PT Pos); one household made ineligible before
it collects (its code is refused); settlement files imported, one with bad lines that
change nothing; the rest fail after the last window and are reconciled with the
village's SPTJM. The three-way report balances to the rupiah, and consuming every input
topic again from offset 0 creates no second payout and changes no total.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bansos_payout.files import (
    BankResultLine,
    SettlementLine,
    write_bank_result,
    write_settlement,
)
from bansos_registry.sample import SampleSpec, write_snapshot
from tests.integration.audit_checks import check_audit_trail
from tests.integration.services import ServiceStack
from tests.integration.workflow import Api, approve_every_village, count, payouts_by_id

pytestmark = pytest.mark.integration

HOUSEHOLDS = 300
PROGRAMS = 4
PROGRAM, PERIOD = "BLTS_KESRA", "2025-10..2025-12"
AMOUNT = 900_000
REGENCY = "35.17"
COLLECTED_AT = "2025-11-25T03:00:00Z"


def test_a_whole_period_balances_to_the_rupiah(stack: ServiceStack) -> None:
    snapshot = stack.folder / "sample.csv"
    write_snapshot(snapshot, SampleSpec(households=HOUSEHOLDS, seed=23))
    with snapshot.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stack.import_snapshot(rows, "S-1", 1)
    for service in ("registry", "eligibility", "payout"):
        stack.start(service)
    api = Api(stack)
    decisions = "SELECT count(*) FROM eligibility_decisions"
    stack.wait_for(
        lambda: count(stack, "eligibility", decisions) == HOUSEHOLDS * PROGRAMS, 120, "decisions"
    )
    villages = sorted({r["village_code"] for r in rows})
    approved = approve_every_village(api, villages)
    assert approved > 50
    stack.wait_for(lambda: len(payouts_by_id(stack)) == approved, 120, "payouts scheduled")
    payouts = payouts_by_id(stack)
    by_row = {r["household_id"]: r for r in rows}

    # Channels: PKH/BPNT recipients with a KKS bank by bank, everyone else by PT Pos.
    for payout_id, (channel, bank, state, amount, *_) in payouts.items():
        row = by_row[payout_id.rsplit(":", 1)[1]]
        existing = {"PKH", "BPNT"} & set(row["programs"].split(";"))
        expected = "BANK_KKS" if existing and row["bank"] else "POS"
        assert (channel, bank, state, amount) == (
            expected, row["bank"] or None if expected == "BANK_KKS" else None, "SCHEDULED", AMOUNT,
        )  # fmt: skip
    pos = sorted(p for p, v in payouts.items() if v[0] == "POS")
    bank = sorted(p for p, v in payouts.items() if v[0] == "BANK_KKS")
    assert len(pos) > 20 and len(bank) > 5

    def invitation(payout_id: str) -> dict[str, Any]:
        village = by_row[payout_id.rsplit(":", 1)[1]]["village_code"]
        result: dict[str, Any] = api.ok(
            "GET", "payout", f"/payouts/{payout_id}/invitation", "VILLAGE_OPERATOR", village
        )
        return result

    def collect(
        payout_id: str, code: str, reference: str, at: str = COLLECTED_AT
    ) -> httpx.Response:
        body = {
            "payout_id": payout_id, "collection_code": code, "amount": AMOUNT,
            "channel_reference": reference, "collected_at": at,
        }  # fmt: skip
        return api.call("POST", "payout", "/collections", "CHANNEL_OPERATOR", REGENCY, json=body)

    # One household becomes ineligible before it collects: its payout is cancelled, and
    # the code on its letter is refused.
    lost = pos[0]
    lost_code = invitation(lost)["collection_code"]
    by_row[lost.rsplit(":", 1)[1]]["decile"] = "7"
    stack.import_snapshot(rows, "S-2", 2)
    stack.wait_for(lambda: payouts_by_id(stack)[lost][2] == "CANCELLED", 60, "cancellation")
    refused = collect(lost, lost_code, "POS-LOST")
    assert refused.status_code == 409 and refused.json()["code"] == "CANCELLED"
    assert payouts_by_id(stack)[lost][8] == "INELIGIBLE"

    # PT Pos: most collect at the counter; a code is refused twice and out of its window.
    to_collect = pos[1 : int(len(pos) * 0.8)]
    references: dict[str, str] = {}
    for n, payout_id in enumerate(to_collect):
        code = invitation(payout_id)["collection_code"]
        if n == 0:
            late = collect(payout_id, code, "POS-LATE", at="2025-12-20T03:00:00Z")
            assert late.status_code == 409 and late.json()["code"] == "OUTSIDE_WINDOW"
            wrong = collect(payout_id, "AAAA-BBBB-CCCC-DDDD", "POS-WRONG")
            assert wrong.status_code == 409 and wrong.json()["code"] == "INVALID_CODE"
        references[payout_id] = f"POS-{n:05d}"
        assert collect(payout_id, code, references[payout_id]).status_code == 201
        if n == 0:
            assert collect(payout_id, code, references[payout_id]).status_code == 200  # retry
            twice = collect(payout_id, code, "POS-AGAIN")
            assert twice.status_code == 409 and twice.json()["code"] == "ALREADY_COLLECTED"

    # The banks: a credit file each; every credit succeeds but one, which falls back to
    # PT Pos and is collected there with the new letter's code.
    banks = sorted({payouts[p][1] for p in bank})
    instructed = []
    for name in banks:
        text = api.ok(
            "GET", "payout", f"/banks/{name}/credit-instructions?program={PROGRAM}"
            f"&period={PERIOD}&region={REGENCY}", "CHANNEL_OPERATOR", REGENCY,
        )  # fmt: skip
        lines = list(csv.DictReader(text.splitlines()))
        assert {line["bank"] for line in lines} == {name}
        instructed += [(name, line["payout_id"]) for line in lines]
    assert sorted(p for _, p in instructed) == bank
    rejected = instructed[0][1]
    at = datetime(2025, 11, 24, 2, tzinfo=UTC)
    for name in banks:
        result = [
            BankResultLine(
                n + 2, payout_id, AMOUNT, payout_id != rejected,
                None if payout_id != rejected else "ACCOUNT_INVALID",  # type: ignore[arg-type]
                f"{name}-{n:05d}", at,
            )
            for n, (b, payout_id) in enumerate(instructed)
            if b == name
        ]  # fmt: skip
        report = api.ok(
            "POST", "payout", f"/banks/{name}/results?name={name}.csv", "CHANNEL_OPERATOR",
            REGENCY, content=write_bank_result(result), headers={"Content-Type": "text/csv"},
        )  # fmt: skip
        assert report["refused"] == []
    stack.wait_for(lambda: payouts_by_id(stack)[rejected][0] == "POS", 30, "fallback to PT Pos")
    fallback_code = invitation(rejected)["collection_code"]
    references[rejected] = "POS-FALLBACK"
    assert collect(rejected, fallback_code, "POS-FALLBACK").status_code == 201

    # Settlement files: PT Pos's (with the counter's references) and each bank's.
    paid_at = datetime(2025, 11, 25, 3, tzinfo=UTC)
    settlement = [
        SettlementLine(n + 2, payout_id, None, AMOUNT, reference, paid_at)
        for n, (payout_id, reference) in enumerate(sorted(references.items()))
    ]
    report = api.ok(
        "POST", "payout", "/settlements?channel=POS&name=pos.csv", "CHANNEL_OPERATOR", REGENCY,
        content=write_settlement(settlement), headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    assert (report["accepted"], report["refused"]) == (len(settlement), [])
    for name in banks:
        bank_lines = [
            SettlementLine(n + 2, p, None, AMOUNT, f"{name}-{n:05d}", at)
            for n, (b, p) in enumerate(instructed)
            if b == name and p != rejected
        ]
        report = api.ok(
            "POST", "payout", f"/settlements?channel={name}", "CHANNEL_OPERATOR", REGENCY,
            content=write_settlement(bank_lines), headers={"Content-Type": "text/csv"},
        )  # fmt: skip
        assert report["refused"] == []

    def settled() -> bool:
        return all(v[5] is not None for v in payouts_by_id(stack).values() if v[2] == "DISBURSED")

    stack.wait_for(settled, 30, "settlements in the read model")

    # A bad settlement file is reported line by line and changes nothing.
    before = payouts_by_id(stack)
    good, other = to_collect[1], to_collect[2]
    bad = [
        SettlementLine(2, f"{PROGRAM}:{PERIOD}:NO-SUCH-HH", None, AMOUNT, "X-1", paid_at),
        SettlementLine(3, good, None, AMOUNT, references[good], paid_at),
        SettlementLine(4, good, None, AMOUNT, references[good], paid_at),
        SettlementLine(5, other, None, AMOUNT - 1, references[other], paid_at),
        SettlementLine(6, lost, None, AMOUNT, "POS-LOST", paid_at),
    ]
    report = api.ok(
        "POST", "payout", "/settlements?channel=POS&name=bad.csv", "CHANNEL_OPERATOR", REGENCY,
        content=write_settlement(bad), headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    codes = {r["line"]: r["code"] for r in report["refused"]}
    assert codes == {2: "UNKNOWN_PAYOUT", 4: "DUPLICATE_LINE", 5: "AMOUNT_DIFFERS", 6: "CANCELLED"}
    assert (report["accepted"], report["unchanged"]) == (0, 1)  # line 3: already settled
    again = api.ok(
        "POST", "payout", "/settlements?channel=POS&name=bad.csv", "CHANNEL_OPERATOR", REGENCY,
        content=write_settlement(bad), headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    assert again["already_imported"] is True
    assert payouts_by_id(stack) == before

    # After the last window the rest fail; each village's SPTJM backs reconciliation.
    failed = api.ok(
        "POST", "payout", f"/periods/{PROGRAM}/{PERIOD}/expiry", "REGENCY_OFFICER", REGENCY,
        json={"region": REGENCY, "as_of": "2025-12-09T00:00:00Z"},
    )["failed"]  # fmt: skip
    unpaid = set(pos[1:]) - set(references)
    assert failed == len(unpaid) > 0
    failed_villages = sorted({by_row[p.rsplit(":", 1)[1]]["village_code"] for p in unpaid})
    for n, village in enumerate(failed_villages):
        reference = f"SPTJM/{village}/2025/12"
        body = {
            "program": PROGRAM, "period": PERIOD, "village": village,
            "outcome": "REISSUED" if n % 3 == 0 else "RETURNED_TO_TREASURY",
            "sptjm_reference": reference, "payout_ids": None,
        }  # fmt: skip
        early = api.call(
            "POST", "payout", "/reconciliations", "REGENCY_OFFICER", REGENCY, json=body
        )
        assert early.status_code == 409 and early.json()["code"] == "NO_SPTJM"
        api.ok(
            "PUT", "payout", f"/sptjm/{PROGRAM}/{PERIOD}/villages/{village}", "VILLAGE_OPERATOR",
            village, json={"reference": reference},
        )  # fmt: skip
        clerk = api.call(
            "POST", "payout", "/reconciliations", "VILLAGE_OPERATOR", village, json=body
        )
        assert clerk.status_code == 403  # only a regency officer reconciles
        api.ok("POST", "payout", "/reconciliations", "REGENCY_OFFICER", REGENCY, json=body)

    # The totals balance to the rupiah.
    reconciled = "SELECT count(*) FROM payouts WHERE state = 'RECONCILED'"
    stack.wait_for(lambda: count(stack, "payout", reconciled) == len(unpaid), 30, "read model")
    final = payouts_by_id(stack)
    states = Counter(v[2] for v in final.values())
    assert states == {
        "DISBURSED": len(references) + len(bank) - 1,
        "RECONCILED": len(unpaid),
        "CANCELLED": 1,
    }
    answer = api.ok(
        "GET", "payout", f"/reports/reconciliation?program={PROGRAM}&period={PERIOD}"
        f"&region={REGENCY}", "REGENCY_OFFICER", REGENCY,
    )  # fmt: skip
    totals = answer["totals"]
    live = approved - 1
    assert totals["instructed_amount"] == live * AMOUNT
    assert totals["reported_amount"] == totals["settled_amount"] == (live - len(unpaid)) * AMOUNT
    assert totals["failed_amount"] == len(unpaid) * AMOUNT
    assert totals["outstanding_amount"] == 0
    mismatches = [m for row in answer["rows"] for m in row["mismatches"]]
    assert sorted(m["kind"] for m in mismatches) == ["AMOUNT_DIFFERS", "CANCELLED"]  # bad.csv
    assert [u["kind"] for u in answer["unplaced"]] == ["UNKNOWN_PAYOUT", "DUPLICATE_LINE"]

    # Consuming every input topic again from offset 0: no second payout, no new total.
    store = "SELECT max(notification_id) FROM payout_events"
    store_before, topic_before = (
        count(stack, "payout", store),
        len(stack.published("bansos.payout.v1")),
    )
    stack.processes["payout"].stop()
    consumed = stack.consumer_positions("payout")
    assert len(consumed) == 2 * 3  # both input topics, every partition
    stack.forget_consumed("payout")
    assert stack.consumer_positions("payout") == {}
    stack.start("payout")
    stack.wait_for(lambda: stack.consumer_positions("payout") == consumed, 120, "consumed again")
    assert count(stack, "payout", store) == store_before
    assert len(stack.published("bansos.payout.v1")) == topic_before
    assert payouts_by_id(stack) == final

    # All of it is in the audit trail, provably (see audit_checks).
    figures = check_audit_trail(stack)
    assert figures.households == HOUSEHOLDS and figures.decile_changes >= HOUSEHOLDS
