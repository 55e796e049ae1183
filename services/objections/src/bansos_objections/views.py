"""The objections service's read models, derived from its event store and disposable.

- ``cases``: one row per case — kind, household, village (and its district and regency,
  for region scoping), the stage it awaits and when that stage's service level ends,
  who filed it, how many merged duplicates support it, and how it ended;
- ``case_steps``: every step of every case (filed, supported, each review, resolution),
  with who acted and when: the case's history for staff.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from bansos_libs.views import Sql, View
from bansos_objections.history import step_of

__all__ = ["CASES", "STEPS", "CaseView"]

CASES = "cases"
STEPS = "case_steps"


class CaseView(View):
    """Cases and their steps."""

    name = "objections_v1"

    def create_statements(self) -> Sequence[str]:
        return (
            f"CREATE TABLE IF NOT EXISTS {CASES} ("
            " case_id TEXT PRIMARY KEY, kind TEXT NOT NULL, household_id TEXT,"
            " village TEXT NOT NULL, district TEXT NOT NULL, regency TEXT NOT NULL,"
            " reason_code TEXT NOT NULL, chain TEXT NOT NULL, state TEXT NOT NULL,"
            " stage TEXT, stage_entered_at TEXT, due_at TEXT, filer_role TEXT NOT NULL,"
            " filer_id TEXT NOT NULL, supporters INTEGER NOT NULL, outcome TEXT, effect TEXT,"
            " submitted_at TEXT NOT NULL, resolved_at TEXT, updated_at TEXT NOT NULL,"
            " version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {CASES}_due ON {CASES} (state, due_at)",
            f"CREATE INDEX IF NOT EXISTS {CASES}_village ON {CASES} (village)",
            f"CREATE INDEX IF NOT EXISTS {CASES}_filer ON {CASES} (filer_id)",
            f"CREATE INDEX IF NOT EXISTS {CASES}_household ON {CASES} (household_id)",
            f"CREATE TABLE IF NOT EXISTS {STEPS} ("
            " case_id TEXT NOT NULL, version INTEGER NOT NULL, step TEXT NOT NULL,"
            " stage TEXT, outcome TEXT, actor_role TEXT NOT NULL, actor_id TEXT NOT NULL,"
            " at TEXT NOT NULL, notes TEXT NOT NULL, details TEXT NOT NULL,"
            " PRIMARY KEY (case_id, version))",
        )

    def drop_statements(self) -> Sequence[str]:
        return tuple(f"DROP TABLE IF EXISTS {table}" for table in (CASES, STEPS))

    def apply(self, sql: Sql, domain_event: Any) -> None:
        handler = _HANDLERS.get(type(domain_event).__qualname__)
        if handler is not None:
            handler(sql, domain_event)
            _step(sql, domain_event)


def _step(sql: Sql, e: Any) -> None:
    step = step_of(e)
    if step is None:
        return
    sql.execute(
        f"INSERT INTO {STEPS} (case_id, version, step, stage, outcome, actor_role, actor_id,"
        " at, notes, details) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (case_id, version) DO NOTHING",
        (
            step["case_id"], step["version"], step["step"], step["stage"], step["outcome"],
            step["actor"]["role"], step["actor"]["id"], step["at"], step["notes"],
            json.dumps(step["details"], sort_keys=True),
        ),
    )  # fmt: skip


def _update(sql: Sql, e: Any, **columns: Any) -> None:
    columns |= {"updated_at": e.at, "version": e.originator_version}
    assignments = ", ".join(f"{name} = %s" for name in columns)
    sql.execute(
        f"UPDATE {CASES} SET {assignments} WHERE case_id = %s", (*columns.values(), e.case_id)
    )


def _submitted(sql: Sql, e: Any) -> None:
    district, regency = e.village.rsplit(".", 1)[0], ".".join(e.village.split(".")[:2])
    sql.execute(
        f"INSERT INTO {CASES} (case_id, kind, household_id, village, district, regency,"
        " reason_code, chain, state, stage, stage_entered_at, due_at, filer_role, filer_id,"
        " supporters, submitted_at, updated_at, version) VALUES (%s, %s, %s, %s, %s, %s, %s,"
        " %s, 'OPEN', %s, %s, %s, %s, %s, 0, %s, %s, %s) ON CONFLICT (case_id) DO NOTHING",
        (
            e.case_id, e.kind, e.household_id, e.village, district, regency, e.reason_code,
            e.chain, e.stages[0]["stage"], e.at, e.due_at, e.filer["role"], e.filer["id"],
            e.at, e.at, e.originator_version,
        ),
    )  # fmt: skip


def _supported(sql: Sql, e: Any) -> None:
    sql.execute(
        f"UPDATE {CASES} SET supporters = supporters + 1, updated_at = %s, version = %s"
        " WHERE case_id = %s",
        (e.at, e.originator_version, e.case_id),
    )


def _reviewed(sql: Sql, e: Any) -> None:
    if e.next_stage is None:
        _update(sql, e)
    else:
        _update(sql, e, stage=e.next_stage, stage_entered_at=e.at, due_at=e.due_at)


def _resolved(sql: Sql, e: Any) -> None:
    _update(
        sql, e, state="RESOLVED", stage=None, due_at=None, outcome=e.outcome, effect=e.effect,
        resolved_at=e.at,
    )  # fmt: skip


_HANDLERS: dict[str, Callable[[Sql, Any], None]] = {
    "Case.Submitted": _submitted,
    "Case.Supported": _supported,
    "Case.Reviewed": _reviewed,
    "Case.Resolved": _resolved,
}
