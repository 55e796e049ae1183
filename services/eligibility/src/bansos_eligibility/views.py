"""The eligibility service's read models, derived from its event store and disposable.

- ``eligibility_decisions``: the current decision per household and program period,
  with the household's village (beneficiary lists, citizen status);
- ``eligibility_cases`` and ``eligibility_payouts``: what the citizen's status shows
  beside the decisions;
- ``eligibility_lists`` and ``eligibility_list_entries``: each village list's stage and
  every household's verdict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bansos_libs.views import Sql, View

DECISIONS = "eligibility_decisions"
CASES = "eligibility_cases"
PAYOUTS = "eligibility_payouts"
LISTS = "eligibility_lists"
ENTRIES = "eligibility_list_entries"

_PAYOUT_COLUMNS = (
    "program",
    "period",
    "state",
    "amount",
    "channel",
    "bank",
    "location",
    "windows",
    "reason",
    "updated_at",
)


class EligibilityView(View):
    """Decisions, cases, payouts and lists, one row per current thing."""

    name = "eligibility_v1"

    def create_statements(self) -> Sequence[str]:
        return (
            f"CREATE TABLE IF NOT EXISTS {DECISIONS} ("
            " household_id TEXT NOT NULL, program TEXT NOT NULL, period TEXT NOT NULL,"
            " status TEXT NOT NULL, previous_status TEXT, reasons TEXT NOT NULL,"
            " ruleset_id TEXT NOT NULL, ruleset_version INTEGER NOT NULL,"
            " ruleset_hash TEXT NOT NULL, village TEXT NOT NULL, decided_at TEXT NOT NULL,"
            " version INTEGER NOT NULL, PRIMARY KEY (household_id, program, period))",
            f"CREATE INDEX IF NOT EXISTS {DECISIONS}_list "
            f"ON {DECISIONS} (program, period, village, status)",
            f"CREATE TABLE IF NOT EXISTS {CASES} ("
            " household_id TEXT NOT NULL, case_id TEXT NOT NULL, kind TEXT, state TEXT NOT NULL,"
            " stage TEXT, outcome TEXT, effect TEXT NOT NULL, submitted_at TEXT NOT NULL,"
            " resolved_at TEXT, PRIMARY KEY (household_id, case_id))",
            f"CREATE TABLE IF NOT EXISTS {PAYOUTS} ("
            " payout_id TEXT PRIMARY KEY, household_id TEXT NOT NULL, program TEXT, period TEXT,"
            " state TEXT NOT NULL, amount BIGINT, channel TEXT, bank TEXT, location TEXT,"
            " windows TEXT, reason TEXT, updated_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {PAYOUTS}_household ON {PAYOUTS} (household_id)",
            f"CREATE TABLE IF NOT EXISTS {LISTS} ("
            " list_id TEXT PRIMARY KEY, program TEXT NOT NULL, period TEXT NOT NULL,"
            " village TEXT NOT NULL, stage TEXT NOT NULL, households INTEGER NOT NULL,"
            " excluded INTEGER NOT NULL, verified_by TEXT, verified_at TEXT,"
            " approved_by TEXT, approved_at TEXT, version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {LISTS}_village ON {LISTS} (village)",
            f"CREATE TABLE IF NOT EXISTS {ENTRIES} ("
            " list_id TEXT NOT NULL, household_id TEXT NOT NULL, verdict TEXT NOT NULL,"
            " note TEXT, PRIMARY KEY (list_id, household_id))",
        )

    def drop_statements(self) -> Sequence[str]:
        return tuple(
            f"DROP TABLE IF EXISTS {table}" for table in (DECISIONS, CASES, PAYOUTS, LISTS, ENTRIES)
        )

    def apply(self, sql: Sql, domain_event: Any) -> None:
        handler = _HANDLERS.get(type(domain_event).__qualname__)
        if handler is not None:
            handler(sql, domain_event)


def _decided(sql: Sql, e: Any) -> None:
    sql.execute(
        f"INSERT INTO {DECISIONS} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (household_id, program, period) DO UPDATE SET status = excluded.status,"
        " previous_status = excluded.previous_status, reasons = excluded.reasons,"
        " ruleset_id = excluded.ruleset_id, ruleset_version = excluded.ruleset_version,"
        " ruleset_hash = excluded.ruleset_hash, village = excluded.village,"
        " decided_at = excluded.decided_at, version = excluded.version",
        (
            e.household_id,
            e.program,
            e.period,
            e.status,
            e.previous_status,
            json.dumps(e.reason_codes),
            e.ruleset_id,
            e.ruleset_version,
            e.ruleset_hash,
            e.village,
            e.timestamp.isoformat(),
            e.originator_version,
        ),
    )


def _facts_recorded(sql: Sql, e: Any) -> None:
    # A household that moves village moves its decisions (and so its list) with it.
    sql.execute(
        f"UPDATE {DECISIONS} SET village = %s WHERE household_id = %s AND village <> %s",
        (e.facts["village"], e.household_id, e.facts["village"]),
    )


def _case_noted(sql: Sql, e: Any) -> None:
    c = e.case
    sql.execute(
        f"INSERT INTO {CASES} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (household_id, case_id) DO UPDATE SET kind = excluded.kind,"
        " state = excluded.state, stage = excluded.stage, outcome = excluded.outcome,"
        " effect = excluded.effect, resolved_at = excluded.resolved_at",
        (
            e.household_id,
            c["case_id"],
            c["kind"],
            c["state"],
            c["stage"],
            c["outcome"],
            c["effect"],
            c["submitted_at"],
            c["resolved_at"],
        ),
    )


def _payout_noted(sql: Sql, e: Any) -> None:
    p = dict(e.payout)
    if "windows" in p:
        p["windows"] = json.dumps(p["windows"])
    columns = [c for c in _PAYOUT_COLUMNS if c in p]
    names = ", ".join(["payout_id", "household_id", *columns])
    marks = ", ".join(["%s"] * (len(columns) + 2))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    sql.execute(
        f"INSERT INTO {PAYOUTS} ({names}) VALUES ({marks}) "
        f"ON CONFLICT (payout_id) DO UPDATE SET {updates}",
        (p["payout_id"], e.household_id, *(p[c] for c in columns)),
    )


def _actor(actor: dict[str, Any]) -> str:
    return f"{actor.get('role')}:{actor.get('id')}"


def _verified(sql: Sql, e: Any) -> None:
    sql.execute(
        f"INSERT INTO {LISTS} VALUES (%s, %s, %s, %s, 'VILLAGE_VERIFIED', %s, %s, %s, %s,"
        " NULL, NULL, %s) ON CONFLICT (list_id) DO UPDATE SET stage = excluded.stage,"
        " households = excluded.households, excluded = excluded.excluded,"
        " verified_by = excluded.verified_by, verified_at = excluded.verified_at,"
        " version = excluded.version",
        (
            e.list_id,
            e.program,
            e.period,
            e.village,
            len(e.household_ids),
            len(e.exclusions),
            _actor(e.actor),
            e.timestamp.isoformat(),
            e.originator_version,
        ),
    )
    sql.execute(f"DELETE FROM {ENTRIES} WHERE list_id = %s", (e.list_id,))
    rows = [(e.list_id, hid, "VALID", None) for hid in e.household_ids] + [
        (e.list_id, x["household_id"], x["reason"], x["note"]) for x in e.exclusions
    ]
    sql.insert_many(ENTRIES, ("list_id", "household_id", "verdict", "note"), rows, ("text",) * 4)


def _approved(sql: Sql, e: Any) -> None:
    sql.execute(
        f"UPDATE {LISTS} SET stage = 'REGENCY_APPROVED', approved_by = %s, approved_at = %s,"
        " version = %s WHERE list_id = %s",
        (_actor(e.actor), e.timestamp.isoformat(), e.originator_version, e.list_id),
    )


_HANDLERS = {
    "Assessment.Decided": _decided,
    "Assessment.FactsRecorded": _facts_recorded,
    "Assessment.CaseNoted": _case_noted,
    "Assessment.PayoutNoted": _payout_noted,
    "BeneficiaryList.Verified": _verified,
    "BeneficiaryList.Approved": _approved,
}
