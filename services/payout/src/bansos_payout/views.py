"""The payout service's read models, derived from its event store and disposable.

- ``payouts``: one row per payout — the instruction (channel, amount, windows), what
  the channel reported, what the settlement file says, and how it ended;
- ``payout_beneficiaries``: households known from the registry, by district (summaries);
- ``payout_sptjm``: the SPTJM entered per village and program period;
- ``payout_file_lines``: every channel-file line that was refused, with why (the
  mismatches of the three-way reconciliation report);
- ``payout_files``: every imported channel file and its counts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from bansos_libs.views import Sql, View

PAYOUTS = "payouts"
BENEFICIARIES = "payout_beneficiaries"
SPTJM = "payout_sptjm"
FILES = "payout_files"
FILE_LINES = "payout_file_lines"


class PayoutView(View):
    """Payouts, beneficiaries, SPTJMs and channel files."""

    name = "payout_v1"

    def create_statements(self) -> Sequence[str]:
        return (
            f"CREATE TABLE IF NOT EXISTS {PAYOUTS} ("
            " payout_id TEXT PRIMARY KEY, household_id TEXT NOT NULL, program TEXT NOT NULL,"
            " period TEXT NOT NULL, village TEXT NOT NULL, district TEXT NOT NULL,"
            " regency TEXT NOT NULL, list_id TEXT NOT NULL, amount BIGINT NOT NULL,"
            " channel TEXT NOT NULL, bank TEXT, location TEXT, windows TEXT NOT NULL,"
            " attempt INTEGER NOT NULL, state TEXT NOT NULL, scheduled_at TEXT NOT NULL,"
            " reported_amount BIGINT, reported_reference TEXT, reported_at TEXT,"
            " reported_source TEXT, settled_amount BIGINT, settled_reference TEXT,"
            " settled_at TEXT, failure_reason TEXT, failure_detail TEXT, cancel_reason TEXT,"
            " caused_by TEXT, recovery_flagged INTEGER NOT NULL, outcome TEXT,"
            " sptjm_reference TEXT, updated_at TEXT NOT NULL, version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {PAYOUTS}_village ON {PAYOUTS} (program, period, village)",
            f"CREATE INDEX IF NOT EXISTS {PAYOUTS}_state ON {PAYOUTS} (program, period, state)",
            f"CREATE INDEX IF NOT EXISTS {PAYOUTS}_household ON {PAYOUTS} (household_id)",
            f"CREATE TABLE IF NOT EXISTS {BENEFICIARIES} ("
            " household_id TEXT PRIMARY KEY, village TEXT NOT NULL, district TEXT NOT NULL,"
            " regency TEXT NOT NULL, programs TEXT NOT NULL, bank TEXT, active INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {BENEFICIARIES}_district ON {BENEFICIARIES} (district)",
            f"CREATE TABLE IF NOT EXISTS {SPTJM} ("
            " program TEXT NOT NULL, period TEXT NOT NULL, village TEXT NOT NULL,"
            " reference TEXT NOT NULL, entered_by TEXT NOT NULL, entered_at TEXT NOT NULL,"
            " PRIMARY KEY (program, period, village))",
            f"CREATE TABLE IF NOT EXISTS {FILES} ("
            " file_key TEXT PRIMARY KEY, sha256 TEXT NOT NULL, kind TEXT NOT NULL,"
            " channel TEXT NOT NULL, name TEXT,"
            " lines INTEGER NOT NULL, accepted INTEGER NOT NULL, unchanged INTEGER NOT NULL,"
            " refused INTEGER NOT NULL, imported_by TEXT NOT NULL, imported_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {FILE_LINES} ("
            " file_key TEXT NOT NULL, line INTEGER NOT NULL, kind TEXT NOT NULL,"
            " channel TEXT NOT NULL, payout_id TEXT, village TEXT, code TEXT NOT NULL,"
            " message TEXT NOT NULL, amount BIGINT, scope TEXT, PRIMARY KEY (file_key, line))",
            f"CREATE INDEX IF NOT EXISTS {FILE_LINES}_village ON {FILE_LINES} (village)",
        )

    def drop_statements(self) -> Sequence[str]:
        return tuple(
            f"DROP TABLE IF EXISTS {table}"
            for table in (PAYOUTS, BENEFICIARIES, SPTJM, FILES, FILE_LINES)
        )

    def apply(self, sql: Sql, domain_event: Any) -> None:
        handler = _HANDLERS.get(type(domain_event).__qualname__)
        if handler is not None:
            handler(sql, domain_event)


def _update(sql: Sql, e: Any, **columns: Any) -> None:
    columns |= {"updated_at": e.timestamp.isoformat(), "version": e.originator_version}
    assignments = ", ".join(f"{name} = %s" for name in columns)
    sql.execute(
        f"UPDATE {PAYOUTS} SET {assignments} WHERE payout_id = %s",
        (*columns.values(), e.payout_id),
    )


def _scheduled(sql: Sql, e: Any) -> None:
    district, regency = e.village.rsplit(".", 1)[0], ".".join(e.village.split(".")[:2])
    sql.execute(
        f"INSERT INTO {PAYOUTS} (payout_id, household_id, program, period, village, district,"
        " regency, list_id, amount, channel, bank, location, windows, attempt, state,"
        " scheduled_at, recovery_flagged, updated_at, version) VALUES (%s, %s, %s, %s, %s,"
        " %s, %s, %s, %s, %s, %s, %s, %s, 1, 'SCHEDULED', %s, 0, %s, %s)"
        " ON CONFLICT (payout_id) DO NOTHING",
        (
            e.payout_id, e.household_id, e.program, e.period, e.village, district, regency,
            e.list_id, e.amount, e.channel, e.bank, e.location, json.dumps(e.windows),
            e.timestamp.isoformat(), e.timestamp.isoformat(), e.originator_version,
        ),
    )  # fmt: skip


def _rescheduled(sql: Sql, e: Any) -> None:
    s = e.schedule
    _update(
        sql, e, channel=s["channel"], bank=s["bank"], location=s["location"],
        windows=json.dumps(s["windows"]), attempt=e.attempt, state="SCHEDULED",
        cancel_reason=None, caused_by=None,
    )  # fmt: skip


def _disbursed(sql: Sql, e: Any) -> None:
    _update(
        sql, e, state="DISBURSED", reported_amount=e.amount,
        reported_reference=e.channel_reference, reported_at=e.at, reported_source=e.source,
    )  # fmt: skip


def _settled(sql: Sql, e: Any) -> None:
    _update(sql, e, settled_amount=e.amount, settled_reference=e.channel_reference, settled_at=e.at)


def _cancelled(sql: Sql, e: Any) -> None:
    _update(sql, e, state="CANCELLED", cancel_reason=e.reason, caused_by=e.caused_by)


def _recovery_flagged(sql: Sql, e: Any) -> None:
    _update(sql, e, recovery_flagged=1, cancel_reason=e.reason, caused_by=e.caused_by)


def _failed(sql: Sql, e: Any) -> None:
    _update(sql, e, state="FAILED", failure_reason=e.reason, failure_detail=e.detail)


def _reconciled(sql: Sql, e: Any) -> None:
    _update(sql, e, state="RECONCILED", outcome=e.outcome, sptjm_reference=e.sptjm_reference)


def _facts_recorded(sql: Sql, e: Any) -> None:
    f = e.facts
    if f is None:  # noted from a decision or a list, before the registry
        return
    district, regency = f["village"].rsplit(".", 1)[0], ".".join(f["village"].split(".")[:2])
    sql.execute(
        f"INSERT INTO {BENEFICIARIES} VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (household_id) DO UPDATE SET village = excluded.village,"
        " district = excluded.district, regency = excluded.regency,"
        " programs = excluded.programs, bank = excluded.bank, active = excluded.active",
        (
            e.household_id, f["village"], district, regency, ";".join(f["programs"]),
            f["bank"], int(bool(f["active"])),
        ),
    )  # fmt: skip


def _sptjm_entered(sql: Sql, e: Any) -> None:
    sql.execute(
        f"INSERT INTO {SPTJM} VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (program, period, village) DO NOTHING",
        (
            e.program, e.period, e.village, e.reference, e.actor.get("id") or "",
            e.timestamp.isoformat(),
        ),
    )  # fmt: skip


def _file_imported(sql: Sql, e: Any) -> None:
    # The region the import was confined to (None: national), from its key SHA256@REGION.
    scope = None if e.key.endswith("@national") else e.key.rsplit("@", 1)[1]
    sql.execute(
        f"INSERT INTO {FILES} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (file_key) DO NOTHING",
        (
            e.key, e.sha256, e.kind, e.channel, e.name, e.lines, e.accepted, e.unchanged,
            len(e.refused), e.actor.get("id") or "", e.timestamp.isoformat(),
        ),
    )  # fmt: skip
    sql.insert_many(
        FILE_LINES,
        (
            "file_key", "line", "kind", "channel", "payout_id", "village", "code", "message",
            "amount", "scope",
        ),
        [
            (
                e.key, r["line"], e.kind, e.channel, r.get("payout_id"), r.get("village"),
                r["code"], r["message"], r.get("amount"), scope,
            )
            for r in e.refused
        ],
        ("text", "integer", "text", "text", "text", "text", "text", "text", "bigint", "text"),
    )  # fmt: skip


_HANDLERS: dict[str, Callable[[Sql, Any], None]] = {
    "Payout.Scheduled": _scheduled,
    "Payout.Rerouted": _rescheduled,
    "Payout.Reinstated": _rescheduled,
    "Payout.Disbursed": _disbursed,
    "Payout.Settled": _settled,
    "Payout.Cancelled": _cancelled,
    "Payout.RecoveryFlagged": _recovery_flagged,
    "Payout.Failed": _failed,
    "Payout.Reconciled": _reconciled,
    "Beneficiary.Noted": _facts_recorded,
    "Beneficiary.FactsRecorded": _facts_recorded,
    "Sptjm.Entered": _sptjm_entered,
    "ChannelFile.Imported": _file_imported,
}
