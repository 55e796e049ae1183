"""Registry → Kafka → eligibility on real Kafka and PostgreSQL, services run as processes.

For a generated regency: the ELIGIBLE sets are exactly what the programs' rules say
(computed here from the snapshot file, independently of the engine); a decile change
3→6 makes a household INELIGIBLE with ``DECILE_ABOVE_MAX`` and 6→2 ELIGIBLE again, and
the citizen sees it; consuming every topic again from offset 0 changes nothing.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from bansos_contracts.eligibility import EligibilityDecided
from bansos_registry.sample import SampleSpec, write_snapshot
from tests.integration.services import ServiceStack

pytestmark = pytest.mark.integration

HOUSEHOLDS = 600
PROGRAMS = 4
BLTS = ("BLTS_KESRA", "2025-10..2025-12")
POVERTY_LINE = 609_160


def _eligible(stack: ServiceStack, program: str) -> set[str]:
    rows = stack.query(
        "eligibility",
        "SELECT household_id FROM eligibility_decisions WHERE program = %s AND status = 'ELIGIBLE'",
        (program,),
    )
    return {r[0] for r in rows}


def _decided(stack: ServiceStack) -> int:
    return int(stack.query("eligibility", "SELECT count(*) FROM eligibility_decisions")[0][0])


def _blts_of(stack: ServiceStack, household_id: str) -> tuple[str, str]:
    rows = stack.query(
        "eligibility",
        "SELECT status, reasons FROM eligibility_decisions "
        "WHERE household_id = %s AND program = %s AND period = %s",
        (household_id, *BLTS),
    )
    return (rows[0][0], rows[0][1]) if rows else ("", "")


def _published(stack: ServiceStack) -> list[EligibilityDecided]:
    events = stack.published("bansos.eligibility.v1")
    return [e for e in events if isinstance(e, EligibilityDecided)]


def _status(stack: ServiceStack, row: dict[str, str], name: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{stack.url('eligibility')}/status",
        json={
            "nik": row["head_nik"],
            "name": name or row["head_name"],
            "village": row["village_code"],
        },
        timeout=10,
    )


def test_decisions_follow_the_rules_and_the_register(stack: ServiceStack) -> None:
    snapshot = stack.folder / "sample.csv"
    write_snapshot(snapshot, SampleSpec(households=HOUSEHOLDS, seed=11))
    with snapshot.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stack.import_snapshot(rows, "S-1", 1)
    stack.start("registry")
    stack.start("eligibility")
    stack.wait_for(lambda: _decided(stack) == HOUSEHOLDS * PROGRAMS, 120, "first decisions")

    # The rules, written out here from DOMAIN.md, against the engine's decisions.
    decile = {r["household_id"]: int(r["decile"]) for r in rows}
    assert _eligible(stack, "BLTS_KESRA") == {h for h, d in decile.items() if d <= 4}
    flags = (
        "has_elderly",
        "has_disability",
        "has_child_under6",
        "has_school_child",
        "has_pregnant",
    )
    assert _eligible(stack, "BPNT") == {
        r["household_id"]
        for r in rows
        if int(r["decile"]) <= 4
        and any(r[f] == "1" for f in flags)
        and int(r["per_capita_income"]) < POVERTY_LINE
        and "PKH" not in r["programs"].split(";")
    }
    assert _eligible(stack, "PBI_JKN") == {
        r["household_id"]
        for r in rows
        if int(r["decile"]) <= 5 and (r["pbi_jkn"] == "1" or "PBI_JKN" in r["programs"])
    }
    first = _published(stack)
    assert len(first) == HOUSEHOLDS * PROGRAMS  # a first decision for every program period
    assert all(e.previous_status is None for e in first)

    # A decile change 3 -> 6, then 6 -> 2, through two later snapshots.
    row = next(r for r in rows if r["decile"] == "3")
    household = row["household_id"]
    assert _status(stack, row).json()["head_name"] != row["head_name"]  # masked
    row["decile"] = "6"
    stack.import_snapshot(rows, "S-2", 2)
    stack.wait_for(lambda: _blts_of(stack, household)[0] == "INELIGIBLE", 30, "3 -> 6")
    assert '"DECILE_ABOVE_MAX"' in _blts_of(stack, household)[1]
    answer = _status(stack, row).json()
    blts = next(p for p in answer["programs"] if p["program"] == "BLTS_KESRA")
    assert blts["status"] == "INELIGIBLE"
    assert blts["reasons"][0]["code"] == "DECILE_ABOVE_MAX"
    assert "6" in blts["reasons"][0]["text"]["id"]
    row["decile"] = "2"
    stack.import_snapshot(rows, "S-3", 3)
    stack.wait_for(lambda: _blts_of(stack, household)[0] == "ELIGIBLE", 30, "6 -> 2")
    changes = [
        e for e in _published(stack) if e.household_id == household and e.program == "BLTS_KESRA"
    ]
    assert [(e.previous_status, e.status) for e in changes] == [
        (None, "ELIGIBLE"),
        ("ELIGIBLE", "INELIGIBLE"),
        ("INELIGIBLE", "ELIGIBLE"),
    ]
    assert [(r.code, r.detail) for r in changes[1].reason_codes] == [("DECILE_ABOVE_MAX", "6>4")]
    assert changes[1].inputs.decile == 6

    # bansosctl status, the staff way (by NIK alone) and the citizen's way, agree.
    staff = _bansosctl_status(stack, "--nik", row["head_nik"])
    citizen = _bansosctl_status(
        stack,
        "--nik",
        row["head_nik"],
        "--name",
        row["head_name"],
        "--village",
        row["village_code"],
    )
    assert staff["programs"] == citizen["programs"]
    assert {p["program"]: p["status"] for p in staff["programs"]}["BLTS_KESRA"] == "ELIGIBLE"

    # The citizen check answers nothing to a wrong name or village, and the same nothing.
    wrong_name = _status(stack, row, name="SOMEBODY ELSE")
    other = dict(
        row,
        village_code="35.17.01.2001" if row["village_code"] != "35.17.01.2001" else "35.17.01.2002",
    )
    wrong_village = _status(stack, other)
    assert wrong_name.status_code == wrong_village.status_code == 404
    assert wrong_name.content == wrong_village.content
    assert row["head_nik"] not in wrong_name.text

    # Consuming every topic again from offset 0 changes nothing.
    store_before = _store_position(stack)
    published_before = len(_published(stack))
    stack.processes["eligibility"].stop()
    consumed = stack.consumer_positions("eligibility")
    assert consumed  # the registry topic's partitions at least
    stack.forget_consumed("eligibility")
    assert stack.consumer_positions("eligibility") == {}
    stack.start("eligibility")
    stack.wait_for(
        lambda: stack.consumer_positions("eligibility") == consumed, 120, "consumed again"
    )
    assert _store_position(stack) == store_before
    assert len(_published(stack)) == published_before


def _store_position(stack: ServiceStack) -> int:
    return int(
        stack.query("eligibility", "SELECT max(notification_id) FROM eligibility_events")[0][0]
    )


def _bansosctl_status(stack: ServiceStack, *args: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "BANSOS_REGISTRY_URL": stack.url("registry"),
        "BANSOS_ELIGIBILITY_URL": stack.url("eligibility"),
        "BANSOS_AUTH_DEV_KEY_FILE": str(stack.key_file),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bansosctl", "status", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert args[1] not in done.stdout + done.stderr  # the NIK is never printed
    result: dict[str, Any] = json.loads(done.stdout)
    return result
