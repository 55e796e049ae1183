"""The registry's read models: current households and their decile history.

Derived from the event store by ``bansos_libs.views`` and disposable: a rebuild from the
log gives the same rows. They hold no personal data except the keyed NIK hash, which
finds a household by NIK without storing the NIK.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bansos_libs.views import Sql, View

HOUSEHOLDS = "registry_households"
HISTORY = "registry_decile_history"


class HouseholdsView(View):
    """One row per household (its current state) and one per decile change."""

    name = "registry_households_v1"

    def create_statements(self) -> Sequence[str]:
        return (
            f"CREATE TABLE IF NOT EXISTS {HOUSEHOLDS} ("
            " household_id TEXT PRIMARY KEY, province TEXT NOT NULL, regency TEXT NOT NULL,"
            " district TEXT NOT NULL, village TEXT NOT NULL, decile INTEGER NOT NULL,"
            " member_count INTEGER NOT NULL, programs TEXT NOT NULL, bank TEXT,"
            " active INTEGER NOT NULL, deactivation_reason TEXT, fingerprint TEXT NOT NULL,"
            " nik_hash TEXT NOT NULL, snapshot_id TEXT NOT NULL, version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {HOUSEHOLDS}_village "
            f"ON {HOUSEHOLDS} (village, household_id)",
            f"CREATE INDEX IF NOT EXISTS {HOUSEHOLDS}_regency ON {HOUSEHOLDS} (regency, active)",
            f"CREATE INDEX IF NOT EXISTS {HOUSEHOLDS}_nik ON {HOUSEHOLDS} (nik_hash)",
            f"CREATE TABLE IF NOT EXISTS {HISTORY} ("
            " household_id TEXT NOT NULL, version INTEGER NOT NULL,"
            " previous_decile INTEGER, new_decile INTEGER NOT NULL, snapshot_id TEXT NOT NULL,"
            " as_of TEXT NOT NULL, recorded_at TEXT NOT NULL,"
            " PRIMARY KEY (household_id, version))",
        )

    def drop_statements(self) -> Sequence[str]:
        return (f"DROP TABLE IF EXISTS {HOUSEHOLDS}", f"DROP TABLE IF EXISTS {HISTORY}")

    def apply(self, sql: Sql, domain_event: Any) -> None:
        name = type(domain_event).__qualname__
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(sql, domain_event)


def _registered(sql: Sql, e: Any) -> None:
    f = e.facts
    sql.execute(
        f"INSERT INTO {HOUSEHOLDS} VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, 1, NULL, %s, %s, %s, %s)",
        (
            e.household_id,
            f["province_code"],
            f["regency_code"],
            f["district_code"],
            f["village_code"],
            e.decile,
            f["member_count"],
            ";".join(f["programs"]),
            f["bank"],
            e.fingerprint,
            e.nik_hash,
            e.snapshot_id,
            e.originator_version,
        ),
    )
    sql.execute(
        f"INSERT INTO {HISTORY} VALUES (%s, %s, NULL, %s, %s, %s, %s)",
        (
            e.household_id,
            e.originator_version,
            e.decile,
            e.snapshot_id,
            e.as_of,
            str(e.recorded_at),
        ),
    )


def _decile_changed(sql: Sql, e: Any) -> None:
    sql.execute(
        f"UPDATE {HOUSEHOLDS} SET decile = %s, fingerprint = %s, snapshot_id = %s, version = %s "
        "WHERE household_id = %s",
        (e.new_decile, e.fingerprint, e.snapshot_id, e.originator_version, e.household_id),
    )
    sql.execute(
        f"INSERT INTO {HISTORY} VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            e.household_id,
            e.originator_version,
            e.previous_decile,
            e.new_decile,
            e.snapshot_id,
            e.as_of,
            str(e.recorded_at),
        ),
    )


_COLUMNS = {
    "province_code": "province",
    "regency_code": "regency",
    "district_code": "district",
    "village_code": "village",
    "member_count": "member_count",
    "programs": "programs",
    "bank": "bank",
}


def _updated(sql: Sql, e: Any) -> None:
    sets, values = (
        ["fingerprint = %s", "snapshot_id = %s", "version = %s"],
        [
            e.fingerprint,
            e.snapshot_id,
            e.originator_version,
        ],
    )
    for field, (_old, new) in e.changes.items():
        if field in _COLUMNS:
            sets.append(f"{_COLUMNS[field]} = %s")
            values.append(";".join(new) if isinstance(new, list) else new)
    sql.execute(
        f"UPDATE {HOUSEHOLDS} SET {', '.join(sets)} WHERE household_id = %s",
        (*values, e.household_id),
    )


def _set(columns: str, *attributes: str) -> Any:
    def apply(sql: Sql, e: Any) -> None:
        sql.execute(
            f"UPDATE {HOUSEHOLDS} SET {columns}, version = %s WHERE household_id = %s",
            (*(getattr(e, a) for a in attributes), e.originator_version, e.household_id),
        )

    return apply


_HANDLERS = {
    "Household.Registered": _registered,
    "Household.DecileChanged": _decile_changed,
    "Household.Updated": _updated,
    "Household.PersonalDataCorrected": _set(
        "nik_hash = %s, fingerprint = %s", "nik_hash", "fingerprint"
    ),
    "Household.FingerprintNoted": _set("fingerprint = %s", "fingerprint"),
    "Household.Deactivated": _set(
        "active = 0, deactivation_reason = %s, snapshot_id = %s", "reason", "snapshot_id"
    ),
    "Household.Reactivated": _set(
        "active = 1, deactivation_reason = NULL, fingerprint = %s, snapshot_id = %s",
        "fingerprint",
        "snapshot_id",
    ),
}
