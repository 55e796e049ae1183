"""``make run``'s period: the sample regency through one BLTS Kesra period, over HTTP.

Everything goes through the services' public APIs with development staff tokens, as
the people of DOMAIN.md would act: each village operator verifies the village's list
(Musdesus), a regency officer approves it, the payout service schedules the payouts;
citizens file refusals and objections that staff review (``demo_cases``), and the upheld
ones cancel their households' payouts;
PT Pos counters collect most, the banks credit most (a few credits are rejected and fall
back to PT Pos), settlement files come in; after the last window the rest fail, each
village enters its SPTJM and the regency reconciles. Every step is idempotent (fixed
references, deterministic choices), so running it again changes nothing.

Then it prints a summary per district and where to look next.
"""

from __future__ import annotations

import csv
import hashlib
import os
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bansos_libs.auth import AuthSettings, issuer_from_settings
from bansosctl.demo_cases import run_cases, wait_cancelled

PROGRAM, PERIOD = "BLTS_KESRA", "2025-10..2025-12"
REGENCY = "35.17"
COLLECTED_AT = "2025-11-25T03:00:00Z"
EXPIRY = "2025-12-09T00:00:00Z"
SHARE_COLLECTED = 0.85
SHARE_REJECTED = 0.03


def _share(payout_id: str) -> float:
    """A deterministic number in [0, 1) per payout: who collects, whose credit fails."""
    return int(hashlib.sha256(payout_id.encode()).hexdigest()[:8], 16) / 2**32


class Staff:
    """HTTP calls to the local services with development tokens."""

    def __init__(self) -> None:
        self.issuer = issuer_from_settings(AuthSettings())
        self.http = httpx.Client(timeout=120)
        self.ports = {
            name: int(os.environ.get(f"BANSOS_{name.upper()}_PORT", port))
            for name, port in (
                ("registry", 8101),
                ("objections", 8102),
                ("eligibility", 8103),
                ("payout", 8104),
            )
        }

    def call(self, method: str, service: str, path: str, role: str, region: str, **kw: Any) -> Any:
        token = self.issuer.mint(role=role, region=region, subject=f"demo-{role.lower()}-{region}")
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        url = f"http://127.0.0.1:{self.ports[service]}{path}"
        answer = self.http.request(method, url, headers=headers, **kw)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if "json" in answer.headers.get("content-type", "") else answer.text


def _wait(what: str, done: Any, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(1)


def run_period(
    staff: Staff, sample: list[dict[str, str]], villages: list[str], console: Console
) -> None:
    """Take the sample regency through the period (see the module's docstring)."""

    def decided() -> bool:
        rows = staff.call("GET", "eligibility", f"/summary?region={REGENCY}", "AUDITOR", REGENCY)
        blts = [r for r in rows if r["program"] == PROGRAM]
        return bool(blts) and blts[0].get("eligible", 0) + blts[0].get("ineligible", 0) >= len(
            sample
        )

    _wait("eligibility decisions", decided)
    approved = 0
    for village in villages:
        path = f"/lists/{PROGRAM}/{PERIOD}/villages/{village}"
        state = staff.call("GET", "eligibility", path, "VILLAGE_OPERATOR", village)
        if not state["eligible"] and state["stage"] is None:
            continue
        if state["stage"] is None:
            staff.call(
                "POST", "eligibility", path + "/verification", "VILLAGE_OPERATOR", village,
                json={"valid": state["eligible"], "excluded": [], "notes": "Musdesus (demo)"},
            )  # fmt: skip
        if state["stage"] != "REGENCY_APPROVED":
            state = staff.call(
                "POST", "eligibility", path + "/approval", "REGENCY_OFFICER", REGENCY, json={}
            )
        approved += len([e for e in state["entries"] if e.get("verdict") == "VALID"])
    console.print(f"  lists verified by {len(villages)} villages and approved by the regency")

    _wait("payouts scheduled", lambda: len(_payouts(staff)) >= approved)
    payouts = _payouts(staff)
    console.print(f"  {len(payouts):,} payouts scheduled")
    cancelled = run_cases(staff, sample, payouts, _share, console)
    wait_cancelled(staff, cancelled)
    console.print(f"  {len(cancelled)} payouts cancelled by upheld cases")
    payouts = _payouts(staff)
    _collect(staff, payouts)
    _banks(staff, payouts)
    _settle(staff)
    staff.call(
        "POST", "payout", f"/periods/{PROGRAM}/{PERIOD}/expiry", "REGENCY_OFFICER", REGENCY,
        json={"region": REGENCY, "as_of": EXPIRY},
    )  # fmt: skip
    for village in sorted({p["village"] for p in _payouts(staff, "FAILED")}):
        reference = f"SPTJM/{village}/2025/12"
        staff.call(
            "PUT", "payout", f"/sptjm/{PROGRAM}/{PERIOD}/villages/{village}", "VILLAGE_OPERATOR",
            village, json={"reference": reference},
        )  # fmt: skip
        staff.call(
            "POST", "payout", "/reconciliations", "REGENCY_OFFICER", REGENCY,
            json={
                "program": PROGRAM, "period": PERIOD, "village": village,
                "outcome": "RETURNED_TO_TREASURY", "sptjm_reference": reference,
                "payout_ids": None,
            },
        )  # fmt: skip


def _payouts(staff: Staff, state: str | None = None) -> list[dict[str, Any]]:
    """Every payout of the regency for the period (in a state), page by page."""
    rows: list[dict[str, Any]] = []
    query = f"program={PROGRAM}&period={PERIOD}&village={REGENCY}"
    if state:
        query += f"&state={state}"
    while True:
        page = staff.call(
            "GET", "payout", f"/payouts?{query}&limit=1000&offset={len(rows)}",
            "REGENCY_OFFICER", REGENCY,
        )  # fmt: skip
        rows += page
        if len(page) < 1000:
            return rows


def _collect(staff: Staff, payouts: list[dict[str, Any]]) -> None:
    for p in payouts:
        if p["channel"] != "POS" or p["state"] != "SCHEDULED":
            continue
        if _share(p["payout_id"]) >= SHARE_COLLECTED:
            continue
        letter = staff.call(
            "GET", "payout", f"/payouts/{p['payout_id']}/invitation", "VILLAGE_OPERATOR",
            p["village"],
        )  # fmt: skip
        staff.call(
            "POST", "payout", "/collections", "CHANNEL_OPERATOR", REGENCY,
            json={
                "payout_id": p["payout_id"], "collection_code": letter["collection_code"],
                "amount": p["amount"], "channel_reference": _reference(p["payout_id"]),
                "collected_at": COLLECTED_AT,
            },
        )  # fmt: skip


def _reference(payout_id: str) -> str:
    return "POS-" + hashlib.sha256(payout_id.encode()).hexdigest()[:12].upper()


def _banks(staff: Staff, payouts: list[dict[str, Any]]) -> None:
    for bank in sorted({p["bank"] for p in payouts if p["bank"]}):
        text = staff.call(
            "GET", "payout", f"/banks/{bank}/credit-instructions?program={PROGRAM}"
            f"&period={PERIOD}&region={REGENCY}", "CHANNEL_OPERATOR", REGENCY,
        )  # fmt: skip
        lines = list(csv.DictReader(text.splitlines()))
        if not lines:
            continue
        rows = ["payout_id,amount,status,reason,bank_reference,processed_at"]
        for line in lines:
            rejected = _share(line["payout_id"]) < SHARE_REJECTED
            status, reason = ("REJECTED", "ACCOUNT_INVALID") if rejected else ("CREDITED", "")
            reference = f"{bank}-{_reference(line['payout_id'])[4:]}"
            rows.append(
                f"{line['payout_id']},{line['amount']},{status},{reason},{reference},"
                "2025-11-24T02:00:00Z"
            )
        staff.call(
            "POST", "payout", f"/banks/{bank}/results?name={bank}-result.csv", "CHANNEL_OPERATOR",
            REGENCY, content="\n".join(rows) + "\n", headers={"Content-Type": "text/csv"},
        )  # fmt: skip


def _settle(staff: Staff) -> None:
    """Each channel's settlement file: what it reported, as its own books have it."""
    rows = _payouts(staff, "DISBURSED")
    by_channel: dict[str, list[str]] = {}
    for p in rows:
        channel = "POS" if p["channel"] == "POS" else p["bank"]
        by_channel.setdefault(channel, []).append(
            f"{p['payout_id']},,{p['reported_amount']},{p['reported_reference']},"
            f"{_utc(p['reported_at'])}"
        )
    for channel, lines in sorted(by_channel.items()):
        body = "payout_id,collection_code,amount,channel_reference,paid_at\n" + "\n".join(lines)
        staff.call(
            "POST", "payout", f"/settlements?channel={channel}&name={channel}-settlement.csv",
            "CHANNEL_OPERATOR", REGENCY, content=body + "\n", headers={"Content-Type": "text/csv"},
        )  # fmt: skip


def _utc(stamp: str) -> str:
    return datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def print_summary(staff: Staff, console: Console) -> None:
    """Households, eligible, paid by channel, failed and rupiah per district."""
    rows = staff.call(
        "GET", "payout", f"/summary?program={PROGRAM}&period={PERIOD}&region={REGENCY}",
        "REGENCY_OFFICER", REGENCY,
    )  # fmt: skip
    table = Table(title=f"BLTS Kesra {PERIOD} in regency {REGENCY}, per district")
    for column in (
        "district", "households", "eligible", "paid: bank", "PT Pos", "Rp million", "failed",
        "Rp million", "cancelled",
    ):  # fmt: skip
        table.add_column(column, justify="left" if column == "district" else "right")
    totals: dict[str, int] = {}
    for row in rows:
        district = row["district"]
        summary = staff.call(
            "GET", "eligibility", f"/summary?region={district}", "AUDITOR", REGENCY
        )
        eligible = next((s.get("eligible", 0) for s in summary if s["program"] == PROGRAM), 0)
        values = {
            "households": row["households"], "eligible": eligible, "bank": row["paid_bank"],
            "pos": row["paid_pos"], "paid": row["paid_amount"], "failed": row["failed"],
            "returned": row["failed_amount"], "cancelled": row["cancelled"],
        }  # fmt: skip
        for key, value in values.items():
            totals[key] = totals.get(key, 0) + int(value)
        table.add_row(district, *_cells(values))
    table.add_row("total", *_cells(totals), style="bold")
    console.print(table)
    console.print(
        "Next: .venv/bin/bansosctl payouts report --region 35.17   (three-way reconciliation)\n"
        "      .venv/bin/bansosctl payouts list --village 35.17.01.2001\n"
        "      http://127.0.0.1:8104/docs   (payout API)"
    )


def _cells(values: dict[str, int]) -> list[str]:
    rupiah = ("paid", "returned")
    return [f"{v / 1e6:,.1f}" if k in rupiah else f"{v:,}" for k, v in values.items()]


def main() -> None:
    """``python -m bansosctl.demo SAMPLE.csv``: the period, then the summary."""
    import sys

    console = Console(width=max(Console().width, 100))
    with open(sys.argv[1], encoding="utf-8", newline="") as handle:
        sample = list(csv.DictReader(handle))
    villages = sorted({row["village_code"] for row in sample})
    staff = Staff()
    console.print(f"A BLTS Kesra period for the sample regency ({len(sample):,} households):")
    run_period(staff, sample, villages, console)
    print_summary(staff, console)


if __name__ == "__main__":
    main()
